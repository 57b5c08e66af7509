/**
 * IAM's evaluation of identity-based policies as the local gateway replays it, rule by rule from
 * IAM's policy evaluation logic and element reference (cited in `local/iam/policy.ts`).
 */
import test from "ava";
import { checkPolicy, evaluate, type PolicyStatement, UnsupportedPolicyError } from "../../../../local/iam/policy";

const TABLE = "arn:aws:dynamodb:us-east-1:000000000000:table/connections";

test("an Allow that matches action and resource allows; anything else is denied implicitly", (t) => {
  const policy: PolicyStatement[] = [{ Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: TABLE }];

  t.is(evaluate(policy, { action: "dynamodb:GetItem", resource: TABLE }), "allowed");
  t.is(evaluate(policy, { action: "dynamodb:DeleteItem", resource: TABLE }), "implicitly-denied");
  t.is(evaluate(policy, { action: "dynamodb:GetItem", resource: `${TABLE}-other` }), "implicitly-denied");
  t.is(evaluate([], { action: "dynamodb:GetItem", resource: TABLE }), "implicitly-denied");
});

test("an index is a resource of its own: the table's grant does not reach it", (t) => {
  const policy: PolicyStatement[] = [{ Effect: "Allow", Action: "dynamodb:Query", Resource: TABLE }];

  t.is(evaluate(policy, { action: "dynamodb:Query", resource: `${TABLE}/index/byRoom` }), "implicitly-denied");
});

test("actions match whatever their case, resources only in theirs; * and ? are wildcards, other characters literal", (t) => {
  const policy: PolicyStatement[] = [
    {
      Effect: "Allow",
      Action: "execute-api:manageconnections",
      Resource: "arn:aws:execute-api:*:*:abc/dev/POST/@connections/*",
    },
    { Effect: "Allow", Action: "dynamodb:Get?tem", Resource: "arn:aws:dynamodb:*:*:table/a.b" },
  ];
  const post = "arn:aws:execute-api:us-east-1:000000000000:abc/dev/POST/@connections/X=";

  t.is(evaluate(policy, { action: "execute-api:ManageConnections", resource: post }), "allowed");
  t.is(
    evaluate(policy, { action: "execute-api:ManageConnections", resource: post.replace("POST", "DELETE") }),
    "implicitly-denied",
  );
  t.is(
    evaluate(policy, { action: "execute-api:ManageConnections", resource: post.replace("abc", "ABC") }),
    "implicitly-denied",
  );
  t.is(evaluate(policy, { action: "dynamodb:GetItem", resource: "arn:aws:dynamodb:us-east-1:0:table/a.b" }), "allowed");
  t.is(
    evaluate(policy, { action: "dynamodb:GetItem", resource: "arn:aws:dynamodb:us-east-1:0:table/aXb" }),
    "implicitly-denied",
  );
});

test("an explicit Deny wins over any Allow", (t) => {
  const policy: PolicyStatement[] = [
    { Effect: "Allow", Action: "*", Resource: "*" },
    { Effect: "Deny", Action: "dynamodb:DeleteItem", Resource: TABLE },
  ];

  t.is(evaluate(policy, { action: "dynamodb:DeleteItem", resource: TABLE }), "explicitly-denied");
  t.is(evaluate(policy, { action: "dynamodb:PutItem", resource: TABLE }), "allowed");
});

test("ForAllValues:StringLike on dynamodb:LeadingKeys: every key must match, and a request with none (a Scan) passes", (t) => {
  // The broadcast worker's claims: partition keys ending in #fanout.
  const policy: PolicyStatement[] = [
    {
      Effect: "Allow",
      Action: "dynamodb:PutItem",
      Resource: TABLE,
      Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["*#fanout"] } },
    },
  ];
  const put = (keys?: string[]) =>
    evaluate(policy, {
      action: "dynamodb:PutItem",
      resource: TABLE,
      context: keys && { "dynamodb:leadingkeys": keys },
    });

  t.is(put(["m1#0.0#fanout"]), "allowed");
  t.is(put(["api#dev#lobby"]), "implicitly-denied");
  t.is(put(["m1#0.0#fanout", "api#dev#lobby"]), "implicitly-denied");
  t.is(put(), "allowed", "no context key: ForAllValues holds");
});

test("ForAnyValue needs one match; a single-valued operator fails on a missing key unless negated; Null tests presence", (t) => {
  const statement = (Condition: PolicyStatement["Condition"]): PolicyStatement[] => [
    { Effect: "Allow", Action: "*", Resource: "*", ...(Condition && { Condition }) },
  ];
  const decide = (policy: PolicyStatement[], context: Record<string, string | string[] | undefined>) =>
    evaluate(policy, { action: "s3:GetObject", resource: "x", context });

  const any = statement({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["a", "b"] } });
  t.is(decide(any, { "aws:TagKeys": ["z", "b"] }), "allowed");
  t.is(decide(any, {}), "implicitly-denied");
  const equals = statement({ StringEquals: { "aws:SourceAccount": "000000000000" } });
  t.is(decide(equals, { "AWS:SOURCEACCOUNT": "000000000000" }), "allowed", "keys match whatever their case");
  t.is(decide(equals, {}), "implicitly-denied");
  t.is(decide(statement({ StringNotEquals: { "aws:SourceAccount": "1" } }), {}), "allowed");
  t.is(decide(statement({ Null: { "aws:SourceAccount": "true" } }), {}), "allowed");
  t.is(decide(statement({ Null: { "aws:SourceAccount": "false" } }), {}), "implicitly-denied");
  t.is(decide(statement({ Bool: { "aws:SecureTransport": "true" } }), { "aws:SecureTransport": "TRUE" }), "allowed");
});

test("a policy the replay cannot evaluate faithfully is refused when the role is made, naming what", (t) => {
  const refused = (policy: object[]) =>
    t.throws(() => checkPolicy(policy as PolicyStatement[]), { instanceOf: UnsupportedPolicyError })?.message;

  t.regex(refused([{ Effect: "Allow", NotAction: "s3:*", Resource: "*" }]) ?? "", /NotAction/);
  t.regex(
    refused([
      { Effect: "Allow", Action: "*", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "1.2.3.4" } } },
    ]) ?? "",
    /IpAddress is not replayed/,
  );
  t.regex(refused([{ Effect: "allow", Action: "*", Resource: "*" }]) ?? "", /Effect must be Allow or Deny/);
  t.notThrows(() => checkPolicy([{ Effect: "Allow", Action: "*", Resource: "*" }]));
});

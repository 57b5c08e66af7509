/**
 * Each function's execution role as its template declares it, as the IAM statements the local
 * gateway evaluates for the function's calls (`local/iam/`):
 * - SAM's `Policies`: inline policy documents; the policy templates a WebSocket app uses
 *   (`DynamoDBCrudPolicy`, `DynamoDBReadPolicy`, `DynamoDBWritePolicy`, `LambdaInvokePolicy`),
 *   expanded as SAM's `policy_templates.json` defines them; and AWS managed policies this table
 *   knows. SAM adds `AWSLambdaBasicExecutionRole` to every role it makes.
 *   https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-templates.html
 * - A `Role` that is an `AWS::IAM::Role` of the template (`!GetAtt R.Arn`): its `Policies`, its
 *   `ManagedPolicyArns`, and each `AWS::IAM::Policy` whose `Roles` name it, as CDK writes them.
 * What cannot be known here (a role from outside the template, a managed policy or policy template
 * not in these tables) leaves the function unchecked, signing as the operator, with a line saying so.
 */
import type { PolicyStatement } from "../../iam/policy";
import type { Stack } from "./stack";

const TABLE = (name: string) => [`table/${name}`, `table/${name}/index/*`];
const DYNAMODB_READ = ["GetItem", "Scan", "Query", "BatchGetItem", "DescribeTable"];
const DYNAMODB_WRITE = ["PutItem", "UpdateItem", "BatchWriteItem"];

/** SAM's policy templates: actions, and the resources (after `arn:aws:{service}:{region}:{account}:`) each parameter gives. */
const POLICY_TEMPLATES: Record<string, { service: string; actions: string[]; resources: (value: string) => string[] }> =
  {
    DynamoDBCrudPolicy: {
      service: "dynamodb",
      actions: [...DYNAMODB_READ, "DeleteItem", ...DYNAMODB_WRITE, "ConditionCheckItem"],
      resources: TABLE,
    },
    DynamoDBReadPolicy: { service: "dynamodb", actions: DYNAMODB_READ, resources: TABLE },
    DynamoDBWritePolicy: { service: "dynamodb", actions: DYNAMODB_WRITE, resources: TABLE },
    LambdaInvokePolicy: { service: "lambda", actions: ["InvokeFunction"], resources: (name) => [`function:${name}*`] },
  };
/** The templates' one parameter each. */
const TEMPLATE_PARAMETER: Record<string, string> = {
  DynamoDBCrudPolicy: "TableName",
  DynamoDBReadPolicy: "TableName",
  DynamoDBWritePolicy: "TableName",
  LambdaInvokePolicy: "FunctionName",
};

const allow = (Action: string[], Resource: string | string[] = "*"): PolicyStatement => ({
  Effect: "Allow",
  Action,
  Resource,
});
const BASIC_EXECUTION = [allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])];
/** AWS managed policies, by name, as far as a WebSocket app's functions call what they allow. */
const MANAGED_POLICIES: Record<string, PolicyStatement[]> = {
  AWSLambdaBasicExecutionRole: BASIC_EXECUTION,
  AWSLambdaExecute: [
    allow(["logs:*"], "arn:aws:logs:*:*:*"),
    allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::*"),
  ],
  AmazonDynamoDBFullAccess: [allow(["dynamodb:*"])],
  AmazonDynamoDBReadOnlyAccess: [
    allow(["dynamodb:BatchGetItem", "dynamodb:Describe*", "dynamodb:List*", "dynamodb:GetItem", "dynamodb:Query"]),
    allow(["dynamodb:Scan", "dynamodb:PartiQLSelect"]),
  ],
  AmazonAPIGatewayInvokeFullAccess: [
    allow(["execute-api:Invoke", "execute-api:ManageConnections"], "arn:aws:execute-api:*:*:*"),
  ],
  AdministratorAccess: [allow(["*"])],
};

/** Why a role cannot be read: the function then acts as the operator. */
class UnknownRole extends Error {}

/** The statements of `logicalId`'s role, or `undefined` (with a line in `notes`) when they cannot be known. */
export function functionPolicy(
  stack: Stack,
  logicalId: string,
  properties: Record<string, unknown>,
  notes: string[],
): PolicyStatement[] | undefined {
  const sam = stack.resources.get(logicalId)?.Type === "AWS::Serverless::Function";
  try {
    if (properties.Role !== undefined) return roleStatements(stack, properties.Role);
    if (!sam) throw new UnknownRole("no Role");
    const policies = stack.resolve(properties.Policies ?? []);
    return [
      ...BASIC_EXECUTION,
      ...[policies].flat().flatMap((policy) => samPolicy(stack, policy)),
    ] as PolicyStatement[];
  } catch (error) {
    if (!(error instanceof UnknownRole)) throw error;
    notes.push(
      `function ${stack.physicalName(logicalId)}: ${error.message}: its role is not enforced, it may call anything`,
    );
    return undefined;
  }
}

/** One entry of SAM's `Policies`: a managed policy's name or ARN, a policy template, or a policy document. */
function samPolicy(stack: Stack, policy: unknown): PolicyStatement[] {
  if (typeof policy === "string") return managed(policy);
  if (typeof policy !== "object" || policy === null) throw new UnknownRole(`policy ${JSON.stringify(policy)}`);
  const document = policy as { Statement?: unknown };
  if (document.Statement !== undefined) return [document.Statement].flat() as PolicyStatement[];
  const [name, parameters] = Object.entries(policy)[0] ?? [];
  const template = name && POLICY_TEMPLATES[name];
  if (!template || !name) throw new UnknownRole(`policy template ${name} is not known locally`);
  const value = (parameters as Record<string, unknown> | undefined)?.[TEMPLATE_PARAMETER[name] as string];
  const { region, accountId } = stack.place;
  return [
    allow(
      template.actions.map((action) => `${template.service}:${action}`),
      template.resources(String(value)).map((rest) => `arn:aws:${template.service}:${region}:${accountId}:${rest}`),
    ),
  ];
}

/** A managed policy by name or ARN (`arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`). */
function managed(nameOrArn: string): PolicyStatement[] {
  const name = nameOrArn.split("/").at(-1) as string;
  const statements = MANAGED_POLICIES[name];
  if (!statements) throw new UnknownRole(`managed policy ${name} is not known locally`);
  return statements;
}

/** The template's `AWS::IAM::Role` that `role` (an ARN, resolved or not) names: its policies, and those attached to it. */
function roleStatements(stack: Stack, role: unknown): PolicyStatement[] {
  const getAtt = (role as { "Fn::GetAtt"?: unknown })?.["Fn::GetAtt"];
  const logicalId = Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
  const resource = logicalId ? stack.resources.get(logicalId) : undefined;
  if (!logicalId || resource?.Type !== "AWS::IAM::Role")
    throw new UnknownRole("its Role is not a role of this template");
  const properties = (stack.resolve(resource.Properties ?? {}) ?? {}) as {
    Policies?: Array<{ PolicyDocument?: { Statement?: unknown } }>;
    ManagedPolicyArns?: string[];
  };
  const attached = [...stack.resources.entries()]
    .filter(([, other]) => other.Type === "AWS::IAM::Policy" || other.Type === "AWS::IAM::ManagedPolicy")
    .filter(([, other]) => JSON.stringify(other.Properties?.Roles ?? []).includes(`{"Ref":"${logicalId}"}`))
    .map(([, other]) => stack.resolve(other.Properties?.PolicyDocument) as { Statement?: unknown });
  return [
    ...(properties.ManagedPolicyArns ?? []).flatMap(managed),
    ...[...(properties.Policies ?? []).map((policy) => policy.PolicyDocument), ...attached].flatMap(
      (document) => [document?.Statement ?? []].flat() as PolicyStatement[],
    ),
  ];
}

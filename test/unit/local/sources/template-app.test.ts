/**
 * SAM and CloudFormation templates read into the app the gateway serves: routes, the authorizer,
 * functions with their code, tables, parameters, the intrinsic functions templates use, and one line
 * for each part that is not replayed.
 */
import path from "node:path";
import test from "ava";
import { type TemplateOptions, templateApp } from "../../../../local/sources/cloudformation/template-app";
import { parseTemplate, readTemplateFile } from "../../../../local/sources/cloudformation/template-file";
import { SourceError } from "../../../../local/sources/source-error";
import type { CodeFunction, WebSocketApp } from "../../../../local/websocket-app";

const SAM_CHAT = path.join(__dirname, "..", "..", "..", "fixtures", "apps", "sam-chat");
const PLACE: TemplateOptions = {
  stackName: "chat",
  region: "eu-west-1",
  accountId: "000000000000",
  apiId: "abcde12345",
  parameterOverrides: {},
};

const read = (yaml: string, options: Partial<TemplateOptions> = {}) =>
  templateApp(parseTemplate(yaml, "template.yaml"), path.join(SAM_CHAT, "template.yaml"), { ...PLACE, ...options });

const fn = (app: WebSocketApp, routeKey: string) =>
  app.routes.find((route) => route.routeKey === routeKey)?.function as CodeFunction;

/** A WebSocket API with one route to `Handler`, and `extra` resources. */
const api = (extra = "", functionProperties = "") => `
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: { ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action }
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: $default, Target: !Sub "integrations/\${Integration}" }
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${Handler.Arn}/invocations
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: send.handler
      Runtime: nodejs22.x
${functionProperties}
${extra}`;

test("AWS's sample's shape: routes to ES module functions with Globals merged, the stage and the table from parameters", (t) => {
  const app = templateApp(
    readTemplateFile(path.join(SAM_CHAT, "template.yaml")),
    path.join(SAM_CHAT, "template.yaml"),
    PLACE,
  );

  t.is(app.stage, "Prod");
  t.is(app.routeSelectionExpression, "$request.body.action");
  t.deepEqual(app.routes.map((route) => route.routeKey).sort(), ["$connect", "$disconnect", "sendmessage"]);
  t.like(fn(app, "sendmessage"), {
    kind: "code",
    name: "chat-SendFunction",
    runtime: "nodejs20.x",
    handler: "send.handler",
    codeDir: path.join(SAM_CHAT, "src"),
    environment: { CONNECTIONS_TABLE: "sam_chat_connections" },
    timeoutSeconds: 10,
    memorySize: 256,
  });
  t.is(fn(app, "$connect").timeoutSeconds, 3, "SAM's default timeout");
  t.is(app.authorizer, undefined);
  t.deepEqual(app.tables, [
    {
      definition: {
        TableName: "sam_chat_connections",
        AttributeDefinitions: [{ AttributeName: "connectionId", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "connectionId", KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      },
    },
  ]);
  t.deepEqual(app.unmapped, [
    "AWS::ApiGatewayV2::Deployment Deployment: not needed locally: every route is deployed as the template has it",
    "AWS::Lambda::Permission ConnectPermission, DisconnectPermission, SendPermission: not needed locally: API Gateway may invoke every function it routes to",
  ]);
});

test("--parameter-overrides replace defaults; a value the parameter's constraints refuse stops with CloudFormation's words", (t) => {
  const file = path.join(SAM_CHAT, "template.yaml");
  const template = readTemplateFile(file);
  const app = templateApp(template, file, {
    ...PLACE,
    parameterOverrides: { ConnectionsTableName: "other_table", StageName: "Dev" },
  });
  t.is(app.stage, "Dev");
  t.is(app.tables[0]?.definition.TableName, "other_table");
  t.is(fn(app, "$connect").environment.CONNECTIONS_TABLE, "other_table");

  const refused = (parameterOverrides: Record<string, string>) =>
    t.throws(() => templateApp(template, file, { ...PLACE, parameterOverrides }), { instanceOf: SourceError })?.message;
  t.regex(
    refused({ ConnectionsTableName: "no-dashes" }) ?? "",
    /Parameter 'ConnectionsTableName' must match pattern \^\[A-Za-z_\]\+\$; got "no-dashes" \(letters and underscores only\)/,
  );
  t.regex(refused({ StageName: "Beta" }) ?? "", /must be one of AllowedValues: Prod, Dev/);
  t.regex(refused({ Nope: "1" }) ?? "", /no parameter Nope/);
  t.regex(
    t.throws(() => read(`Parameters: { Needed: { Type: String } }\n${api()}`))?.message ?? "",
    /parameter Needed has no default: give it one with --parameter-overrides Needed=/,
  );
});

test("intrinsics: Sub with variables and literals, Join, Select, Split, FindInMap, If on conditions, and AWS::NoValue removing a property", (t) => {
  const app = read(`
Mappings: { Sizes: { eu-west-1: { Memory: 512 } } }
Conditions:
  InEurope: !Equals [!Ref "AWS::Region", eu-west-1]
  NotInEurope: !Not [!Condition InEurope]
${api(
  "",
  `      MemorySize: !FindInMap [Sizes, !Ref "AWS::Region", Memory]
      Timeout: !If [NotInEurope, 9, !Ref "AWS::NoValue"]
      Environment:
        Variables:
          URL: !Sub
            - "https://\${Api}.execute-api.\${AWS::Region}.\${Suffix}/\${!Literal}"
            - Suffix: !Ref AWS::URLSuffix
          PARTS: !Join ["-", [!Select [1, !Split [",", "a,b,c"]], !Ref "AWS::StackName"]]
          WHERE: !If [InEurope, europe, elsewhere]
          GONE: !Ref AWS::NoValue
          TABLE_ARN: !GetAtt Table.Arn`,
)}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
`);
  const handler = fn(app, "$default");
  t.is(handler.memorySize, 512);
  t.is(handler.timeoutSeconds, 3, "the If gave no value: Lambda's default");
  t.deepEqual(handler.environment, {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub's ${!Literal} is the text ${Literal}.
    URL: "https://abcde12345.execute-api.eu-west-1.amazonaws.com/${Literal}",
    PARTS: "b-chat",
    WHERE: "europe",
    TABLE_ARN: "arn:aws:dynamodb:eu-west-1:000000000000:table/chat-Table",
  });
  t.is(app.tables[0]?.definition.TableName, "chat-Table", "no TableName: named after the stack and the resource");
});

test("each part the gateway does not replay gets one line naming it; the rest of the app still runs", (t) => {
  const app = read(
    api(
      `  IamRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: admin, AuthorizationType: AWS_IAM, Target: !Sub "integrations/\${Integration}" }
  MockRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: mock, Target: !Sub "integrations/\${Mock}" }
  Mock:
    Type: AWS::ApiGatewayV2::Integration
    Properties: { ApiId: !Ref Api, IntegrationType: MOCK }
  Queue:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Lambda::Function
    Properties: { Handler: index.handler, Runtime: nodejs22.x, Code: { S3Bucket: b, S3Key: k } }
  Images:
    Type: AWS::Serverless::Function
    Properties: { PackageType: Image, ImageUri: repo:latest }
  ImageRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: image, Target: !Sub "integrations/\${ImageIntegration}" }
  ImageIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${Images.Arn}/invocations
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      StreamSpecification: { StreamViewType: NEW_IMAGE }`,
      `      Layers: [arn:aws:lambda:eu-west-1:111111111111:layer:tools:1]
      Events:
        Nightly: { Type: Schedule, Properties: { Schedule: rate(1 day) } }
      Environment:
        Variables:
          SHARED: !ImportValue other-stack-output
          KEPT: yes`,
    ),
  );
  t.deepEqual(
    app.routes.map((route) => route.routeKey),
    ["$default", "admin", "image"],
  );
  t.deepEqual(fn(app, "$default").environment, { KEPT: "yes" });
  t.like(fn(app, "image"), { kind: "in-process", name: "chat-Images" });
  t.deepEqual(app.unmapped, [
    "no AWS::ApiGatewayV2::Stage: served under the stage dev",
    "AWS::Serverless::Function Handler: Layers are not unpacked locally; the function runs without their code",
    "AWS::Serverless::Function Handler: event Nightly (Schedule) is not replayed; only the WebSocket API invokes it",
    "AWS::Serverless::Function Handler: environment variable SHARED left unset: Fn::ImportValue cannot be evaluated locally (it needs AWS or another stack)",
    "route admin (IamRoute): AWS_IAM authorization is not replayed; the route runs unauthorized",
    "route mock (MockRoute): its MOCK integration is not replayed (only Lambda proxy integrations are); left out",
    "AWS::Serverless::Function Images: a container image function is not run locally; its invocations fail",
    "AWS::DynamoDB::Table Table: its stream is not replayed; nothing reads it locally",
    "AWS::SQS::Queue Queue: not replayed locally",
    "AWS::Lambda::Function Worker: no route or authorizer invokes it: not run",
  ]);
});

test("a REQUEST authorizer on $connect, two-way routes, the stage's default throttling", (t) => {
  const app = read(
    api(
      `  ConnectRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: $connect
      AuthorizationType: CUSTOM
      AuthorizerId: !Ref Auth
      Target: !Join ["", ["integrations/", !Ref Integration]]
  Auth:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref Api
      Name: TokenCheck
      AuthorizerType: REQUEST
      AuthorizerUri: !Join ["", ["arn:", !Ref "AWS::Partition", ":apigateway:", !Ref "AWS::Region", ":lambda:path/2015-03-31/functions/", !GetAtt Handler.Arn, "/invocations"]]
      IdentitySource: [route.request.querystring.token]
  Answer:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: { ApiId: !Ref Api, RouteId: !Ref Route, RouteResponseKey: $default }
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: live
      DefaultRouteSettings: { ThrottlingBurstLimit: 10, ThrottlingRateLimit: 5 }`,
    ),
  );
  t.is(app.stage, "live");
  t.deepEqual(app.throttling, { burstLimit: 10, rateLimit: 5 });
  t.like(app.authorizer, { name: "TokenCheck", identitySources: ["route.request.querystring.token"] });
  t.is(app.authorizer?.function, fn(app, "$default"), "one function, built once");
  t.true(app.routes.find((route) => route.routeKey === "$default")?.routeResponse);
  t.false(app.routes.find((route) => route.routeKey === "$connect")?.routeResponse);
  t.deepEqual(app.unmapped, []);
});

test("a template it cannot run stops with one line: no WebSocket API, two of them, bad YAML, an unknown tag", (t) => {
  const refused = (yaml: string, options: Partial<TemplateOptions> = {}) =>
    t.throws(() => read(yaml, options), { instanceOf: SourceError })?.message;
  t.is(
    refused("Resources: { Http: { Type: AWS::ApiGatewayV2::Api, Properties: { ProtocolType: HTTP } } }"),
    `${path.join(SAM_CHAT, "template.yaml")}: no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET`,
  );
  const two = api("  Other:\n    Type: AWS::ApiGatewayV2::Api\n    Properties: { ProtocolType: WEBSOCKET }");
  t.regex(refused(two) ?? "", /2 WebSocket APIs \(Api, Other\): name one with --api/);
  t.is(read(two, { api: "Api" }).routes.length, 1);
  t.regex(
    t.throws(() => parseTemplate("Resources: [a\n", "bad.yaml"))?.message ?? "",
    /^bad\.yaml: .+ at line 2, column 1$/,
  );
  t.regex(
    t.throws(() => parseTemplate("A: !NotAFunction x\n", "tag.yaml"))?.message ?? "",
    /^tag\.yaml: Unresolved tag: !NotAFunction/,
  );
});

test("a JSON template reads as its YAML twin does", (t) => {
  const json = JSON.stringify({
    Resources: {
      Api: {
        Type: "AWS::ApiGatewayV2::Api",
        Properties: { ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.type" },
      },
      Route: {
        Type: "AWS::ApiGatewayV2::Route",
        Properties: {
          ApiId: { Ref: "Api" },
          RouteKey: "hello",
          Target: { "Fn::Join": ["/", ["integrations", { Ref: "I" }]] },
        },
      },
      I: {
        Type: "AWS::ApiGatewayV2::Integration",
        Properties: {
          ApiId: { Ref: "Api" },
          IntegrationType: "AWS_PROXY",
          IntegrationUri: { "Fn::GetAtt": ["F", "Arn"] },
        },
      },
      F: {
        Type: "AWS::Lambda::Function",
        Properties: {
          Handler: "index.handler",
          Runtime: "python3.12",
          Code: { ZipFile: "def handler(e, c):\n  return {}\n" },
        },
      },
    },
  });
  const app = read(json);
  t.is(app.routeSelectionExpression, "$request.body.type");
  t.like(fn(app, "hello"), { kind: "code", runtime: "python3.12", handler: "index.handler", memorySize: 128 });
});

test("a function's role: SAM policy templates expanded as SAM defines them, inline statements, a role of the template with its attached policies", (t) => {
  const crud = fn(
    read(api("", "      Policies: [{ DynamoDBCrudPolicy: { TableName: chat } }, AWSLambdaBasicExecutionRole]")),
    "$default",
  );
  t.deepEqual(crud.policy?.find((statement) => [statement.Action].flat().includes("dynamodb:Scan"))?.Resource, [
    "arn:aws:dynamodb:eu-west-1:000000000000:table/chat",
    "arn:aws:dynamodb:eu-west-1:000000000000:table/chat/index/*",
  ]);
  t.true(
    crud.policy?.some((statement) => [statement.Action].flat().includes("logs:PutLogEvents")),
    "SAM's basic role",
  );

  const role = `
  Role:
    Type: AWS::IAM::Role
    Properties: { ManagedPolicyArns: [!Sub "arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"] }
  Attached:
    Type: AWS::IAM::Policy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument: { Statement: [{ Effect: Allow, Action: execute-api:ManageConnections, Resource: !Sub "arn:aws:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${Api}/*" }] }`;
  const fromRole = fn(read(api(role, "      Role: !GetAtt Role.Arn")), "$default");
  t.deepEqual(fromRole.policy?.at(-1), {
    Effect: "Allow",
    Action: "execute-api:ManageConnections",
    Resource: "arn:aws:execute-api:eu-west-1:000000000000:abcde12345/*",
  });
  t.false(read(api(role, "      Role: !GetAtt Role.Arn")).unmapped.some((line) => line.includes("AWS::IAM")));
});

test("a role that cannot be known here (from outside the template, an unknown template or managed policy) is named, and the function left unchecked", (t) => {
  for (const [properties, why] of [
    ["      Role: arn:aws:iam::123456789012:role/elsewhere", "its Role is not a role of this template"],
    ["      Policies: [{ SESCrudPolicy: { IdentityName: x } }]", "policy template SESCrudPolicy is not known locally"],
    ["      Policies: [AmazonS3FullAccess]", "managed policy AmazonS3FullAccess is not known locally"],
  ] as const) {
    const app = read(api("", properties));
    t.is(fn(app, "$default").policy, undefined, properties);
    t.true(
      app.unmapped.includes(`function chat-Handler: ${why}: its role is not enforced, it may call anything`),
      app.unmapped.join("\n"),
    );
  }
});

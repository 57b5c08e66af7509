/**
 * The prod stack, as `pulumi up --stack prod` loads it after `npm ci --omit=dev` (in its own
 * process, under mocks): its alarms, access log, protected history, published page and, when set,
 * its custom domain; and what every stack shares (the provider's region and tags, JSON logs on
 * arm64). AWS's rules each resource follows are cited in the module that declares it.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { type LoadedStack, loadStack, productionInstall, stackConfig } from "../../support/production-install";
import {
  ACCOUNT,
  API_ID,
  DISTRIBUTION_DOMAIN,
  DISTRIBUTION_ID,
  REGION,
  REGIONAL_DOMAIN_TARGET,
  type RegisteredResource,
  TOKEN_URL_ID,
} from "../../support/pulumi-mocks";

const CERTIFICATE_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789`;
const install = productionInstall();
const prodConfig = stackConfig("prod");
// One load at a time: each takes both cores for a while, and three at once on a busy machine
// would each run into the load's timeout.
const prod = loadStack(install, "prod", prodConfig);
// As a team would finish it: who is mailed, and a domain of its own.
const prodWithDomain = prod.then(() =>
  loadStack(install, "prod", {
    ...prodConfig,
    "websocket-chat:alarmEmail": "oncall@example.com",
    "websocket-chat:customDomainName": "chat.example.com",
    "websocket-chat:customDomainCertificateArn": CERTIFICATE_ARN,
  }),
);
const stacks = { prod, prodWithDomain, dev: prodWithDomain.then(() => loadStack(install, "dev", stackConfig("dev"))) };

const ofType = ({ resources }: LoadedStack, type: string) => resources.filter((resource) => resource.type === type);
function only({ resources }: LoadedStack, type: string, name?: string): RegisteredResource {
  const found = resources.filter(
    (resource) => resource.type === type && (name === undefined || resource.name === name),
  );
  if (found.length !== 1) throw new Error(`${found.length} resources of type ${type} named ${name ?? "anything"}`);
  return found[0] as RegisteredResource;
}

test("the prod stack file sets production's settings", (t) => {
  t.like(prodConfig, {
    "aws:region": "us-east-1",
    "websocket-chat:stageName": "prod",
    "websocket-chat:logRetentionDays": "90",
    "websocket-chat:alarms": "true",
    "websocket-chat:accessLogs": "true",
    "websocket-chat:deletionProtection": "true",
    "websocket-chat:lambdaArchitecture": "arm64",
  });
});

test("every AWS resource of both stacks comes from one provider: the stack's region, tagged with project and stack", async (t) => {
  for (const [stack, loaded] of [
    ["prod", await stacks.prod],
    ["dev", await stacks.dev],
  ] as const) {
    const provider = only(loaded, "pulumi:providers:aws");
    t.is(provider.inputs.region, "us-east-1");
    t.deepEqual(JSON.parse(provider.inputs.defaultTags), { tags: { project: "websocket-chat", stack } });
    const aws = loaded.resources.filter((resource) => resource.type.startsWith("aws:"));
    t.true(aws.length > 50, `${aws.length} resources`);
    t.deepEqual(
      aws
        .filter((resource) => !resource.provider?.includes("::pulumi:providers:aws::aws::"))
        .map((r) => `${r.type} ${r.name} ${r.provider}`),
      [],
    );
  }
});

test("no managed policy anywhere in either stack: every role's rights are its own inline policy", async (t) => {
  // CallbackFunction attaches nine *FullAccess managed policies to a function given no role.
  for (const [stack, loaded] of [
    ["prod", await stacks.prodWithDomain],
    ["dev", await stacks.dev],
  ] as const) {
    t.deepEqual(
      loaded.resources.filter((resource) => /PolicyAttachment|aws:iam\/policy:Policy/.test(resource.type)),
      [],
      stack,
    );
    for (const role of ofType(loaded, "aws:iam/role:Role")) {
      t.is(role.inputs.managedPolicyArns, undefined, `${stack} ${role.name}`);
    }
  }
});

test("a stack without a region stops with a clear error before declaring anything", async (t) => {
  const { "aws:region": _region, ...withoutRegion } = stackConfig("dev");
  const error = await t.throwsAsync(loadStack(install, "fresh", withoutRegion));
  t.regex(error?.message ?? "", /stack fresh has no AWS region: set one with `pulumi config set aws:region us-east-1`/);
});

test("every function logs JSON lines at INFO to its own log group, on arm64, the metrics' namespace set", async (t) => {
  const prod = await stacks.prod;
  const functions = ofType(prod, "aws:lambda/function:Function");
  t.is(functions.length, 13);
  for (const fn of functions) {
    t.deepEqual(fn.inputs.architectures, ["arm64"]);
    t.deepEqual(fn.inputs.loggingConfig, {
      logFormat: "JSON",
      logGroup: `/aws/lambda/${fn.inputs.name}`,
      applicationLogLevel: "INFO",
      systemLogLevel: "INFO",
    });
    t.like(fn.inputs.environment.variables, {
      POWERTOOLS_SERVICE_NAME: "websocket-chat-prod",
      POWERTOOLS_METRICS_NAMESPACE: "WebSocketChat",
    });
  }
  t.deepEqual(
    ofType(prod, "aws:cloudwatch/logGroup:LogGroup").map((group) => group.inputs.retentionInDays),
    Array(14).fill(90),
  );
});

test("prod: alarms on every function, the API, DynamoDB and broadcasts notify one topic, mailed when set; none for what clients cause", async (t) => {
  const prod = await stacks.prodWithDomain;
  const topic = only(prod, "aws:sns/topic:Topic");
  t.like(only(prod, "aws:sns/topicSubscription:TopicSubscription").inputs, {
    topic: topic.state.arn,
    protocol: "email",
    endpoint: "oncall@example.com",
  });
  const alarms = ofType(prod, "aws:cloudwatch/metricAlarm:MetricAlarm");
  for (const alarm of alarms) {
    t.like(alarm.inputs, {
      statistic: "Sum",
      period: 300,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [topic.state.arn],
      okActions: [topic.state.arn],
    });
  }
  const watched = alarms.map(
    ({ inputs }) => `${inputs.namespace} ${inputs.metricName} ${JSON.stringify(inputs.dimensions)}`,
  );
  const functions = ofType(prod, "aws:lambda/function:Function").map((fn) => fn.inputs.name as string);
  const authorizer = "websocket-chat-prod-authorizer";
  for (const name of functions) {
    // The authorizer's refusals (Unauthorized) are Lambda Errors: its failures are read from its log instead.
    t.is(watched.includes(`AWS/Lambda Errors {"FunctionName":"${name}"}`), name !== authorizer, name);
    t.true(watched.includes(`AWS/Lambda Throttles {"FunctionName":"${name}"}`), name);
  }
  const filter = only(prod, "aws:cloudwatch/logMetricFilter:LogMetricFilter");
  t.deepEqual(filter.inputs, {
    logGroupName: `/aws/lambda/${authorizer}`,
    pattern: '{ ($.level = "ERROR") && ($.errorMessage != "Unauthorized") }',
    metricTransformation: { namespace: "WebSocketChat/websocket-chat-prod", name: "AuthorizerFailures", value: "1" },
  });
  t.true(watched.includes("WebSocketChat/websocket-chat-prod AuthorizerFailures undefined"));
  // Events Lambda dropped (throttled past their minute): a large room's slice missed a message.
  t.true(watched.includes('AWS/Lambda AsyncEventsDropped {"FunctionName":"websocket-chat-prod-broadcast"}'));
  const stage = JSON.stringify({ ApiId: API_ID, Stage: "prod" });
  const connections = "websocket-chat-connections-7f3a9c1";
  const messages = "websocket-chat-messages-7f3a9c1";
  // No IntegrationError: it counts the 400 and 429 the handlers answer on purpose.
  t.deepEqual(watched.filter((line) => !line.startsWith("AWS/Lambda") && !line.includes("Failures")).sort(), [
    `AWS/ApiGateway ExecutionError ${stage}`,
    `AWS/DynamoDB ReadThrottleEvents {"GlobalSecondaryIndexName":"byRoom","TableName":"${connections}"}`,
    `AWS/DynamoDB ReadThrottleEvents {"TableName":"${connections}"}`,
    `AWS/DynamoDB ReadThrottleEvents {"TableName":"${messages}"}`,
    `AWS/DynamoDB WriteThrottleEvents {"GlobalSecondaryIndexName":"byRoom","TableName":"${connections}"}`,
    `AWS/DynamoDB WriteThrottleEvents {"TableName":"${connections}"}`,
    `AWS/DynamoDB WriteThrottleEvents {"TableName":"${messages}"}`,
    'WebSocketChat BroadcastFailed {"service":"websocket-chat-prod"}',
    'WebSocketChat BroadcastHandOffsFailed {"service":"websocket-chat-prod"}',
  ]);
  t.is(alarms.length, functions.length * 2 + 10);
  t.is(alarms.length, 26, "as the cost table counts them");
  t.is((await stacks.prod).outputs.alarmTopicArn, topic.state.arn);
});

test("prod: the stage writes a JSON access log to a group with retention, through the account's role", async (t) => {
  const prod = await stacks.prod;
  const group = only(prod, "aws:cloudwatch/logGroup:LogGroup", "websocket-chat-access-logs");
  t.deepEqual(group.inputs, { name: `/aws/apigateway/${API_ID}/prod`, retentionInDays: 90 });
  const stage = only(prod, "aws:apigatewayv2/stage:Stage");
  t.is(stage.inputs.accessLogSettings.destinationArn, group.state.arn);
  t.like(JSON.parse(stage.inputs.accessLogSettings.format), {
    requestId: "$context.requestId",
    connectionId: "$context.connectionId",
    routeKey: "$context.routeKey",
    status: "$context.status",
  });
  t.deepEqual(stage.inputs.defaultRouteSettings, { throttlingBurstLimit: 1000, throttlingRateLimit: 500 });
  const role = only(prod, "aws:iam/role:Role", "websocket-chat-apigateway-logs-role");
  t.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement, [
    {
      Effect: "Allow",
      Principal: { Service: "apigateway.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
    },
  ]);
  const policy = JSON.parse(
    only(prod, "aws:iam/rolePolicy:RolePolicy", "websocket-chat-apigateway-logs-policy").inputs.policy,
  );
  // Writes only: no action that reads a log.
  t.deepEqual(policy.Statement, [
    {
      Sid: "PushApiLogs",
      Effect: "Allow",
      Action: [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
      ],
      Resource: "*",
    },
  ]);
  t.is(only(prod, "aws:apigateway/account:Account").inputs.cloudwatchRoleArn, role.state.arn);
});

test("dev: no alarms, no access log and no account-wide role unless the stack asks; history unprotected", async (t) => {
  const dev = await stacks.dev;
  t.deepEqual(ofType(dev, "aws:cloudwatch/metricAlarm:MetricAlarm"), []);
  t.deepEqual(ofType(dev, "aws:sns/topic:Topic"), []);
  t.deepEqual(ofType(dev, "aws:apigateway/account:Account"), []);
  t.is(only(dev, "aws:apigatewayv2/stage:Stage").inputs.accessLogSettings, undefined);
  t.false(only(dev, "aws:dynamodb/table:Table", "websocket-chat-messages").inputs.deletionProtectionEnabled);
  t.is(dev.outputs.alarmTopicArn, undefined);
});

test("prod: the token endpoint has 10 executions reserved, its most; dev reserves none", async (t) => {
  const [prod, dev] = await Promise.all([stacks.prod, stacks.dev]);
  const token = (stack: typeof prod) =>
    only(stack, "aws:lambda/function:Function", "websocket-chat-auth-token-function");
  t.is(token(prod).inputs.reservedConcurrentExecutions, 10);
  t.is(token(dev).inputs.reservedConcurrentExecutions, undefined);
});

test("prod: DynamoDB refuses to delete the messages table; the connections table stays disposable", async (t) => {
  const prod = await stacks.prod;
  t.true(only(prod, "aws:dynamodb/table:Table", "websocket-chat-messages").inputs.deletionProtectionEnabled);
  t.falsy(only(prod, "aws:dynamodb/table:Table", "websocket-chat-connections").inputs.deletionProtectionEnabled);
});

test("the page: the local server's files in a private bucket, read only by CloudFront over HTTPS, told the stack's URLs", async (t) => {
  const dev = await stacks.dev;
  const bucket = only(dev, "aws:s3/bucket:Bucket");
  t.like(only(dev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  t.is(
    only(dev, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs.rule.objectOwnership,
    "BucketOwnerEnforced",
  );
  const objects = new Map(ofType(dev, "aws:s3/bucketObjectv2:BucketObjectv2").map((o) => [o.inputs.key, o.inputs]));
  const files = readdirSync(join(__dirname, "..", "..", "..", "page")).sort();
  t.deepEqual([...objects.keys()].sort(), [...files, "chat-client.mjs", "config.json"].sort());
  t.is(objects.get("index.html")?.contentType, "text/html; charset=utf-8");
  t.is(objects.get("chat.mjs")?.contentType, "text/javascript; charset=utf-8");
  // The client library the page imports, built from client/ as the local gateway serves it
  // (its text: test/e2e/page/chat-page-published).
  t.is(objects.get("chat-client.mjs")?.contentType, "text/javascript; charset=utf-8");
  t.is(objects.get("config.json")?.cacheControl, "no-cache");
  t.deepEqual(JSON.parse(objects.get("config.json")?.content), {
    url: `wss://${API_ID}.execute-api.${REGION}.amazonaws.com/dev`,
    auth: "guest",
    tokenUrl: `https://${TOKEN_URL_ID}.lambda-url.${REGION}.on.aws/`,
  });

  const oac = only(dev, "aws:cloudfront/originAccessControl:OriginAccessControl");
  t.like(oac.inputs, { originAccessControlOriginType: "s3", signingBehavior: "always", signingProtocol: "sigv4" });
  const cdn = only(dev, "aws:cloudfront/distribution:Distribution").inputs;
  t.is(cdn.defaultRootObject, "index.html");
  t.like(cdn.origins[0], { domainName: bucket.state.bucketRegionalDomainName, originAccessControlId: oac.id });
  t.like(cdn.defaultCacheBehavior, { viewerProtocolPolicy: "redirect-to-https", allowedMethods: ["GET", "HEAD"] });
  // config.json cached nowhere: CachingOptimized would keep even a no-cache object its minimum TTL.
  t.like(cdn.orderedCacheBehaviors, [
    { pathPattern: "/config.json", cachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", targetOriginId: "page" },
  ]);
  const policy = JSON.parse(only(dev, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
  t.deepEqual(policy.Statement, [
    {
      Sid: "CloudFrontReadsThePage",
      Effect: "Allow",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: "s3:GetObject",
      Resource: `${bucket.state.arn}/*`,
      Condition: {
        StringEquals: { "AWS:SourceArn": `arn:aws:cloudfront::${ACCOUNT}:distribution/${DISTRIBUTION_ID}` },
      },
    },
  ]);
  t.is(dev.outputs.pageUrl, `https://${DISTRIBUTION_DOMAIN}/`);
  // Guests get tokens from the page's origin only.
  t.deepEqual(only(dev, "aws:lambda/functionUrl:FunctionUrl").inputs.cors.allowOrigins, [
    `https://${DISTRIBUTION_DOMAIN}`,
  ]);
});

test("a custom domain: a regional TLS 1.2 domain mapped to the stage; clients and the page use wss://domain", async (t) => {
  const prod = await stacks.prodWithDomain;
  t.like(only(prod, "aws:apigatewayv2/domainName:DomainName").inputs, {
    domainName: "chat.example.com",
    domainNameConfiguration: { certificateArn: CERTIFICATE_ARN, endpointType: "REGIONAL", securityPolicy: "TLS_1_2" },
  });
  t.like(only(prod, "aws:apigatewayv2/apiMapping:ApiMapping").inputs, {
    apiId: API_ID,
    domainName: "chat.example.com",
    stage: "prod",
  });
  t.is(prod.outputs.customDomainUrl, "wss://chat.example.com");
  t.is(prod.outputs.customDomainTarget, REGIONAL_DOMAIN_TARGET);
  const config = ofType(prod, "aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.inputs.key === "config.json");
  t.is(JSON.parse(config?.inputs.content).url, "wss://chat.example.com");
  t.deepEqual(ofType(await stacks.prod, "aws:apigatewayv2/domainName:DomainName"), []);
});

test("a new stack with nothing but a region loads with the defaults: its own stage, guests, the page, no alarms", async (t) => {
  const fresh = await loadStack(install, "staging", { "aws:region": "eu-west-1" });
  t.is(only(fresh, "pulumi:providers:aws").inputs.region, "eu-west-1");
  t.like(only(fresh, "aws:apigatewayv2/stage:Stage").inputs, {
    name: "staging",
    defaultRouteSettings: { throttlingBurstLimit: 1000, throttlingRateLimit: 500 },
  });
  t.is(ofType(fresh, "aws:lambda/function:Function").length, 13);
  t.is(ofType(fresh, "aws:cloudfront/distribution:Distribution").length, 1);
  t.deepEqual(ofType(fresh, "aws:cloudwatch/metricAlarm:MetricAlarm"), []);
  t.truthy(fresh.outputs.pageUrl);
});

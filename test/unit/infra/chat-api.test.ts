import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import type { RouteDefinition } from "../../../functions/routes";
import type { ChatApi } from "../../../infra/chat-api";
import type { ChatApiArgs } from "../../../infra/chat-api-settings";
import {
  ACCOUNT,
  API_ID,
  functionEnvironment,
  REGION,
  type RegisteredResource,
  recordingMocks,
  resolved,
} from "../../support/pulumi-mocks";
import { DEFAULT_RATE_LIMITS } from "../../support/rate-limits";

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  [other: string]: unknown;
}

/** What every function is given: the limits table, and the stack's default budgets, pinned by value. */
const RATE_LIMITS = {
  LIMITS_TABLE_NAME: "chat-limits-7f3a9c1",
  RATE_LIMITS: JSON.stringify(DEFAULT_RATE_LIMITS),
};
const CERTIFICATE_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789`;
const EXECUTION_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}`;
const { mocks, resources } = recordingMocks();
const options = new Map<string, pulumi.ResourceOptions>();

/** Pulumi's own wait for every registration queued so far (what a program's end waits for). */
const { waitForRPCs: waitForRegistrations } = require("@pulumi/pulumi/runtime/settings") as {
  waitForRPCs(): Promise<void>;
};

/** Every resource of a ChatApi and its children, registered and resolved. */
async function settled(chat: ChatApi): Promise<void> {
  const leaves: pulumi.Resource[] = [chat, chat.table, chat.messagesTable, chat.api, chat.stage];
  for (const route of chat.routes) {
    leaves.push(route, route.logGroup, route.role, route.rolePolicy, route.function, route.permission);
    leaves.push(...route.deploymentDependencies);
  }
  const worker = chat.broadcastWorker;
  leaves.push(worker.logGroup, worker.role, worker.rolePolicy, worker.function, worker.invokeConfig);
  await resolved(pulumi.all(leaves.map((resource) => resource.urn)));
  await resolved(pulumi.all([chat.url, chat.managementEndpoint, chat.tableName, chat.messagesTableName]));
  if (chat.page?.config) await resolved(pulumi.all([chat.page.config.urn, chat.page.config.content]));
}

// Prepare: the program runs against mocks, imported only once they are in place.
const setup = (async () => {
  await pulumi.runtime.setMocks(mocks, "websocket-chat", "test", false);
  const { ChatApi } = require("../../../infra/chat-api") as typeof import("../../../infra/chat-api");
  const { routes, broadcastWorker } =
    require("../../../functions/routes") as typeof import("../../../functions/routes");
  const recordOptions: pulumi.ResourceTransformation = ({ name, opts }) => {
    options.set(name, opts);
    return undefined;
  };
  const chat = new ChatApi(
    "chat",
    {
      stageName: "prod",
      throttlingBurstLimit: 200,
      throttlingRateLimit: 75,
      logRetentionDays: 30,
      broadcastConcurrency: 20,
      historyTtlSeconds: 3600,
    },
    { transformations: [recordOptions] },
  );
  const echoRoute: RouteDefinition = {
    routeKey: "echo",
    name: "echo",
    tableActions: {},
    manageConnections: false,
    routeResponse: true,
    rateLimit: "none",
    createHandler: () => async (event) => ({ statusCode: 200, body: event.body }),
  };
  const echo = new ChatApi(
    "echo",
    {
      stageName: "dev",
      throttlingBurstLimit: 10,
      throttlingRateLimit: 5,
      logRetentionDays: 7,
      routes: [echoRoute],
      accessLogs: true,
      apiGatewayAccountRole: true,
    },
    { transformations: [recordOptions] },
  );
  await settled(chat);
  await settled(echo);
  return { ChatApi, routes, broadcastWorker, chat, echo };
})();

function only(type: string, name: string): RegisteredResource {
  const matches = resources.filter((resource) => resource.type === type && resource.name === name);
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
  return matches[0] as RegisteredResource;
}

/** The resources a resource was told to wait for (its `dependsOn`). */
function dependsOnOf(name: string): pulumi.Resource[] {
  return (options.get(name)?.dependsOn ?? []) as pulumi.Resource[];
}

function ofType(type: string, prefix: string): RegisteredResource[] {
  return resources.filter((resource) => resource.type === type && resource.name.startsWith(`${prefix}-`));
}

function statementsOf(policy: RegisteredResource): Statement[] {
  const document = JSON.parse(policy.inputs.policy as string) as { Version: string; Statement: Statement[] };
  if (document.Version !== "2012-10-17") throw new Error(`policy version ${document.Version}`);
  return document.Statement;
}

/** Every (action, resource) pair a policy allows, sorted, so two policies compare exactly. */
function grants(statements: Statement[]): string[] {
  const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
  return statements
    .flatMap((statement) =>
      list(statement.Action).flatMap((action) => list(statement.Resource).map((resource) => `${action} ${resource}`)),
    )
    .sort();
}

test("the connections table is keyed, on-demand, expires rows, and indexes them by room shard", async (t) => {
  await setup;
  const table = only("aws:dynamodb/table:Table", "chat-connections");
  t.is(table.inputs.hashKey, "connectionId");
  t.deepEqual(table.inputs.attributes, [
    { name: "connectionId", type: "S" },
    { name: "roomKey", type: "S" },
  ]);
  t.is(table.inputs.billingMode, "PAY_PER_REQUEST");
  t.deepEqual(table.inputs.ttl, { attributeName: "expiresAt", enabled: true });
  t.is(table.inputs.rangeKey, undefined);
  // Sorted by connection id within a shard, so a fan-out can split a shard by id ranges too.
  t.deepEqual(table.inputs.globalSecondaryIndexes, [
    {
      name: "byRoom",
      hashKey: "roomKey",
      rangeKey: "connectionId",
      projectionType: "INCLUDE",
      nonKeyAttributes: ["userId", "name", "connectedAt", "expiresAt"],
    },
  ]);
});

test("the messages table keeps each room's history in order, on-demand, and forgets it by TTL", async (t) => {
  await setup;
  const table = only("aws:dynamodb/table:Table", "chat-messages");
  t.is(table.inputs.hashKey, "roomKey");
  t.is(table.inputs.rangeKey, "id");
  t.deepEqual(table.inputs.attributes, [
    { name: "roomKey", type: "S" },
    { name: "id", type: "S" },
  ]);
  t.is(table.inputs.billingMode, "PAY_PER_REQUEST");
  t.deepEqual(table.inputs.ttl, { attributeName: "expiresAt", enabled: true });
  t.is(table.inputs.globalSecondaryIndexes, undefined);
});

test("the limits table keeps each identity's budgets by one string key, on-demand, forgotten by TTL", async (t) => {
  await setup;
  const table = only("aws:dynamodb/table:Table", "chat-limits");
  t.deepEqual(
    { hashKey: table.inputs.hashKey, rangeKey: table.inputs.rangeKey, attributes: table.inputs.attributes },
    { hashKey: "key", rangeKey: undefined, attributes: [{ name: "key", type: "S" }] },
  );
  t.is(table.inputs.billingMode, "PAY_PER_REQUEST");
  t.deepEqual(table.inputs.ttl, { attributeName: "expiresAt", enabled: true });
  t.is(table.inputs.globalSecondaryIndexes, undefined);
});

test("the API is a WebSocket API routed by the action field", async (t) => {
  await setup;
  const api = only("aws:apigatewayv2/api:Api", "chat-api");
  t.is(api.inputs.protocolType, "WEBSOCKET");
  t.is(api.inputs.routeSelectionExpression, "$request.body.action");
});

test("every route of the table gets a function, integration, route and scoped permission", async (t) => {
  const { routes } = await setup;
  t.is(ofType("aws:lambda/function:Function", "chat").length, routes.length + 1, "and the broadcast worker");
  t.is(ofType("aws:apigatewayv2/integration:Integration", "chat").length, routes.length);
  t.is(ofType("aws:apigatewayv2/route:Route", "chat").length, routes.length);
  t.is(ofType("aws:lambda/permission:Permission", "chat").length, routes.length);
  t.deepEqual(
    ofType("aws:apigatewayv2/routeResponse:RouteResponse", "chat")
      .map((response) => response.name)
      .sort(),
    ["delete", "edit", "history", "join", "leave", "sendmessage", "who"].map((route) => `chat-${route}-response`),
  );
  const table = only("aws:dynamodb/table:Table", "chat-connections");
  const messages = only("aws:dynamodb/table:Table", "chat-messages");

  for (const route of routes) {
    const prefix = `chat-${route.name}`;
    const fn = only("aws:lambda/function:Function", `${prefix}-function`);
    const role = only("aws:iam/role:Role", `${prefix}-role`);
    t.is(fn.inputs.name, `chat-test-${route.name}`);
    t.is(fn.inputs.runtime, "nodejs24.x");
    t.is(fn.inputs.handler, "__index.handler");
    t.is(fn.inputs.memorySize, route.memorySize ?? 256);
    t.is(fn.inputs.timeout, 10);
    t.is(fn.inputs.role, role.state.arn);
    t.deepEqual(fn.inputs.environment, {
      variables: {
        ...functionEnvironment("chat-test"),
        ...RATE_LIMITS,
        TABLE_NAME: table.state.name,
        MESSAGES_TABLE_NAME: messages.state.name,
        BROADCAST_CONCURRENCY: "20",
        HISTORY_TTL_SECONDS: "3600",
        // The account's concurrency, as Service Quotas answered (AWS's default): what a fan-out is sized by.
        ...(route.fansOut && { BROADCAST_FUNCTION_NAME: "chat-test-broadcast", ACCOUNT_CONCURRENCY: "1000" }),
      },
    });

    const integration = only("aws:apigatewayv2/integration:Integration", `${prefix}-integration`);
    t.is(integration.inputs.apiId, API_ID);
    t.is(integration.inputs.integrationType, "AWS_PROXY");
    t.is(integration.inputs.integrationMethod, "POST");
    t.is(integration.inputs.integrationUri, fn.state.invokeArn);
    t.regex(integration.inputs.integrationUri, new RegExp(`function:chat-test-${route.name}/invocations$`));

    const apiRoute = only("aws:apigatewayv2/route:Route", `${prefix}-route`);
    t.is(apiRoute.inputs.apiId, API_ID);
    t.is(apiRoute.inputs.routeKey, route.routeKey);
    t.is(apiRoute.inputs.target, `integrations/${integration.id}`);

    const permission = only("aws:lambda/permission:Permission", `${prefix}-permission`);
    t.is(permission.inputs.action, "lambda:InvokeFunction");
    t.is(permission.inputs.function, `chat-test-${route.name}`);
    t.is(permission.inputs.principal, "apigateway.amazonaws.com");
    t.is(permission.inputs.sourceArn, `${EXECUTION_ARN}/prod/${route.routeKey}`);
  }
});

test("each function's code is its own route's handler, bundled: its map names that handler's source alone", async (t) => {
  const { routes } = await setup;
  // Routes whose handlers share a file: join and leave, edit and delete.
  const sharing: Record<string, string> = { leave: "join", edit: "message-changes", delete: "message-changes" };
  const handlerFile = (route: RouteDefinition) => `functions/handlers/${sharing[route.name] ?? route.name}.ts`;
  const handlerFiles = [...new Set(routes.map(handlerFile))];
  for (const route of routes) {
    const sources = await bundledSources(only("aws:lambda/function:Function", `chat-${route.name}-function`));
    t.deepEqual(
      handlerFiles.filter((file) => sources.includes(file)),
      [handlerFile(route)],
      route.name,
    );
  }
});

/** The project's source files a function's bundle was made of, from the map in its archive. */
async function bundledSources(fn: RegisteredResource): Promise<string[]> {
  const assets = (await fn.inputs.code.assets) as Record<string, { text: Promise<string> }>;
  if (!("__index.js" in assets)) throw new Error(`${fn.name}: no __index.js`);
  return (JSON.parse((await assets["__index.js.map"]?.text) ?? "{}") as { sources: string[] }).sources;
}

test("each function logs to its own group with the configured retention", async (t) => {
  const { routes } = await setup;
  for (const route of routes) {
    const logGroup = only("aws:cloudwatch/logGroup:LogGroup", `chat-${route.name}-logs`);
    t.is(logGroup.inputs.name, `/aws/lambda/chat-test-${route.name}`);
    t.is(logGroup.inputs.retentionInDays, 30);
  }
});

test("each role is assumable by Lambda only, and its rights are one role policy of its own", async (t) => {
  const { routes } = await setup;
  t.is(ofType("aws:iam/role:Role", "chat").length, routes.length + 1, "and the broadcast worker's");
  for (const route of [...routes, { name: "broadcast" }]) {
    const role = only("aws:iam/role:Role", `chat-${route.name}-role`);
    t.deepEqual(JSON.parse(role.inputs.assumeRolePolicy), {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    t.is(role.inputs.inlinePolicies, undefined);
    t.is(ofType("aws:iam/rolePolicy:RolePolicy", `chat-${route.name}`).length, 1);
  }
});

test("each role's policy is inline on its own role: allow statements with a Sid, no wildcard action", async (t) => {
  // What each grants, exactly, is pinned by value in the next test.
  const { routes } = await setup;
  for (const route of [...routes, { name: "broadcast" }]) {
    const role = only("aws:iam/role:Role", `chat-${route.name}-role`);
    const policy = only("aws:iam/rolePolicy:RolePolicy", `chat-${route.name}-policy`);
    t.is(policy.inputs.role, role.id);
    for (const statement of statementsOf(policy)) {
      t.is(statement.Effect, "Allow");
      t.deepEqual(
        Object.keys(statement)
          .filter((key) => key !== "Condition")
          .sort(),
        ["Action", "Effect", "Resource", "Sid"],
      );
      const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      for (const action of actions as string[]) t.false(action.includes("*"), `${route.name}: ${action}`);
    }
  }
});

test("each route's policy, exactly: the tables, the room index and posting only where the route needs them", async (t) => {
  await setup;
  const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/chat-connections-7f3a9c1`;
  const index = `${table}/index/byRoom`;
  const messages = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/chat-messages-7f3a9c1`;
  const limits = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/chat-limits-7f3a9c1`;
  const post = `execute-api:ManageConnections arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/POST/@connections/*`;
  const logs = (name: string) => [
    `logs:CreateLogStream arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/chat-test-${name}:*`,
    `logs:PutLogEvents arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/chat-test-${name}:*`,
  ];
  const policy = (name: string) => grants(statementsOf(only("aws:iam/rolePolicy:RolePolicy", `chat-${name}-policy`)));
  // The join notice removes members whose post answers 410: without DeleteItem, AWS refuses it.
  t.deepEqual(policy("onconnect"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:GetItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:PutItem ${table}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${limits}`,
    post,
    ...logs("onconnect"),
  ]);
  t.deepEqual(policy("ondisconnect"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${limits}`,
    post,
    ...logs("ondisconnect"),
  ]);
  t.deepEqual(policy("sendmessage"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:GetItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:PutItem ${messages}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${limits}`,
    `dynamodb:UpdateItem ${messages}`,
    post,
    `lambda:InvokeFunction arn:aws:lambda:${REGION}:${ACCOUNT}:function:chat-test-broadcast`,
    ...logs("sendmessage"),
  ]);
  // The worker: its slice read, posted to, gone members removed, and claims written, nothing else.
  t.deepEqual(policy("broadcast"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:PutItem ${messages}`,
    `dynamodb:Query ${index}`,
    post,
    ...logs("broadcast"),
  ]);
  const claims = statementsOf(only("aws:iam/rolePolicy:RolePolicy", "chat-broadcast-policy")).find(
    (statement) => statement.Sid === "MessagesTable",
  );
  // Claims only: no room's history partition begins with `#`.
  t.deepEqual(claims?.Condition, { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["#fanout#*"] } });
  t.deepEqual(policy("who"), [
    `dynamodb:GetItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${limits}`,
    ...logs("who"),
  ]);
  t.deepEqual(policy("history"), [
    `dynamodb:GetItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:Query ${messages}`,
    `dynamodb:UpdateItem ${limits}`,
    ...logs("history"),
  ]);
  t.deepEqual(policy("join"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:GetItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:PutItem ${table}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${table}`,
    `dynamodb:UpdateItem ${limits}`,
    post,
    ...logs("join"),
  ]);
  t.deepEqual(policy("leave"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${table}`,
    `dynamodb:UpdateItem ${limits}`,
    post,
    ...logs("leave"),
  ]);
  t.deepEqual(policy("typing"), [
    `dynamodb:DeleteItem ${table}`,
    `dynamodb:GetItem ${table}`,
    `dynamodb:GetItem ${limits}`,
    `dynamodb:Query ${index}`,
    `dynamodb:UpdateItem ${limits}`,
    post,
    ...logs("typing"),
  ]);
  for (const change of ["edit", "delete"]) {
    t.deepEqual(policy(change), [
      `dynamodb:DeleteItem ${table}`,
      `dynamodb:GetItem ${table}`,
      `dynamodb:GetItem ${limits}`,
      `dynamodb:Query ${index}`,
      `dynamodb:UpdateItem ${limits}`,
      `dynamodb:UpdateItem ${messages}`,
      post,
      `lambda:InvokeFunction arn:aws:lambda:${REGION}:${ACCOUNT}:function:chat-test-broadcast`,
      ...logs(change),
    ]);
  }
});

test("the broadcast worker: its own function at 1,024 MB, invoked asynchronously without retries, by the routes that fan out only", async (t) => {
  await setup;
  const fn = only("aws:lambda/function:Function", "chat-broadcast-function");
  t.is(fn.inputs.name, "chat-test-broadcast");
  t.is(fn.inputs.memorySize, 1024);
  t.is(fn.inputs.timeout, 10);
  t.is(fn.inputs.role, only("aws:iam/role:Role", "chat-broadcast-role").state.arn);
  t.deepEqual(fn.inputs.environment, {
    variables: {
      ...functionEnvironment("chat-test"),
      ...RATE_LIMITS,
      TABLE_NAME: "chat-connections-7f3a9c1",
      MESSAGES_TABLE_NAME: "chat-messages-7f3a9c1",
      BROADCAST_CONCURRENCY: "20",
      HISTORY_TTL_SECONDS: "3600",
    },
  });
  const invokeConfig = only("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "chat-broadcast-async");
  t.is(invokeConfig.inputs.functionName, "chat-test-broadcast");
  t.is(invokeConfig.inputs.maximumRetryAttempts, 0);
  t.is(invokeConfig.inputs.maximumEventAgeInSeconds, 60);
  // No API Gateway permission, integration or route: only the roles of the routes that fan out may invoke it.
  t.deepEqual(
    resources
      .filter((resource) => resource.name.startsWith("chat-broadcast-"))
      .map((resource) => resource.type)
      .sort(),
    [
      "aws:cloudwatch/logGroup:LogGroup",
      "aws:iam/role:Role",
      "aws:iam/rolePolicy:RolePolicy",
      "aws:lambda/function:Function",
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    ],
  );
  const sources = await bundledSources(fn);
  t.true(sources.includes("functions/handlers/broadcast-worker.ts"));
  t.false(sources.includes("functions/handlers/sendmessage.ts"));
  t.is(only("aws:cloudwatch/logGroup:LogGroup", "chat-broadcast-logs").inputs.retentionInDays, 30);
});

test("the stage auto-deploys, is throttled and waits for every route", async (t) => {
  const { chat } = await setup;
  const stage = only("aws:apigatewayv2/stage:Stage", "chat-stage");
  t.is(stage.inputs.apiId, API_ID);
  t.is(stage.inputs.name, "prod");
  t.true(stage.inputs.autoDeploy);
  t.deepEqual(stage.inputs.defaultRouteSettings, { throttlingBurstLimit: 200, throttlingRateLimit: 75 });
  const dependsOn = dependsOnOf("chat-stage");
  t.is(dependsOn.length, 2 * chat.routes.length + 7, "each route and integration, and the seven route responses");
  for (const route of chat.routes) {
    t.true(dependsOn.includes(route.route));
    t.true(dependsOn.includes(route.integration));
  }
});

test("the component's outputs point at the stage and the table", async (t) => {
  const { chat } = await setup;
  t.is(await resolved(chat.url), `wss://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`);
  t.is(await resolved(chat.managementEndpoint), `https://${API_ID}.execute-api.${REGION}.amazonaws.com/prod`);
  t.is(await resolved(chat.tableName), "chat-connections-7f3a9c1");
  t.is(await resolved(chat.messagesTableName), "chat-messages-7f3a9c1");
});

test("a two-way route gets a route response and a role with only its logs", async (t) => {
  const { echo } = await setup;
  const route = only("aws:apigatewayv2/route:Route", "echo-echo-route");
  t.is(route.inputs.routeResponseSelectionExpression, "$default");
  const response = only("aws:apigatewayv2/routeResponse:RouteResponse", "echo-echo-response");
  t.is(response.inputs.apiId, API_ID);
  t.is(response.inputs.routeId, route.id);
  t.is(response.inputs.routeResponseKey, "$default");
  const logs = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/echo-test-echo:*`;
  t.deepEqual(grants(statementsOf(only("aws:iam/rolePolicy:RolePolicy", "echo-echo-policy"))), [
    `logs:CreateLogStream ${logs}`,
    `logs:PutLogEvents ${logs}`,
  ]);
  const fn = only("aws:lambda/function:Function", "echo-echo-function");
  t.deepEqual(fn.inputs.environment, {
    variables: {
      ...functionEnvironment("echo-test"),
      ...RATE_LIMITS,
      TABLE_NAME: "echo-connections-7f3a9c1",
      MESSAGES_TABLE_NAME: "echo-messages-7f3a9c1",
      LIMITS_TABLE_NAME: "echo-limits-7f3a9c1",
    },
  });
  const routeResponse = echo.routes[0]?.routeResponse;
  t.truthy(routeResponse);
  t.true(dependsOnOf("echo-stage").includes(routeResponse as pulumi.Resource));
  t.is(ofType("aws:apigatewayv2/routeResponse:RouteResponse", "echo").length, 1);
});

test("the account's API Gateway logging setting, its role and policy outlive pulumi destroy: other APIs of the region log with them", async (t) => {
  const { echo } = await setup;
  await resolved(pulumi.all([echo.accessLog?.account?.urn]));
  for (const name of ["echo-apigateway-account", "echo-apigateway-logs-role", "echo-apigateway-logs-policy"]) {
    t.true(options.get(name)?.retainOnDelete, name);
  }
  t.falsy(options.get("echo-access-logs")?.retainOnDelete, "the stage's own log group goes with the stack");
});

test("a stack name Lambda's function names cannot hold (a dot, which Pulumi allows) fails the preview, saying what to name it", async (t) => {
  await setup;
  const { validate } = require("../../../infra/chat-api-settings") as typeof import("../../../infra/chat-api-settings");
  const valid = { stageName: "dev", throttlingBurstLimit: 10, throttlingRateLimit: 5, logRetentionDays: 14 };
  t.throws(() => validate("websocket-chat", valid, "prod.eu"), {
    message:
      'stack name "prod.eu" cannot be part of a Lambda function name (websocket-chat-prod.eu-onconnect): Lambda allows only letters, digits, - and _ there; use a stack named like prod-eu',
  });
  t.notThrows(() => validate("websocket-chat", valid, "prod-eu_2"));
});

test("arguments AWS would reject fail before anything is registered", async (t) => {
  const { ChatApi, routes } = await setup;
  const valid = { stageName: "dev", throttlingBurstLimit: 10, throttlingRateLimit: 5, logRetentionDays: 14 };
  const count = resources.length;
  t.throws(() => new ChatApi("bad1", { ...valid, logRetentionDays: 13 }), { message: /logRetentionDays/ });
  t.throws(() => new ChatApi("bad2", { ...valid, lambdaTimeoutSeconds: 30 }), { message: /lambdaTimeoutSeconds/ });
  t.throws(() => new ChatApi("bad3", { ...valid, stageName: "my stage" }), { message: /stageName/ });
  t.throws(() => new ChatApi("bad4", { ...valid, broadcastConcurrency: 0 }), { message: /broadcastConcurrency/ });
  t.throws(() => new ChatApi("bad5", { ...valid, throttlingBurstLimit: -1 }), { message: /throttlingBurstLimit/ });
  t.throws(() => new ChatApi("a".repeat(60), valid), { message: /longer than 64/ });
  t.throws(() => new ChatApi("bad.name", valid), { message: /may hold only letters, digits, - and _/ });
  t.throws(() => new ChatApi("bad6", { ...valid, lambdaMemorySize: 64 }), { message: /lambdaMemorySize/ });
  t.throws(() => new ChatApi("bad8", { ...valid, historyTtlSeconds: 30 }), { message: /historyTtlSeconds must be/ });
  const refused: [Partial<ChatApiArgs>, RegExp][] = [
    [{ rateLimits: { messages: { perUser: -1 } } }, /rateLimits: messages.perUser must be a whole number from 0/],
    [{ rateLimits: { reads: { perAddress: 2.5 } } }, /rateLimits: reads.perAddress must be a whole number/],
    [{ rateLimits: { connects: { seconds: 0 } } }, /rateLimits: connects.seconds must be a whole number from 1/],
    [{ rateLimits: { connectionsPerUser: "ten" as never } }, /rateLimits: connectionsPerUser must be/],
    [{ roomsPerConnection: 0 }, /roomsPerConnection must be an integer from 1 to 100/],
    [{ alarms: true, alarmEmail: "not an address" }, /alarmEmail must be an e-mail address/],
    [{ alarmEmail: "oncall@example.com" }, /alarmEmail is set but alarms is off/],
    [{ lambdaConcurrency: 0 }, /lambdaConcurrency must be an integer from 1/],
    [{ lambdaConcurrency: 10.5 }, /lambdaConcurrency must be an integer from 1/],
    // A new account's 50: Lambda keeps 100 unreserved, so no function may reserve any.
    [
      { lambdaConcurrency: 50, auth: { mode: "guest", reservedConcurrency: 1 } },
      /tokenReservedConcurrency 1 would leave fewer than the 100 unreserved executions Lambda keeps of lambdaConcurrency 50/,
    ],
    [
      { lambdaConcurrency: 1000, auth: { mode: "guest", reservedConcurrency: 901 } },
      /tokenReservedConcurrency 901 would leave fewer than the 100 unreserved/,
    ],
    [{ apiGatewayAccountRole: true }, /apiGatewayAccountRole is only needed with accessLogs/],
    [{ customDomain: { domainName: "chat.example.com" } }, /set both or neither/],
    [{ customDomain: { domainName: "Chat Example", certificateArn: CERTIFICATE_ARN } }, /customDomainName must be/],
    [{ customDomain: { domainName: "chat.example.com", certificateArn: "cert" } }, /must be an ACM certificate ARN/],
    [{ logLevel: "WARN" as never }, /logLevel must be one of TRACE, DEBUG, INFO/],
    [{ architecture: "sparc" as never }, /lambdaArchitecture must be arm64 or x86_64/],
  ];
  for (const [index, [bad, message]] of refused.entries()) {
    t.throws(() => new ChatApi(`refused${index}`, { ...valid, ...bad }), { message }, JSON.stringify(bad));
  }
  const greedy = routes.map((route) => ({ ...route, memorySize: 20_000 }));
  t.throws(() => new ChatApi("bad7", { ...valid, routes: greedy }), { message: /memorySize of route \$connect/ });
  // A resource is queued for registration the moment it is constructed; wait until every queued
  // registration is done, as the program's end does.
  await waitForRegistrations();
  t.is(resources.length, count);
});

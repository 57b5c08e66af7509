import test from "ava";
import { loadStack, productionInstall, stackConfig } from "../../support/production-install";
import {
  ACCOUNT,
  API_ID,
  functionEnvironment,
  KMS_KEY_ID,
  REGION,
  type RegisteredResource,
  TOKEN_URL_ID,
} from "../../support/pulumi-mocks";
import { DEFAULT_RATE_LIMITS } from "../../support/rate-limits";

const DEFAULT_RATE_LIMITS_JSON = JSON.stringify(DEFAULT_RATE_LIMITS);

/**
 * The stacks as `pulumi up` loads them after `npm ci --omit=dev`: the program run through tsx,
 * under mocks, in a process that finds only the production packages.
 */
const install = productionInstall();
const config = stackConfig("dev");
const setup = loadStack(install, "dev", config);
let resources: RegisteredResource[] = [];
test.before(async () => {
  ({ resources } = await setup);
});

function ofType(type: string): RegisteredResource[] {
  return resources.filter((resource) => resource.type === type);
}

test("the dev stack targets us-east-1 and sets the project's keys", (t) => {
  t.deepEqual(config, {
    "aws:region": "us-east-1",
    "websocket-chat:auth": "guest",
    "websocket-chat:stageName": "dev",
    "websocket-chat:throttlingBurstLimit": "100",
    "websocket-chat:throttlingRateLimit": "50",
    "websocket-chat:logRetentionDays": "14",
    "websocket-chat:broadcastConcurrency": "100",
  });
});

test("the stack exports the client URL, the management endpoint, the table names and the token URL", async (t) => {
  const { outputs } = await setup;
  t.like(outputs, {
    url: `wss://${API_ID}.execute-api.${REGION}.amazonaws.com/dev`,
    managementEndpoint: `https://${API_ID}.execute-api.${REGION}.amazonaws.com/dev`,
    tableName: "websocket-chat-connections-7f3a9c1",
    messagesTableName: "websocket-chat-messages-7f3a9c1",
    tokenUrl: `https://${TOKEN_URL_ID}.lambda-url.${REGION}.on.aws/`,
  });
});

test("stack config reaches the stage, the log groups and the functions", async (t) => {
  await setup;
  const [stage] = ofType("aws:apigatewayv2/stage:Stage");
  t.is(ofType("aws:apigatewayv2/stage:Stage").length, 1);
  t.is(stage?.inputs.name, "dev");
  t.deepEqual(stage?.inputs.defaultRouteSettings, { throttlingBurstLimit: 100, throttlingRateLimit: 50 });
  const logGroups = ofType("aws:cloudwatch/logGroup:LogGroup");
  t.deepEqual(
    logGroups.map((group) => group.inputs.retentionInDays),
    Array.from({ length: 13 }, () => 14),
  );
  const functions = new Map(ofType("aws:lambda/function:Function").map((fn) => [fn.inputs.name, fn.inputs]));
  const routeFunctions = ["onconnect", "ondisconnect", "sendmessage", "who", "history", "join", "leave", "typing"];
  const changes = ["edit", "delete"];
  t.deepEqual(
    [...functions.keys()].sort(),
    [...routeFunctions, ...changes, "authorizer", "broadcast", "token"]
      .map((name) => `websocket-chat-dev-${name}`)
      .sort(),
  );
  for (const route of [...routeFunctions, ...changes, "broadcast"]) {
    t.deepEqual(functions.get(`websocket-chat-dev-${route}`)?.environment, {
      variables: {
        ...functionEnvironment("websocket-chat-dev"),
        RATE_LIMITS: DEFAULT_RATE_LIMITS_JSON,
        TABLE_NAME: "websocket-chat-connections-7f3a9c1",
        MESSAGES_TABLE_NAME: "websocket-chat-messages-7f3a9c1",
        LIMITS_TABLE_NAME: "websocket-chat-limits-7f3a9c1",
        BROADCAST_CONCURRENCY: "100",
        ...(["sendmessage", ...changes].includes(route) && {
          BROADCAST_FUNCTION_NAME: "websocket-chat-dev-broadcast",
          ACCOUNT_CONCURRENCY: "1000",
        }),
      },
    });
  }
  // The dev stack's guests: tokens of this stack for this API, signed in KMS, verified with its public half.
  const guestTokens = { TOKEN_ISSUER: "websocket-chat/dev", TOKEN_AUDIENCE: API_ID };
  // The mocks' key is made in the stack's process: a public key in PEM, as KMS's GetPublicKey gives it.
  const { TOKEN_PUBLIC_KEY, ...authorizerEnvironment } = (functions.get("websocket-chat-dev-authorizer")?.environment
    ?.variables ?? {}) as Record<string, string>;
  t.deepEqual(authorizerEnvironment, {
    ...functionEnvironment("websocket-chat-dev"),
    AUTH_MODE: "guest",
    ...guestTokens,
  });
  t.regex(TOKEN_PUBLIC_KEY ?? "", /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
  t.deepEqual(functions.get("websocket-chat-dev-token")?.environment, {
    variables: {
      ...functionEnvironment("websocket-chat-dev"),
      ...guestTokens,
      TOKEN_KMS_KEY_ID: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KMS_KEY_ID}`,
      RATE_LIMITS: DEFAULT_RATE_LIMITS_JSON,
      LIMITS_TABLE_NAME: "websocket-chat-limits-7f3a9c1",
    },
  });
});

test("one role and one inline policy for each of the thirteen functions", async (t) => {
  await setup;
  t.is(ofType("aws:iam/role:Role").length, 13);
  t.is(ofType("aws:iam/rolePolicy:RolePolicy").length, 13);
});

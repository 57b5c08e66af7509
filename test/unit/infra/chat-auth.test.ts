import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import {
  ACCOUNT,
  API_ID,
  AUTHORIZER_ID,
  functionEnvironment,
  KMS_KEY_ID,
  MOCK_PUBLIC_KEY_PEM,
  REGION,
  type RegisteredResource,
  recordingMocks,
  resolved,
  TOKEN_URL_ID,
} from "../../support/pulumi-mocks";
import { DEFAULT_RATE_LIMITS } from "../../support/rate-limits";

const EXECUTION_ARN = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KMS_KEY_ID}`;
const { mocks, resources } = recordingMocks();
const options = new Map<string, pulumi.ResourceOptions>();

// Prepare: three stacks' worth of chat, one per auth mode, under mocks.
const setup = (async () => {
  await pulumi.runtime.setMocks(mocks, "websocket-chat", "test", false);
  const { ChatApi } = require("../../../infra/chat-api") as typeof import("../../../infra/chat-api");
  const base = { stageName: "dev", throttlingBurstLimit: 10, throttlingRateLimit: 5, logRetentionDays: 7 };
  const recordOptions: pulumi.ResourceTransformation = ({ name, opts }) => {
    options.set(name, opts);
    return undefined;
  };
  const guest = new ChatApi(
    "guest",
    {
      ...base,
      auth: {
        mode: "guest",
        tokenTtlSeconds: 600,
        allowedOrigins: ["https://chat.example.com"],
        reservedConcurrency: 5,
      },
    },
    { transformations: [recordOptions] },
  );
  const oidc = new ChatApi(
    "oidc",
    {
      ...base,
      auth: {
        mode: "oidc",
        issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
        audience: "app-client-id",
        nameClaim: "cognito:username",
      },
    },
    { transformations: [recordOptions] },
  );
  const open = new ChatApi("open", { ...base, auth: { mode: "none" } });
  const tokenUrl = await resolved(guest.tokenUrl as pulumi.Output<string>);
  await resolved(pulumi.all([guest.url, oidc.url, open.url, guest.stage.urn, oidc.stage.urn, open.stage.urn]));
  return {
    ChatApi,
    base,
    tokenUrl,
    oidcTokenUrl: oidc.tokenUrl,
    stacks: new Map([
      ["guest", guest],
      ["oidc", oidc],
    ]),
  };
})();

function only(type: string, name: string): RegisteredResource {
  const matches = resources.filter((resource) => resource.type === type && resource.name === name);
  if (matches.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${matches.length}`);
  return matches[0] as RegisteredResource;
}

const ofType = (type: string, prefix: string) =>
  resources.filter((resource) => resource.type === type && resource.name.startsWith(`${prefix}-`));

/** Every (action, resource) pair a role policy allows, sorted. */
function grants(policyName: string): string[] {
  const document = JSON.parse(only("aws:iam/rolePolicy:RolePolicy", policyName).inputs.policy as string) as {
    Statement: Array<{ Effect: string; Action: string | string[]; Resource: string | string[] }>;
  };
  const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
  return document.Statement.flatMap((statement) =>
    list(statement.Action).flatMap((action) =>
      list(statement.Resource).map((resource) => `${statement.Effect} ${action} ${resource}`),
    ),
  ).sort();
}

test("guest: an RSA 2048 signing key in KMS, its public half given to the authorizer", async (t) => {
  await setup;
  const key = only("aws:kms/key:Key", "guest-auth-signing-key");
  t.like(key.inputs, { customerMasterKeySpec: "RSA_2048", keyUsage: "SIGN_VERIFY", deletionWindowInDays: 7 });
  const authorizer = only("aws:lambda/function:Function", "guest-auth-authorizer-function");
  t.deepEqual(authorizer.inputs.environment.variables, {
    ...functionEnvironment("guest-test"),
    AUTH_MODE: "guest",
    TOKEN_ISSUER: "websocket-chat/test",
    TOKEN_AUDIENCE: API_ID,
    TOKEN_PUBLIC_KEY: MOCK_PUBLIC_KEY_PEM,
  });
  t.is(authorizer.inputs.name, "guest-test-authorizer");
  t.is(authorizer.inputs.runtime, "nodejs24.x");
});

test("guest: the token endpoint is a public function URL with CORS for the page's origin, and may only sign", async (t) => {
  const { tokenUrl } = await setup;
  t.is(tokenUrl, `https://${TOKEN_URL_ID}.lambda-url.${REGION}.on.aws/`);
  const fn = only("aws:lambda/function:Function", "guest-auth-token-function");
  t.is(fn.inputs.name, "guest-test-token");
  t.deepEqual(fn.inputs.environment.variables, {
    ...functionEnvironment("guest-test"),
    TOKEN_ISSUER: "websocket-chat/test",
    TOKEN_AUDIENCE: API_ID,
    TOKEN_KMS_KEY_ID: KEY_ARN,
    TOKEN_TTL_SECONDS: "600",
    // Each address's budget of tokens, in the stack's limits table.
    LIMITS_TABLE_NAME: "guest-limits-7f3a9c1",
    RATE_LIMITS: JSON.stringify(DEFAULT_RATE_LIMITS),
  });
  // A flood of token requests takes at most its reserved share of the account's concurrency.
  t.is(fn.inputs.reservedConcurrentExecutions, 5);
  const url = only("aws:lambda/functionUrl:FunctionUrl", "guest-auth-token-url");
  t.like(url.inputs, { functionName: "guest-test-token", authorizationType: "NONE" });
  t.deepEqual(url.inputs.cors, {
    allowOrigins: ["https://chat.example.com"],
    allowMethods: ["POST"],
    allowHeaders: ["content-type"],
    maxAge: 3600,
  });
  // With auth NONE the provider adds the two statements a new URL needs itself: none declared again.
  t.deepEqual(
    resources.filter(
      (resource) =>
        resource.type === "aws:lambda/permission:Permission" &&
        resource.inputs.principal !== "apigateway.amazonaws.com",
    ),
    [],
    "no public statement declared: only API Gateway's to invoke the routes and the authorizer",
  );
  t.deepEqual(grants("guest-auth-token-policy"), [
    `Allow dynamodb:GetItem arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/guest-limits-7f3a9c1`,
    `Allow dynamodb:UpdateItem arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/guest-limits-7f3a9c1`,
    `Allow kms:Sign ${KEY_ARN}`,
    `Allow logs:CreateLogStream arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/guest-test-token:*`,
    `Allow logs:PutLogEvents arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/guest-test-token:*`,
  ]);
});

test("the authorizer: REQUEST on the token query parameter, no result TTL, attached to $connect alone", async (t) => {
  const { stacks } = await setup;
  for (const name of ["guest", "oidc"]) {
    const fn = only("aws:lambda/function:Function", `${name}-auth-authorizer-function`);
    const authorizer = only("aws:apigatewayv2/authorizer:Authorizer", `${name}-auth-authorizer`);
    t.like(authorizer.inputs, {
      apiId: API_ID,
      authorizerType: "REQUEST",
      authorizerUri: fn.state.invokeArn,
      identitySources: ["route.request.querystring.token"],
    });
    // AWS refuses a TTL for WebSocket APIs ("cannot be set for WEBSOCKET protocol Apis").
    t.is(authorizer.inputs.authorizerResultTtlInSeconds, undefined);
    t.is(authorizer.inputs.authorizerPayloadFormatVersion, undefined);
    const routes = ofType("aws:apigatewayv2/route:Route", name);
    for (const route of routes) {
      if (route.inputs.routeKey === "$connect") {
        t.like(route.inputs, { authorizationType: "CUSTOM", authorizerId: AUTHORIZER_ID });
      } else {
        t.is(route.inputs.authorizationType, undefined, route.inputs.routeKey);
      }
    }
    t.like(only("aws:lambda/permission:Permission", `${name}-auth-authorizer-permission`).inputs, {
      action: "lambda:InvokeFunction",
      function: `${name}-test-authorizer`,
      principal: "apigateway.amazonaws.com",
      sourceArn: `${EXECUTION_ARN}/authorizers/${AUTHORIZER_ID}`,
    });
    // Nothing but its own logs: no KMS, no table.
    t.deepEqual(grants(`${name}-auth-authorizer-policy`), [
      `Allow logs:CreateLogStream arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${name}-test-authorizer:*`,
      `Allow logs:PutLogEvents arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${name}-test-authorizer:*`,
    ]);
    // The stage deploys only once the authorizer exists and may be invoked.
    const stageDependsOn = (options.get(`${name}-stage`)?.dependsOn ?? []) as pulumi.Resource[];
    const auth = stacks.get(name)?.auth;
    t.true(
      auth !== undefined && stageDependsOn.includes(auth.authorizer),
      `${name}: the stage waits for the authorizer`,
    );
    t.true(auth !== undefined && stageDependsOn.includes(auth.authorizerPermission), `${name}: and its permission`);
  }
});

test("oidc: the issuer's settings reach the authorizer; no key, no token endpoint", async (t) => {
  const { oidcTokenUrl } = await setup;
  t.deepEqual(only("aws:lambda/function:Function", "oidc-auth-authorizer-function").inputs.environment.variables, {
    ...functionEnvironment("oidc-test"),
    AUTH_MODE: "oidc",
    OIDC_ISSUER: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
    OIDC_AUDIENCE: "app-client-id",
    OIDC_NAME_CLAIM: "cognito:username",
  });
  t.deepEqual(ofType("aws:kms/key:Key", "oidc"), []);
  t.deepEqual(ofType("aws:lambda/functionUrl:FunctionUrl", "oidc"), []);
  t.is(oidcTokenUrl, undefined);
});

test("none: no authorizer, $connect open, only the routes' functions and the broadcast worker", async (t) => {
  await setup;
  t.deepEqual(ofType("aws:apigatewayv2/authorizer:Authorizer", "open"), []);
  t.is(only("aws:apigatewayv2/route:Route", "open-onconnect-route").inputs.authorizationType, undefined);
  t.deepEqual(
    ofType("aws:lambda/function:Function", "open")
      .map((fn) => fn.inputs.name)
      .sort(),
    [
      "broadcast",
      "delete",
      "edit",
      "history",
      "join",
      "leave",
      "onconnect",
      "ondisconnect",
      "sendmessage",
      "typing",
      "who",
    ].map((name) => `open-test-${name}`),
  );
});

const invalid: Array<[string, object, RegExp]> = [
  [
    "a token TTL under 30 s",
    { mode: "guest", tokenTtlSeconds: 5 },
    /tokenTtlSeconds must be an integer from 30 to 86400/,
  ],
  ["an origin with a path", { mode: "guest", allowedOrigins: ["https://chat.example.com/app"] }, /tokenAllowedOrigins/],
  [
    "no reserved concurrency at all",
    { mode: "guest", reservedConcurrency: 0 },
    /tokenReservedConcurrency must be an integer from 1 to 1000/,
  ],
  [
    "an issuer over http",
    { mode: "oidc", issuer: "http://issuer.example.com", audience: "a" },
    /oidcIssuer must be an https URL/,
  ],
  ["no audience", { mode: "oidc", issuer: "https://issuer.example.com", audience: " " }, /oidcAudience must be set/],
  [
    "a shared-secret algorithm",
    { mode: "oidc", issuer: "https://issuer.example.com", audience: "a", algorithms: ["RS256", "HS256"] },
    /oidcAlgorithms may name RS256, .*; got HS256/,
  ],
  ["an unknown mode", { mode: "magic" }, /auth must be guest, oidc or none/],
];
for (const [what, auth, message] of invalid) {
  test(`refused before anything is created: ${what}`, async (t) => {
    const { ChatApi, base } = await setup;
    t.throws(() => new ChatApi(`bad-${what.replace(/\W+/g, "-")}`, { ...base, auth: auth as never }), { message });
  });
}

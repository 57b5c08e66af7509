/**
 * The `$connect` authorizer against API Gateway's documented behaviour, over real sockets:
 * - identity source missing or empty: 401 without invoking (API reference, CreateAuthorizer, IdentitySource);
 * - "Unauthorized": 401; a policy that does not allow the methodArn: 403; any other failure or a
 *   malformed answer: 500 (developer guide, "Lambda REQUEST authorizers for WebSocket APIs",
 *   "Output from an API Gateway Lambda authorizer");
 * - the event: type REQUEST, methodArn ending in `/$connect`, headers (the upgrade's Connection and
 *   Upgrade among them, which `$connect` itself never gets), multi-value headers, query strings,
 *   stageVariables, requestContext (the developer guide's example event);
 * - a result over 8 KB ("AWS Lambda authorizer result size: 8 KB", WebSocket quotas): 500, the
 *   answer being this gateway's choice;
 * - `requestContext.authorizer` on every later event, context values stringified;
 * - no result cache for WebSocket APIs ("AuthorizerResultTtlInSeconds cannot be set for WEBSOCKET
 *   protocol Apis").
 */
import test from "ava";
import type { AuthorizerHandler } from "../../../../functions/handlers/authorizer";
import type { AuthorizerEvent, AuthorizerResult, WebSocketEvent } from "../../../../functions/runtime/lambda-events";
import type { LocalAuthOptions } from "../../../../local/chat/sign-in";
import { chatGateway } from "../../../support/chat";
import { recordingRoute } from "../../../support/routes";
import { connect, eventually } from "../../../support/websocket";

const allow = (event: AuthorizerEvent, context?: Record<string, unknown>): AuthorizerResult =>
  ({
    principalId: "user-1",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
    ...(context && { context }),
  }) as AuthorizerResult;

/** A gateway whose authorizer does what `decide` says and records what it was asked. */
async function gatewayWith(
  decide: (event: AuthorizerEvent) => Promise<unknown>,
  extra: Omit<Extract<LocalAuthOptions, { mode: "custom" }>, "mode" | "createHandler"> = {},
) {
  const asked: AuthorizerEvent[] = [];
  const events: WebSocketEvent[] = [];
  const handler = (async (event: AuthorizerEvent) => {
    asked.push(event);
    return decide(event);
  }) as AuthorizerHandler;
  const gw = await chatGateway({
    auth: { mode: "custom", createHandler: () => handler, ...extra },
    routes: [
      recordingRoute("$connect", events),
      recordingRoute("$disconnect", events),
      recordingRoute("$default", events),
    ],
    limits: { functionTimeoutMs: 300 },
  });
  return { gw, asked, events };
}

const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 101,
    (error: { status?: number }) => error.status,
  );

test("no token, or an empty one: 401 and the authorizer is not invoked, nor $connect", async (t) => {
  const { gw, asked, events } = await gatewayWith(async (event) => allow(event));
  t.teardown(() => gw.close());
  t.is(await status(connect(gw.url)), 401);
  t.is(await status(connect(`${gw.url}?token=`)), 401);
  t.is(await status(connect(`${gw.url}?other=x`)), 401);
  t.is(asked.length, 0);
  t.is(events.length, 0);
  t.is(gw.log.filter((line) => /status=401 identity source missing \(authorizer not invoked\)$/.test(line)).length, 3);
});

const refusals: Array<[string, (event: AuthorizerEvent) => Promise<unknown>, number]> = [
  [
    'fails with "Unauthorized"',
    async () => {
      throw new Error("Unauthorized");
    },
    401,
  ],
  [
    "fails otherwise",
    async () => {
      throw new Error("database down");
    },
    500,
  ],
  [
    "denies",
    async (event) => {
      const result = allow(event);
      (result.policyDocument.Statement[0] as { Effect: string }).Effect = "Deny";
      return result;
    },
    403,
  ],
  [
    "allows another route only",
    async (event) => {
      const result = allow(event);
      result.policyDocument.Statement[0] = {
        ...result.policyDocument.Statement[0],
        Resource: `${event.methodArn}x`,
      } as never;
      return result;
    },
    403,
  ],
  [
    "allows, and denies by wildcard",
    async (event) => {
      const result = allow(event);
      result.policyDocument.Statement.push({
        Action: "execute-api:*",
        Effect: "Deny",
        Resource: "arn:aws:execute-api:*:*:*/*/*",
      });
      return result;
    },
    403,
  ],
  ["answers without a principalId", async (event) => ({ ...allow(event), principalId: undefined }), 500],
  ["answers without a policy", async () => ({ principalId: "user-1" }), 500],
  ["answers with an object in its context", async (event) => allow(event, { user: { name: "Ada" } }), 500],
  ["answers with an array in its context", async (event) => allow(event, { roles: ["admin"] }), 500],
  ["answers with a result over 8 KB", async (event) => allow(event, { padding: "x".repeat(8 * 1024) }), 500],
  // Past the function timeout (300 ms here); it ends later, so the gateway can close.
  ["times out", (event) => new Promise((resolve) => setTimeout(resolve, 1_000, allow(event))), 500],
];
for (const [what, decide, expected] of refusals) {
  test(`an authorizer that ${what}: ${expected}, no $connect, no row`, async (t) => {
    const { gw, asked, events } = await gatewayWith(decide);
    t.teardown(() => gw.close());
    t.is(await status(connect(`${gw.url}?token=abc`)), expected);
    t.is(asked.length, 1);
    t.is(events.length, 0, "$connect did not run");
    t.is((await gw.table.rows()).length, 0);
    t.true(
      gw.log.some((line) => line.includes(`$connect authorizer connection=`) && line.includes(`status=${expected}`)),
    );
  });
}

test("the authorizer's event is API Gateway's: REQUEST, the $connect methodArn, headers, query strings, stage variables, the request's context", async (t) => {
  const { gw, asked, events } = await gatewayWith(async (event) => allow(event));
  t.teardown(() => gw.close());
  const client = await connect(`${gw.url}?token=abc&room=a&room=b`, { headers: { "X-Custom": "yes" } });
  t.teardown(() => client.socket.terminate());
  await eventually(() => events.length === 1);
  const [event] = asked as [AuthorizerEvent];
  t.is(event.type, "REQUEST");
  t.is(event.methodArn, `arn:aws:execute-api:us-east-1:000000000000:${gw.apiId}/dev/$connect`);
  t.is(event.headers?.["X-Custom"], "yes");
  t.deepEqual(event.multiValueHeaders?.["X-Custom"], ["yes"]);
  t.is(event.headers?.Connection, "Upgrade");
  t.deepEqual(event.multiValueHeaders?.Upgrade, ["websocket"]);
  t.false("Connection" in ((events[0] as WebSocketEvent).headers ?? {}), "$connect does not get them");
  t.deepEqual(event.queryStringParameters, { token: "abc", room: "b" });
  t.deepEqual(event.multiValueQueryStringParameters, { token: ["abc"], room: ["a", "b"] });
  t.deepEqual(event.stageVariables, {});
  const connectContext = (events[0] as WebSocketEvent).requestContext;
  t.like(event.requestContext, {
    routeKey: "$connect",
    eventType: "CONNECT",
    connectionId: connectContext.connectionId,
  });
  t.is(event.requestContext.requestId, connectContext.requestId, "one request: the same id");
  t.false("authorizer" in event.requestContext);
});

test("allowed: requestContext.authorizer, context values stringified, is on $connect and every later MESSAGE and DISCONNECT", async (t) => {
  const { gw, events } = await gatewayWith(async (event) =>
    allow(event, { name: "Ada", count: 3, admin: false, nothing: null }),
  );
  t.teardown(() => gw.close());
  const client = await connect(`${gw.url}?token=abc`);
  client.socket.send("hello");
  await eventually(() => events.length === 2);
  client.socket.close(1000);
  await eventually(() => events.length === 3);
  t.deepEqual(
    events.map((event) => event.requestContext.eventType),
    ["CONNECT", "MESSAGE", "DISCONNECT"],
  );
  for (const event of events) {
    const { integrationLatency, ...authorizer } = event.requestContext.authorizer ?? {};
    t.deepEqual(authorizer, { principalId: "user-1", name: "Ada", count: "3", admin: "false", nothing: null });
    t.is(typeof integrationLatency, "number");
  }
});

test("a result of nearly 8 KB is still taken", async (t) => {
  const { gw, events } = await gatewayWith(async (event) => allow(event, { padding: "x".repeat(7 * 1024) }));
  t.teardown(() => gw.close());
  (await connect(`${gw.url}?token=abc`)).socket.close();
  t.is(String(events[0]?.requestContext.authorizer?.padding).length, 7 * 1024);
});

test("no cache: every $connect runs the authorizer, even with the same token", async (t) => {
  const { gw, asked } = await gatewayWith(async (event) => allow(event));
  t.teardown(() => gw.close());
  for (let i = 0; i < 3; i++) (await connect(`${gw.url}?token=same`)).socket.close();
  t.is(asked.length, 3);
});

test("a header identity source is read in any case; missing, 401 without invoking", async (t) => {
  const { gw, asked } = await gatewayWith(async (event) => allow(event), {
    identitySources: ["route.request.header.Authorization", "route.request.querystring.room"],
  });
  t.teardown(() => gw.close());
  t.is(await status(connect(`${gw.url}?room=a`)), 401, "the header missing");
  t.is(await status(connect(gw.url, { headers: { authorization: "Bearer x" } })), 401, "the query string missing");
  t.is(asked.length, 0);
  const client = await connect(`${gw.url}?room=a`, { headers: { aUtHoRiZaTiOn: "Bearer x" } });
  client.socket.close();
  t.is(asked.length, 1);
});

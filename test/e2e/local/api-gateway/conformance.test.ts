/**
 * The local gateway against API Gateway's documented WebSocket behaviour, over real sockets and
 * with the real AWS SDK management client.
 */
import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import test from "ava";
import { ObjectNotFoundError } from "../../../../dal/errors";
import type { RouteDefinition } from "../../../../functions/routes";
import { createHandlerDependencies } from "../../../../functions/runtime/handler-dependencies";
import type { WebSocketEvent, WebSocketResult } from "../../../../functions/runtime/lambda-events";
import { operatorConfig, within } from "../../../support/chat";
import { deferred } from "../../../support/function-fixtures";
import { testGateway } from "../../../support/gateway";
import { recordingRoute as route } from "../../../support/routes";
import { signedFetch } from "../../../support/sigv4";
import { connect, eventually, type TestClient } from "../../../support/websocket";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ID_PATTERN = /^[A-Za-z0-9_-]{15}=$/;

test("handlers receive API Gateway's CONNECT, MESSAGE and DISCONNECT events with the full requestContext", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [route("$connect", events), route("$disconnect", events), route("$default", events)],
  });
  t.teardown(() => gw.close());

  const client = await connect(`${gw.url}?room=1&room=2&who=ada`, {
    headers: { "X-Custom-Header": "yes", "User-Agent": "test-agent/1.0" },
  });
  client.socket.send("hello");
  await eventually(() => events.length === 2);
  client.socket.close(1000, "bye");
  await eventually(() => events.length === 3);

  const [connectEvt, messageEvt, disconnectEvt] = events as [WebSocketEvent, WebSocketEvent, WebSocketEvent];
  const ctx = connectEvt.requestContext;
  t.is(ctx.routeKey, "$connect");
  t.is(ctx.eventType, "CONNECT");
  t.regex(ctx.connectionId, ID_PATTERN);
  t.regex(ctx.requestId, ID_PATTERN);
  t.is(ctx.extendedRequestId, ctx.requestId, "equal, as in every event captured from AWS");
  t.is(ctx.messageDirection, "IN");
  t.is(ctx.stage, "dev");
  t.regex(ctx.apiId, /^[a-z0-9]{10}$/, "an API id of its own, shaped like AWS's");
  t.is(ctx.domainName, `127.0.0.1:${gw.port}`);
  t.is(typeof ctx.connectedAt, "number");
  t.regex(ctx.requestTime, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  t.true(Math.abs(ctx.requestTimeEpoch - Date.now()) < 60_000);
  t.deepEqual(ctx.identity, { sourceIp: "127.0.0.1", userAgent: "test-agent/1.0" });
  t.is(ctx.messageId, undefined);
  t.is(connectEvt.headers?.["X-Custom-Header"], "yes");
  t.deepEqual(connectEvt.multiValueHeaders?.["X-Custom-Header"], ["yes"]);
  t.is(connectEvt.headers?.["X-Forwarded-For"], "127.0.0.1");
  t.deepEqual(connectEvt.queryStringParameters, { room: "2", who: "ada" });
  t.deepEqual(connectEvt.multiValueQueryStringParameters, { room: ["1", "2"], who: ["ada"] });
  t.false(connectEvt.isBase64Encoded);

  const msgCtx = messageEvt.requestContext;
  t.is(msgCtx.eventType, "MESSAGE");
  t.is(msgCtx.routeKey, "$default");
  t.is(msgCtx.connectionId, ctx.connectionId);
  t.is(msgCtx.connectedAt, ctx.connectedAt);
  t.regex(msgCtx.messageId ?? "", ID_PATTERN);
  t.not(msgCtx.requestId, ctx.requestId);
  t.is(messageEvt.body, "hello");
  t.is(messageEvt.headers, undefined);
  t.is(messageEvt.queryStringParameters, undefined);

  const discCtx = disconnectEvt.requestContext;
  t.is(discCtx.eventType, "DISCONNECT");
  t.is(discCtx.routeKey, "$disconnect");
  t.is(discCtx.connectionId, ctx.connectionId);
  t.is(discCtx.disconnectStatusCode, 1000);
  t.is(discCtx.disconnectReason, "bye");
  t.is(discCtx.messageId, undefined);
  t.is(disconnectEvt.queryStringParameters, undefined);
});

test("each route invocation writes one execution log line with route key, connection id, status and duration", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events), route("$default", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  client.socket.send("x");
  await eventually(() => events.length === 2);
  client.socket.send("y");
  await eventually(() => events.length === 3);
  const id = events[0]?.requestContext.connectionId as string;
  await eventually(() => gw.log.length >= 3);
  t.regex(
    gw.log[0] as string,
    new RegExp(`\\$connect connection=${id.replace(/[-=]/g, "\\$&")} status=200 \\d+\\.\\d ms \\(cold start\\)$`),
  );
  t.regex(gw.log[1] as string, /\$default connection=\S+ status=200 \d+\.\d ms \(cold start\)$/);
  t.regex(gw.log[2] as string, /\$default connection=\S+ status=200 \d+\.\d ms$/, "the second runs warm");
});

/** A route that counts the execution environments built for it and the invocations running in each. */
function countingRoute(routeKey: string, gate: () => Promise<void>) {
  const stats = { environments: 0, maxRunningInOne: 0 };
  const definition: RouteDefinition = {
    ...route(routeKey, []),
    createHandler: () => {
      stats.environments++;
      let running = 0;
      return async () => {
        running++;
        stats.maxRunningInOne = Math.max(stats.maxRunningInOne, running);
        await gate();
        running--;
        return { statusCode: 200 };
      };
    },
  };
  return { definition, stats };
}

test("like Lambda, an execution environment runs one invocation at a time and is reused warm", async (t) => {
  let open: () => void = () => {};
  let opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const { definition, stats } = countingRoute("$default", () => opened);
  const gw = await testGateway({ routes: [definition] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);

  // Three at once: three environments, one invocation in each.
  for (const text of ["a", "b", "c"]) client.socket.send(text);
  await eventually(() => stats.environments === 3);
  open();
  await eventually(() => gw.log.length === 3);
  opened = Promise.resolve();

  // Then one after another: the warm environments serve them, none is built.
  for (const [index, text] of ["d", "e", "f", "g"].entries()) {
    client.socket.send(text);
    await eventually(() => gw.log.length === 4 + index);
  }
  t.is(stats.environments, 3);
  t.is(stats.maxRunningInOne, 1);
  t.is(gw.log.filter((line) => line.endsWith("(cold start)")).length, 3);
});

test("an environment whose invocation timed out is never used again", async (t) => {
  // The first invocation outlives its timeout, then finishes: its environment is idle again, and
  // only the rule can keep the next invocation out of it.
  const release = deferred();
  const finished = deferred();
  let calls = 0;
  const { definition, stats } = countingRoute("$default", async () => {
    if (++calls > 1) return;
    await release.promise;
    finished.resolve();
  });
  const gw = await testGateway({ routes: [definition], limits: { functionTimeoutMs: 100 } });
  t.teardown(() => {
    release.resolve();
    return gw.close();
  });
  const client = await connect(gw.url);

  client.socket.send("slow");
  t.is((await client.nextJson()).message, "Internal server error");
  release.resolve();
  await finished.promise;
  await new Promise((resolve) => setImmediate(resolve)); // its environment is given back after it returns
  client.socket.send("next");
  await eventually(() => gw.log.length === 2);

  t.is(stats.environments, 2);
  t.regex(gw.log[0] as string, /status=502 .*function-timeout/);
  t.regex(gw.log[1] as string, /status=200 .*\(cold start\)$/);
});

test("$connect: the handshake waits for the handler, and a non-2xx result rejects the upgrade with that status", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [
      route("$connect", events, async () => {
        await sleep(100);
        return { statusCode: 401 };
      }),
      route("$disconnect", events),
    ],
  });
  t.teardown(() => gw.close());
  const error = await t.throwsAsync(connect(gw.url));
  t.is((error as Error & { status: number }).status, 401);
  t.is(gw.connectionCount(), 0);
  await gw.close(); // waits for every invocation the gateway started: nothing more can run
  t.deepEqual(
    events.map((e) => e.requestContext.routeKey),
    ["$connect"],
    "a refused connection never gets $disconnect",
  );
});

test("$connect: a handler that throws rejects the upgrade with 502, as API Gateway does for a failed integration", async (t) => {
  const gw = await testGateway({
    routes: [
      route("$connect", [], async () => {
        throw new Error("boom");
      }),
    ],
  });
  t.teardown(() => gw.close());
  const error = await t.throwsAsync(connect(gw.url));
  t.is((error as Error & { status: number }).status, 502);
  t.regex(gw.log.join("\n"), /\$connect .*status=502 .*error: Error: boom/);
});

test("subprotocols: the handler sees the offers and its Sec-WebSocket-Protocol header picks one; without it the 101 names none", async (t) => {
  // "Working with subprotocols": the $connect integration returns the header, else the client's
  // handshake fails (wscat -s chat1 against an API that wants myprotocol: 400; ws and browsers fail
  // a 101 that names no subprotocol after they offered one).
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [
      route("$connect", events, async (event) => {
        const offered = (event.headers?.["Sec-WebSocket-Protocol"] ?? "").split(",").map((p) => p.trim());
        if (offered.includes("myprotocol"))
          return { statusCode: 200, headers: { "Sec-WebSocket-Protocol": "myprotocol" } };
        if (offered.includes("quiet")) return { statusCode: 200 };
        return offered[0] ? { statusCode: 400 } : { statusCode: 200 };
      }),
      route("$disconnect", events),
    ],
  });
  t.teardown(() => gw.close());

  const plain = await connect(gw.url);
  t.is(plain.socket.protocol, "", "no offer, no subprotocol");
  const picked = await connect(gw.url, {}, ["chat1", "myprotocol"]);
  t.is(picked.socket.protocol, "myprotocol");
  const connects = events.filter((e) => e.requestContext.eventType === "CONNECT");
  t.is(connects.at(-1)?.headers?.["Sec-WebSocket-Protocol"], "chat1,myprotocol", "the handler saw the offers as sent");
  const refused = await t.throwsAsync(connect(gw.url, {}, ["chat1"]));
  t.is((refused as Error & { status?: number }).status, 400);
  const unanswered = await t.throwsAsync(connect(gw.url, {}, ["quiet"]));
  t.regex(String(unanswered?.message), /Server sent no subprotocol/, "a 101 without the offered subprotocol fails");
  await eventually(() => events.filter((e) => e.requestContext.eventType === "DISCONNECT").length >= 1);
});

test("$connect is optional: an API without it accepts the connection", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$default", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  t.is(client.socket.readyState, client.socket.OPEN);
  client.socket.send("still routed");
  await eventually(() => events.length === 1);
  t.is(events[0]?.body, "still routed");
});

test("the WebSocket API answers on /{stage} and /ws, and refuses other paths with 403", async (t) => {
  const gw = await testGateway({ stage: "prod", routes: [] });
  t.teardown(() => gw.close());
  t.true(gw.url.endsWith("/prod"));
  await t.notThrowsAsync(connect(gw.url));
  await t.notThrowsAsync(connect(gw.url.replace("/prod", "/ws")));
  const error = await t.throwsAsync(connect(gw.url.replace("/prod", "/dev")));
  t.is((error as Error & { status: number }).status, 403);
});

test("route selection: $request.body.action picks the route; non-JSON and unmatched actions go to $default", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("echo", events), route("$default", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  for (const frame of [
    JSON.stringify({ action: "echo" }),
    "not json",
    JSON.stringify({ action: "nope" }),
    JSON.stringify({ action: 7 }),
    JSON.stringify(["echo"]),
    JSON.stringify({ action: "$connect" }),
  ]) {
    client.socket.send(frame);
  }
  await eventually(() => events.length === 6);
  t.deepEqual(Object.fromEntries(events.map((e) => [e.body, e.requestContext.routeKey])), {
    '{"action":"echo"}': "echo",
    "not json": "$default",
    '{"action":"nope"}': "$default",
    '{"action":7}': "$default",
    '["echo"]': "$default",
    '{"action":"$connect"}': "$default",
  });
});

test('route selection: with no match and no $default the client gets {"message": "Forbidden", ...}, byte for byte as AWS sends it', async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events), route("echo", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  client.socket.send(JSON.stringify({ action: "unknown" }));
  const raw = String(await client.next());
  const reply = JSON.parse(raw) as Record<string, string>;
  t.is(reply.connectionId, events[0]?.requestContext.connectionId);
  t.regex(String(reply.requestId), ID_PATTERN);
  // As captured from AWS with wscat: a space after the first colon and after each comma only.
  t.is(raw, `{"message": "Forbidden", "connectionId":"${reply.connectionId}", "requestId":"${reply.requestId}"}`);
  t.is(events.length, 1, "no handler ran for the message");
  t.is(client.socket.readyState, client.socket.OPEN);
});

test('a handler that throws: the client gets {"message": "Internal server error", ...} and stays connected', async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [
      route("boom", events, async () => {
        throw new TypeError("handler bug");
      }),
      route("ok", events, async () => ({ statusCode: 200, body: "fine" }), { routeResponse: true }),
    ],
  });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  client.socket.send(JSON.stringify({ action: "boom" }));
  const reply = await client.next();
  const { connectionId, requestId } = events[0]?.requestContext ?? {};
  t.is(reply, `{"message": "Internal server error", "connectionId":"${connectionId}", "requestId":"${requestId}"}`);
  t.is(client.socket.readyState, client.socket.OPEN);
  client.socket.send(JSON.stringify({ action: "ok" }));
  t.is(await client.next(), "fine");
});

test("a handler past its function timeout fails like a Lambda timeout; past the integration timeout the client gets 'Endpoint request timed out'", async (t) => {
  const slow = () => new Promise<WebSocketResult>((resolve) => setTimeout(resolve, 400, { statusCode: 200 }));
  const functionTimeout = await testGateway({
    routes: [route("slow", [], slow)],
    limits: { functionTimeoutMs: 50, integrationTimeoutMs: 1000 },
  });
  const integrationTimeout = await testGateway({
    routes: [route("slow", [], slow)],
    limits: { functionTimeoutMs: 1000, integrationTimeoutMs: 50 },
  });
  t.teardown(() => Promise.all([functionTimeout.close(), integrationTimeout.close()]));

  const a = await connect(functionTimeout.url);
  a.socket.send(JSON.stringify({ action: "slow" }));
  t.is((await a.nextJson()).message, "Internal server error");
  const b = await connect(integrationTimeout.url);
  b.socket.send(JSON.stringify({ action: "slow" }));
  const timedOut = String(await b.next());
  const { connectionId, requestId } = JSON.parse(timedOut) as Record<string, string>;
  // Byte for byte as captured from AWS (mangum#128, chalice#1406).
  t.is(
    timedOut,
    `{"message": "Endpoint request timed out", "connectionId":"${connectionId}", "requestId":"${requestId}"}`,
  );
  t.is(a.socket.readyState, a.socket.OPEN);
  t.is(b.socket.readyState, b.socket.OPEN);
});

test("a handler past its function timeout can no longer post to connections or write to DynamoDB, as a stopped Lambda could not", async (t) => {
  let finished: (errors: { post: unknown; put: unknown }) => void = () => {};
  const handlerDone = new Promise<{ post: unknown; put: unknown }>((resolve) => {
    finished = resolve;
  });
  // The handler posts within its 1 s, then waits until the test has seen it time out.
  const timedOut = deferred();
  const late: RouteDefinition = {
    ...route("late", [], undefined, { manageConnections: true, tableActions: { connections: ["dynamodb:PutItem"] } }),
    createHandler: (deps) => async (event) => {
      const manager = deps.managementApi(deps.config.managementEndpoint as string);
      await manager.post(event.requestContext.connectionId, "in time");
      await timedOut.promise;
      const post = await manager.post(event.requestContext.connectionId, "too late").catch((e: unknown) => e);
      const row = {
        connectionId: "late-row",
        apiId: "local",
        stage: "dev",
        room: "lobby",
        roomKey: "local#dev#lobby#0",
        connectedAt: 0,
        sourceIp: "127.0.0.1",
        expiresAt: 0,
      };
      const put = await deps.connections.put(row).catch((e: unknown) => e);
      finished({ post, put });
      return { statusCode: 200 };
    },
  };
  const gw = await testGateway({ routes: [late], limits: { functionTimeoutMs: 1_000 } });
  t.teardown(() => {
    timedOut.resolve();
    return gw.close();
  });
  const client = await connect(gw.url);
  client.socket.send(JSON.stringify({ action: "late" }));
  t.is(await client.next(), "in time");
  t.is((await client.nextJson()).message, "Internal server error");
  timedOut.resolve();
  const errors = await handlerDone;
  t.regex(String(errors.post), /timed out/);
  t.regex(String(errors.put), /timed out/);
  const table = createHandlerDependencies(operatorConfig(gw)).connections;
  await t.throwsAsync(table.get({ connectionId: "late-row" }), { instanceOf: ObjectNotFoundError });
  // Closing the gateway waits for all it started, and the client gets every frame before its close.
  await gw.close();
  await client.closed;
  t.deepEqual(
    client.received.map((frame) => String(frame).slice(0, 12)),
    ["in time", '{"message": '],
    "the late post never reached the client",
  );
});

test("stage throttling: a token bucket per route; a throttled handshake gets 429, a throttled message an error frame, and tokens come back at the rate", async (t) => {
  // "API Gateway throttles requests to your API using the token bucket algorithm [...] Clients may
  // receive 429 Too Many Requests" (developer guide, WebSocket API throttling). A throttled message's
  // answer is not documented: API Gateway's error frame with the 429's reason.
  const events: WebSocketEvent[] = [];
  const echo = route("echo", events, async (event) => ({ statusCode: 200, body: `echo:${event.body}` }), {
    routeResponse: true,
  });
  const gw = await testGateway({
    routes: [route("$connect", events), echo],
    throttling: { burstLimit: 2, rateLimit: 1 },
  });
  t.teardown(() => gw.close());
  // Three handshakes at once (one after another, a busy machine could take a second between them
  // and refill the bucket): two are admitted, the third refused.
  const handshakes = await Promise.allSettled([connect(gw.url), connect(gw.url), connect(gw.url)]);
  const admitted = handshakes.flatMap((handshake) => (handshake.status === "fulfilled" ? [handshake.value] : []));
  const refused = handshakes.flatMap((handshake) => (handshake.status === "rejected" ? [handshake.reason] : []));
  t.is(admitted.length, 2);
  t.deepEqual(
    refused.map((error) => (error as Error & { status?: number }).status),
    [429],
    "the third handshake in a burst of 2",
  );
  const ada = admitted[0] as TestClient;

  for (let i = 0; i < 3; i++) ada.socket.send(JSON.stringify({ action: "echo", i }));
  // The refusal comes at once, before the admitted two have run.
  const answers = [await ada.next(), await ada.next(), await ada.next()].map(String);
  const echoes = answers.filter((answer) => answer.startsWith("echo:"));
  t.deepEqual(echoes.sort(), ['echo:{"action":"echo","i":0}', 'echo:{"action":"echo","i":1}']);
  const [refusal] = answers.filter((answer) => !answer.startsWith("echo:"));
  const throttled = JSON.parse(refusal as string) as Record<string, string>;
  t.is(
    refusal,
    `{"message": "Too Many Requests", "connectionId":"${throttled.connectionId}", "requestId":"${throttled.requestId}"}`,
  );
  t.is(events.filter((e) => e.requestContext.routeKey === "echo").length, 2, "the throttled message ran nothing");
  t.is(ada.socket.readyState, ada.socket.OPEN);
  t.true(gw.log.some((line) => / echo connection=\S+ status=429 throttled by the stage$/.test(line)));

  // At 1 a second (slow enough that a busy machine does not refill the bucket mid-burst), a token is back.
  await sleep(1_100);
  ada.socket.send(JSON.stringify({ action: "echo", i: 3 }));
  t.is(await ada.next(), 'echo:{"action":"echo","i":3}');
});

test("a route with a route response sends the handler's body back to the caller only; a route without one does not", async (t) => {
  const gw = await testGateway({
    routes: [
      route("twoway", [], async (e) => ({ statusCode: 200, body: `echo:${e.body}` }), { routeResponse: true }),
      route("oneway", [], async () => ({ statusCode: 200, body: "never sent" })),
    ],
  });
  t.teardown(() => gw.close());
  const caller = await connect(gw.url);
  const other = await connect(gw.url);
  caller.socket.send(JSON.stringify({ action: "oneway" }));
  caller.socket.send(JSON.stringify({ action: "twoway" }));
  t.is(await caller.next(), 'echo:{"action":"twoway"}');
  // Closing the gateway waits for all it started, and each client gets every frame before its close.
  await gw.close();
  await Promise.all([caller.closed, other.closed]);
  t.deepEqual(caller.received, ['echo:{"action":"twoway"}']);
  t.deepEqual(other.received, []);
});

test("a binary frame from a client closes the connection with 1003, no route runs, and $disconnect reports it", async (t) => {
  // "If a client app sends a binary frame, API Gateway rejects it and disconnects the client with
  // code 1003" (developer guide, "Working with binary media types for WebSocket APIs").
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$default", events), route("$disconnect", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  client.socket.send(Buffer.from(JSON.stringify({ action: "anything" })), { binary: true });
  t.is((await client.closed).code, 1003);
  await eventually(() => events.length === 1);
  t.is(events[0]?.requestContext.eventType, "DISCONNECT", "the binary frame reached no route");
  t.is(events[0]?.requestContext.disconnectStatusCode, 1003);
});

test("a message over the message limit closes the socket with 1009, and $disconnect reports it", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [route("$default", events), route("$disconnect", events)],
    limits: { maxMessageBytes: 1000, maxFrameBytes: 600 },
  });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  // Three frames within the frame limit, one message over the message limit.
  client.socket.send("a".repeat(400), { fin: false });
  client.socket.send("b".repeat(400), { fin: false });
  client.socket.send("c".repeat(400), { fin: true });
  const closed = await client.closed;
  t.is(closed.code, 1009);
  t.is(closed.reason, "Message too big");
  await eventually(() => events.some((e) => e.requestContext.eventType === "DISCONNECT"));
  t.deepEqual(
    events.map((e) => e.requestContext.routeKey),
    ["$disconnect"],
  );
  t.is(events[0]?.requestContext.disconnectStatusCode, 1009);
});

test("a single frame over the 32 KB frame limit closes with 1009 even when the message is within 128 KB", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$default", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  client.socket.send("x".repeat(32 * 1024 + 1));
  t.is((await client.closed).code, 1009);
  t.is(events.length, 0);

  const fragmented = await connect(gw.url);
  fragmented.socket.send("y".repeat(30 * 1024), { fin: false });
  fragmented.socket.send("z".repeat(30 * 1024), { fin: true });
  await eventually(() => events.length === 1);
  t.is(events[0]?.body?.length, 60 * 1024, "a 60 KB message in 30 KB frames is delivered whole");
});

test("the idle timeout closes with 1001 'Going away' and $disconnect reports it", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$disconnect", events)], limits: { idleTimeoutMs: 150 } });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  t.deepEqual(await client.closed, { code: 1001, reason: "Going away" });
  await eventually(() => events.length === 1);
  t.is(events[0]?.requestContext.disconnectStatusCode, 1001);
  t.is(events[0]?.requestContext.disconnectReason, "Going away");
});

/** How long a connection lasted at the gateway: from its CONNECT event's `connectedAt` to its DISCONNECT event. */
function lifetimeMs(events: WebSocketEvent[], connectionId: string): number {
  const of = (type: string) =>
    events.find((e) => e.requestContext.connectionId === connectionId && e.requestContext.eventType === type);
  const disconnect = of("DISCONNECT")?.requestContext;
  if (!disconnect) throw new Error(`no DISCONNECT for ${connectionId}`);
  return (disconnect.requestTimeEpoch as number) - (disconnect.connectedAt as number);
}

test("messages the server pushes reset the idle timer too; ping frames get a pong and do not", async (t) => {
  // AWS documents no rule; connections kept open by server pushes alone are observed
  // (hotsock.io "Keep-alive": a push every 9.5 min holds a connection to its 2 h limit).
  // Margins a loaded machine cannot eat: a push every 100 ms against a 3 s idle timeout (a machine
  // at load 20 was seen to stall its loop past 1 s), and the pinging client pings until it is
  // closed (were pings to count, it would never be).
  const IDLE_MS = 3_000;
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [route("$connect", events), route("$disconnect", events)],
    limits: { idleTimeoutMs: IDLE_MS },
  });
  t.teardown(() => gw.close());
  const pushed = await connect(gw.url);
  const pinging = await connect(gw.url);
  const pushedId = events[0]?.requestContext.connectionId;
  let pushing = true;
  const push = setInterval(() => {
    if (!pushing) return;
    const Data = Buffer.from("tick");
    void gw.management.send(new PostToConnectionCommand({ ConnectionId: pushedId, Data })).catch(() => {});
  }, 100);
  t.teardown(() => clearInterval(push));
  let pongs = 0;
  pinging.socket.on("pong", () => pongs++);
  const ping = setInterval(() => pinging.socket.ping(), 100);
  t.teardown(() => clearInterval(ping));

  // Were pings to count, it would never close: ten idle timeouts is plenty.
  const pingClosed = await within(10 * IDLE_MS, "the pinging client's idle close", pinging.closed);
  clearInterval(ping);
  // Pushed for three idle timeouts, then left alone.
  await eventually(
    () => gw.connectionCount() === 1 && Date.now() - (events[0]?.requestContext.connectedAt ?? 0) >= 3 * IDLE_MS,
    10 * IDLE_MS,
  );
  pushing = false;
  const pushedClosed = await pushed.closed;
  await eventually(() => events.filter((e) => e.requestContext.eventType === "DISCONNECT").length === 2);

  t.deepEqual(pingClosed, { code: 1001, reason: "Going away" });
  t.true(pongs > 0, "pings were answered");
  t.deepEqual(pushedClosed, { code: 1001, reason: "Going away" }, "idle once the pushes stop");
  t.true(lifetimeMs(events, pushedId as string) >= 3 * IDLE_MS, "pushes kept it open past three idle timeouts");
});

test("messages from the client reset the idle timer, but the maximum connection duration still closes with 1001", async (t) => {
  // A message every 100 ms against a 1 s idle timeout; the 3 s maximum measured at the gateway.
  const IDLE_MS = 1_000;
  const MAX_MS = 3_000;
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [route("$connect", events), route("$default", []), route("$disconnect", events)],
    limits: { idleTimeoutMs: IDLE_MS, maxConnectionMs: MAX_MS },
  });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const ping = setInterval(() => client.socket.send("keep-alive"), 100);
  t.teardown(() => clearInterval(ping));

  const closed = await client.closed;
  clearInterval(ping);
  await eventually(() => events.some((e) => e.requestContext.eventType === "DISCONNECT"));

  t.deepEqual(closed, { code: 1001, reason: "Going away" });
  // Never before the maximum (an idle close would come first), and so past several idle timeouts.
  t.true(lifetimeMs(events, events[0]?.requestContext.connectionId as string) >= MAX_MS);
});

test("$disconnect fires however the socket closed: client close, client close without status, network drop", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events), route("$disconnect", events)] });
  t.teardown(() => gw.close());
  const byClose = await connect(gw.url);
  const bySilentClose = await connect(gw.url);
  const byDrop = await connect(gw.url);
  await eventually(() => events.length === 3);
  const idOf = (i: number) => events[i]?.requestContext.connectionId;
  const ids = [idOf(0), idOf(1), idOf(2)];

  byClose.socket.close(4000, "user left");
  bySilentClose.socket.close();
  byDrop.socket.terminate(); // TCP gone, no close frame
  await eventually(() => events.length === 6);
  const disconnects = new Map(events.slice(3).map((e) => [e.requestContext.connectionId, e.requestContext]));
  t.is(disconnects.size, 3);
  t.true(ids.every((id) => id !== undefined && disconnects.has(id)));
  const codes = [byClose, bySilentClose, byDrop].map((_, i) => disconnects.get(ids[i] as string)?.disconnectStatusCode);
  t.deepEqual(codes, [4000, 1005, 1006]);
  t.is(disconnects.get(ids[0] as string)?.disconnectReason, "user left");
  t.is(gw.connectionCount(), 0);
});

test("@connections POST delivers text as a text frame and other bytes as a binary frame, answering 200", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const ConnectionId = events[0]?.requestContext.connectionId as string;

  const text = await gw.management.send(new PostToConnectionCommand({ ConnectionId, Data: Buffer.from("héllo ✓") }));
  t.is(text.$metadata.httpStatusCode, 200);
  t.is(await client.next(), "héllo ✓");
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
  await gw.management.send(new PostToConnectionCommand({ ConnectionId, Data: bytes }));
  const frame = await client.next();
  t.true(Buffer.isBuffer(frame));
  t.deepEqual(frame, bytes);
});

test("@connections POST over 128 KB answers 413 PayloadTooLargeException and sends nothing", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const ConnectionId = events[0]?.requestContext.connectionId as string;
  const error = await t.throwsAsync(
    gw.management.send(new PostToConnectionCommand({ ConnectionId, Data: Buffer.alloc(128 * 1024 + 1, 97) })),
  );
  t.true(error instanceof PayloadTooLargeException, `got ${error?.name}`);
  t.is((error as PayloadTooLargeException).$metadata.httpStatusCode, 413);
  await t.notThrowsAsync(
    gw.management.send(new PostToConnectionCommand({ ConnectionId, Data: Buffer.alloc(128 * 1024, 97) })),
  );
  t.is(String(await client.next()).length, 128 * 1024, "exactly 128 KB is still accepted");
  t.is(client.received.length, 1);
});

test("@connections GET answers connectedAt, lastActiveAt and identity", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events), route("$default", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url, { headers: { "User-Agent": "agent/2" } });
  const ConnectionId = events[0]?.requestContext.connectionId as string;
  const connectedAt = events[0]?.requestContext.connectedAt as number;
  await eventually(() => Date.now() > connectedAt); // activity a millisecond or more later
  client.socket.send("activity");
  await eventually(() => events.length === 2);
  const info = await gw.management.send(new GetConnectionCommand({ ConnectionId }));
  t.is(info.$metadata.httpStatusCode, 200);
  t.is(info.ConnectedAt?.getTime(), events[0]?.requestContext.connectedAt);
  t.true((info.LastActiveAt?.getTime() ?? 0) > (info.ConnectedAt?.getTime() ?? 0));
  t.deepEqual(info.Identity, { SourceIp: "127.0.0.1", UserAgent: "agent/2" });
});

test("@connections DELETE closes the socket, answers 204 and fires $disconnect; the id is then gone (410)", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events), route("$disconnect", events)] });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const ConnectionId = events[0]?.requestContext.connectionId as string;
  const deleted = await gw.management.send(new DeleteConnectionCommand({ ConnectionId }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  // As AWS closes it (wscat: `Disconnected (code: 1000, reason: "Connection Closed Normally")`),
  // and as its execution log shows the $disconnect event.
  t.deepEqual(await client.closed, { code: 1000, reason: "Connection Closed Normally" });
  await eventually(() => events.length === 2);
  t.is(events[1]?.requestContext.eventType, "DISCONNECT");
  t.is(events[1]?.requestContext.connectionId, ConnectionId);
  t.is(events[1]?.requestContext.disconnectStatusCode, 1000);
  t.is(events[1]?.requestContext.disconnectReason, "Connection Closed Normally");
  const error = await t.throwsAsync(
    gw.management.send(new PostToConnectionCommand({ ConnectionId, Data: Buffer.from("late") })),
  );
  t.true(error instanceof GoneException);
});

test("@connections with an unknown or closed id answers 410 GoneException to POST, GET and DELETE", async (t) => {
  const gw = await testGateway({ routes: [] });
  t.teardown(() => gw.close());
  const ConnectionId = "AAAAAAAAAAAAAAA=";
  for (const command of [
    new PostToConnectionCommand({ ConnectionId, Data: Buffer.from("x") }),
    new GetConnectionCommand({ ConnectionId }),
    new DeleteConnectionCommand({ ConnectionId }),
  ]) {
    // biome-ignore lint/suspicious/noExplicitAny: three command types through one client
    const error = await t.throwsAsync(gw.management.send(command as any));
    t.true(error instanceof GoneException, `${command.constructor.name}: ${error?.name}`);
    t.is((error as GoneException).$metadata.httpStatusCode, 410);
  }
});

test("@connections errors carry x-amzn-errortype and a JSON body; a method the route does not have answers 404", async (t) => {
  const gw = await testGateway({ routes: [] });
  t.teardown(() => gw.close());
  const gone = await signedFetch(
    `${gw.managementUrl}/@connections/${encodeURIComponent("AAAAAAAAAAAAAAA=")}`,
    { method: "POST", body: "x" },
    { credentials: gw.credentials },
  );
  t.is(gone.status, 410);
  t.is(gone.headers.get("x-amzn-errortype"), "GoneException");
  t.deepEqual(await gone.json(), { message: null });
  // The management API's request ids are UUIDs, unlike the WebSocket API's.
  t.regex(
    gone.headers.get("x-amzn-requestid") ?? "",
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  // A signed call to a method the route does not have (conformance-management.test.ts has the rest).
  const put = await signedFetch(
    `${gw.managementUrl}/@connections/abc`,
    { method: "PUT", body: "x" },
    { credentials: gw.credentials },
  );
  t.is(put.status, 404);
  t.is(put.headers.get("x-amzn-errortype"), "NotFoundException");
  t.deepEqual(await put.json(), { message: "No method found matching route @connections/abc for http method PUT." });
});

test("@connections requires SigV4 for execute-api in the gateway's region: other calls are refused as AWS refuses them and deliver nothing", async (t) => {
  // Not an unsigned call, another service or region, a stale signature or another scheme
  // (Knowledge Center "403 Forbidden"; SDK issues), keys the account does not know, or a
  // signature the secret does not give (IAM's SigV4 troubleshooting).
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events)], region: "eu-west-1" });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const url = `${gw.managementUrl}/@connections/${encodeURIComponent(events[0]?.requestContext.connectionId as string)}`;
  const post = { method: "POST", body: "hello" };
  const answer = async (response: Promise<Response>) => {
    const res = await response;
    return `${res.status} ${res.headers.get("x-amzn-errortype")} ${JSON.stringify(await res.json())}`;
  };

  const keys = { credentials: gw.credentials };
  const unsigned = await answer(fetch(url, post));
  const otherRegion = await answer(signedFetch(url, post, { ...keys, region: "us-east-1" }));
  const otherService = await answer(signedFetch(url, post, { ...keys, region: "eu-west-1", service: "lambda" }));
  const stale = await answer(
    signedFetch(url, post, { ...keys, region: "eu-west-1", signingDate: new Date(Date.now() - 6 * 60_000) }),
  );
  const bearer = await answer(fetch(url, { ...post, headers: { Authorization: "Bearer abc" } }));
  const unknownKey = await answer(signedFetch(url, post, { region: "eu-west-1" }));
  const wrongSecret = await answer(
    signedFetch(url, post, {
      region: "eu-west-1",
      credentials: { accessKeyId: gw.credentials.accessKeyId, secretAccessKey: "guessed" },
    }),
  );
  const signed = await signedFetch(url, { method: "POST", body: "signed" }, { ...keys, region: "eu-west-1" });

  t.is(unsigned, '403 MissingAuthenticationTokenException {"message":"Missing Authentication Token"}');
  t.is(otherRegion, '403 InvalidSignatureException {"message":"Credential should be scoped to a valid region. "}');
  t.is(
    otherService,
    `403 InvalidSignatureException {"message":"Credential should be scoped to correct service: 'execute-api'. "}`,
  );
  t.regex(
    stale,
    /^403 InvalidSignatureException \{"message":"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)"\}$/,
  );
  t.regex(
    bearer,
    /^403 IncompleteSignatureException \{"message":"Authorization header requires 'Credential' parameter\./,
  );
  t.is(
    unknownKey,
    '403 UnrecognizedClientException {"message":"The security token included in the request is invalid."}',
  );
  t.regex(
    wrongSecret,
    /^403 InvalidSignatureException \{"message":"The request signature we calculated does not match/,
  );
  t.is(signed.status, 200);
  t.is(await client.next(), "signed", "only the signed call was delivered");
  await gw.close();
  await client.closed;
  t.deepEqual(client.received, ["signed"]);
});

test("close() while a $connect still runs: that handshake is refused, its $disconnect runs, and close resolves", async (t) => {
  const events: WebSocketEvent[] = [];
  const connecting = deferred();
  const release = deferred();
  const gw = await testGateway({
    routes: [
      route("$connect", events, async () => {
        connecting.resolve();
        await release.promise;
        return { statusCode: 200 };
      }),
      route("$disconnect", events),
    ],
  });
  const pending = connect(gw.url).catch((error: Error & { status?: number }) => error.status);
  await connecting.promise;
  const closed = gw.close(); // closing from here on, while $connect still runs
  release.resolve();
  await closed;
  t.is(await pending, 503, "refused: the gateway is going away");
  t.deepEqual(
    events.map((e) => e.requestContext.eventType),
    ["CONNECT", "DISCONNECT"],
    "the row its $connect wrote is removed",
  );
});

test("close() ends every connection with 1001 and runs $disconnect for each before it resolves", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$disconnect", events)] });
  const clients = await Promise.all([connect(gw.url), connect(gw.url), connect(gw.url)]);
  await gw.close();
  t.is(events.length, 3);
  for (const client of clients) t.deepEqual(await client.closed, { code: 1001, reason: "Going away" });
  t.true(events.every((e) => e.requestContext.disconnectStatusCode === 1001));
});

/**
 * What the `$connect` handler is given and what API Gateway makes of any handler's answer, over
 * real sockets:
 * - CONNECT's headers as AWS sends them: no `Connection` or `Upgrade`, an `X-Amzn-Trace-Id`
 *   (captured `$connect` events; the multiValueHeaders of aws-lambda-go's
 *   `events/testdata/apigw-websocket-request.json`);
 * - a result that is not a Lambda proxy result fails the integration: the Internal server error
 *   frame (middy #1219: `{ConnectionId, Data, statusCode: 200}`), a refused handshake on `$connect`.
 */
import test from "ava";
import type { WebSocketEvent, WebSocketResult } from "../../../../functions/runtime/lambda-events";
import { testGateway } from "../../../support/gateway";
import { recordingRoute as route } from "../../../support/routes";
import { connect, eventually } from "../../../support/websocket";

test("CONNECT's headers: the client's without Connection and Upgrade, with API Gateway's X-Amzn-Trace-Id and X-Forwarded-*", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events)], servePage: false });
  t.teardown(() => gw.close());
  await connect(gw.url, { headers: { "X-Custom": "yes" } });
  await connect(gw.url, { headers: { "X-Amzn-Trace-Id": "Root=1-00000000-000000000000000000000000" } });

  const [first, second] = events as [WebSocketEvent, WebSocketEvent];
  const names = Object.keys(first.headers ?? {});
  t.deepEqual(
    names.filter((name) => /^(connection|upgrade)$/i.test(name)),
    [],
  );
  t.deepEqual(Object.keys(first.multiValueHeaders ?? {}).sort(), [...names].sort());
  for (const name of ["Host", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "X-Custom", "X-Forwarded-For"]) {
    t.true(names.includes(name), name);
  }
  t.regex(first.headers?.["X-Amzn-Trace-Id"] ?? "", /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  t.deepEqual(first.multiValueHeaders?.["X-Amzn-Trace-Id"], [first.headers?.["X-Amzn-Trace-Id"]]);
  t.is(second.headers?.["X-Amzn-Trace-Id"], "Root=1-00000000-000000000000000000000000", "a client's own is kept");
});

const results: Array<[string, unknown]> = [
  ["extra fields (middy #1219)", { ConnectionId: "abc", Data: '"Hello"', statusCode: 200 }],
  ["a body that is not a string", { statusCode: 200, body: { text: "hi" } }],
  ["a string", "hello"],
  ["an array", [{ statusCode: 200 }]],
];

test("a result that is not a Lambda proxy result: the Internal server error frame, the connection stays", async (t) => {
  // Each message names the result its handler returns.
  const answers = new Map<string, unknown>([
    ...results,
    ["nothing", undefined],
    ["null", null],
    ["every field", { statusCode: 200, headers: {}, multiValueHeaders: {}, body: "ok", isBase64Encoded: false }],
  ]);
  const events: WebSocketEvent[] = [];
  const behaviour = async (event: WebSocketEvent) => answers.get(event.body ?? "") as WebSocketResult;
  const gw = await testGateway({
    routes: [route("$default", events, behaviour, { routeResponse: true })],
    servePage: false,
  });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  for (const [what] of results) {
    client.socket.send(what);
    const frame = JSON.parse(String(await client.next())) as Record<string, string>;
    t.is(frame.message, "Internal server error", what);
  }
  t.is(
    gw.log.filter((line) => / \$default connection=\S+ status=502 .*Malformed Lambda proxy response/.test(line)).length,
    4,
  );

  // No result at all is a 200, and so is a result with every field a proxy result may have.
  client.socket.send("nothing");
  client.socket.send("null");
  await eventually(() => events.length === 6);
  client.socket.send("every field");
  t.is(await client.next(), "ok", "no error frame came before the body of the last");
  t.is(gw.log.filter((line) => / \$default connection=\S+ status=200 /.test(line)).length, 3);
  t.is(client.socket.readyState, client.socket.OPEN);
});

test("$connect returning a malformed result: the handshake is refused with 502, as for a failed function", async (t) => {
  const gw = await testGateway({
    routes: [route("$connect", [], async () => ({ statusCode: 200, Data: "x" }) as unknown as WebSocketResult)],
    servePage: false,
  });
  t.teardown(() => gw.close());
  const error = await t.throwsAsync(connect(gw.url));
  t.is((error as Error & { status: number }).status, 502);
  t.is(gw.connectionCount(), 0);
});

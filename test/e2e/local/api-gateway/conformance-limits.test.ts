/**
 * API Gateway's WebSocket quotas that a client or a backend can run into, over real sockets and
 * the real AWS SDK client ("Quotas for configuring and running a WebSocket API",
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html):
 * - "Length, in characters, of the URL for a WebSocket API: 4096" (refused with 414: the answer is
 *   this gateway's choice, AWS documents only the length);
 * - "New connections per second per account (across all WebSocket APIs) per Region: 500", a token
 *   bucket (429, as API Gateway's throttles answer);
 * - PostToConnection's LimitExceededException (429) when "the WebSocket client side buffer is full"
 *   (the API's model); AWS names no size, so the threshold is a setting.
 */
import { once } from "node:events";
import net from "node:net";
import { LimitExceededException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import test from "ava";
import type { WebSocketEvent } from "../../../../functions/runtime/lambda-events";
import { MAX_URL_CHARACTERS } from "../../../../local/api-gateway/handshake";
import { testGateway } from "../../../support/gateway";
import { upgradeRequest } from "../../../support/raw-http";
import { recordingRoute as route } from "../../../support/routes";
import { connect, eventually } from "../../../support/websocket";

const status = (promise: Promise<unknown>) =>
  promise.then(
    () => 101,
    (error: { status?: number }) => error.status,
  );

test("a URL of 4,096 characters connects; one character more is refused before $connect runs", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({ routes: [route("$connect", events)], servePage: false });
  t.teardown(() => gw.close());
  // Counted as the client writes it on AWS: wss://, the API's domain name, the path and the query.
  const withQuery = (characters: number) => {
    const base = `${gw.url.replace(/^ws:/, "wss:")}?q=`;
    return `${gw.url}?q=${"a".repeat(characters - base.length)}`;
  };
  t.is(await status(connect(withQuery(MAX_URL_CHARACTERS))), 101);
  t.is(await status(connect(withQuery(MAX_URL_CHARACTERS + 1))), 414);
  // Local safety comes first: a page of another origin learns nothing of the quota.
  const page = { origin: "http://attacker.example" };
  t.is(await status(connect(withQuery(MAX_URL_CHARACTERS + 1), page)), 403);
  t.is(events.length, 1, "only the first reached $connect");
});

test("new connections a second: past the account's bucket a handshake gets 429, and tokens come back at the rate", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [route("$connect", events)],
    servePage: false,
    limits: { newConnectionsPerSecond: 2 },
  });
  t.teardown(() => gw.close());
  const statuses = await Promise.all(Array.from({ length: 6 }, () => status(connect(gw.url))));
  t.deepEqual([...new Set(statuses)].sort(), [101, 429]);
  t.is(events.length, statuses.filter((code) => code === 101).length, "a throttled handshake never runs $connect");
  t.true(
    gw.log.some((line) => /\$connect connection=\S+ status=429 throttled by the account's new connections/.test(line)),
  );
  await eventually(async () => (await status(connect(gw.url))) === 101, 5000);
});

test("a POST to a client that does not read: once its buffer is full, 429 LimitExceededException; others still get theirs", async (t) => {
  const events: WebSocketEvent[] = [];
  const gw = await testGateway({
    routes: [route("$connect", events)],
    servePage: false,
    limits: { maxClientBufferBytes: 64 * 1024 },
  });
  t.teardown(() => gw.close());
  // A client that reads its handshake's answer, then nothing more.
  const stalled = net.connect(gw.port, "127.0.0.1");
  t.teardown(() => stalled.destroy());
  stalled.write(upgradeRequest("/dev"));
  await once(stalled, "data");
  stalled.pause();
  const reader = await connect(gw.url);
  const [stalledId, readerId] = events.map((event) => event.requestContext.connectionId) as [string, string];
  const post = (ConnectionId: string) =>
    gw.management.send(new PostToConnectionCommand({ ConnectionId, Data: Buffer.alloc(100 * 1024, 120) }));

  // The kernel's socket buffers take some megabytes first; then the gateway's own fills up.
  let refused: unknown;
  for (let posts = 0; posts < 2000 && !refused; posts++)
    refused = await post(stalledId).then(
      () => undefined,
      (error: unknown) => error,
    );
  t.true(refused instanceof LimitExceededException, String(refused));
  t.is((refused as LimitExceededException).$metadata.httpStatusCode, 429);
  await post(readerId);
  t.is((await reader.next()).length, 100 * 1024, "a client that reads still gets its message");

  // Once the client reads again, its buffer drains and posts are taken again.
  stalled.on("data", () => {});
  stalled.resume();
  await eventually(
    async () =>
      post(stalledId).then(
        () => true,
        () => false,
      ),
    10_000,
  );
});

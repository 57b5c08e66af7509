/**
 * Reliability of the chat behind the local gateway: bad input, faults and a crashed server, with
 * the project's own handlers, the real SDK clients and an embedded DynamoDB. Each test ends by
 * checking that nothing was lost: every live client still gets messages, and the connections
 * table holds exactly the live connections.
 *
 * Covered elsewhere, not repeated here: a handler that throws or passes its function or
 * integration timeout (api-gateway-conformance.test.ts: the caller gets the API Gateway error
 * frame and stays connected); the 1,000-client load test (load.test.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import test from "ava";
import { createDocumentClient } from "../../../dal/dynamodb-client";
import { DynamoDBRepository } from "../../../dal/dynamodb-repository";
import { RepositoryError } from "../../../dal/errors";
import { connectingWindowMs } from "../../../functions/chat/connection";
import type { ErrorFrame } from "../../../functions/chat/frames";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { ConnectionGoneError, type ConnectionManager } from "../../../functions/runtime/connection-manager";
import { readFunctionConfig } from "../../../functions/runtime/function-config";
import { createHandlerDependencies } from "../../../functions/runtime/handler-dependencies";
import { connectEvent } from "../../../local/api-gateway/event-builders";
import { isLoopback } from "../../../local/api-gateway/management-routes";
import { startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";
import { type LocalGatewayOptions, startLocalGateway } from "../../../local/express-server";
import { chatGateway, messagesAt, roundTrip, say, whoAmI, within } from "../../support/chat";
import { type TableReader, tableReader } from "../../support/dynamodb";
import { rawRequest, upgradeRequest } from "../../support/raw-http";
import { signedFetch } from "../../support/sigv4";
import { startTcpProxy } from "../../support/tcp-proxy";
import { connect, eventually, type TestClient } from "../../support/websocket";

const ROOT = path.join(__dirname, "..", "..", "..");
const ID_PATTERN = /^[A-Za-z0-9_-]{15}=$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A chat gateway whose DynamoDB sits behind a TCP proxy the test can cut, slow down or stall; the
 * test reads the table directly, not through the proxy.
 */
async function gatewayBehindProxy(
  t: { teardown(fn: () => Promise<void>): void },
  limits: LocalGatewayOptions["limits"],
) {
  const dynamodb = await startEmbeddedDynamoDB();
  const proxy = await startTcpProxy(Number(new URL(dynamodb.endpoint).port));
  const gw = await chatGateway({ dynamodbEndpoint: proxy.endpoint, limits });
  const table = tableReader(dynamodb.endpoint, gw.tableName);
  t.teardown(async () => {
    table.close();
    gw.table.close();
    await proxy.restore();
    await gw.close();
    await proxy.close();
    await dynamodb.close();
  });
  return { proxy, gw, table };
}

/**
 * Waits until every row is older than the connecting window for `integrationTimeoutMs`: before
 * that, a broadcast's 410 for a row may mean a connection still connecting, and keeps it.
 */
async function pastConnectingWindow(table: TableReader, integrationTimeoutMs: number): Promise<void> {
  const newest = Math.max(...(await table.rows()).map((row) => row.connectedAt));
  await sleep(Math.max(0, newest + connectingWindowMs(integrationTimeoutMs) - Date.now() + 50));
}

/** How a frame answers, in a word: `Forbidden`, `error: <message>`, or what was unexpected. */
function answerOf(raw: string | Buffer, connectionId: string): string {
  if (Buffer.isBuffer(raw)) return `binary frame of ${raw.length} bytes`;
  const frame = JSON.parse(raw) as Partial<ErrorFrame> & { connectionId?: string };
  if (
    frame.message === "Forbidden" &&
    frame.connectionId === connectionId &&
    ID_PATTERN.test(frame.requestId ?? "") &&
    Object.keys(frame).length === 3
  ) {
    return "Forbidden";
  }
  if (frame.type === "error" && ID_PATTERN.test(frame.requestId ?? "")) return `error: ${frame.message}`;
  return `unexpected frame ${raw.slice(0, 200)}`;
}

interface Result {
  input: string;
  expected: string;
  observed: string;
}

function report(t: { log(...values: unknown[]): void }, title: string, results: Result[]): void {
  t.log(
    `${title}\n${results.map((r) => `  ${r.input} -> ${r.observed}${r.observed === r.expected ? "" : `   (expected ${r.expected})`}`).join("\n")}`,
  );
}

test("bad input: each bad frame, connect and management call gets a clear answer; the server and every other client carry on", async (t) => {
  t.timeout(90_000);
  // This test is about each input's own answer: its burst of 10,000 frames would otherwise be
  // throttled, which the overload tests cover, or on a busy machine run past the function timeout.
  const gw = await chatGateway({
    limits: { concurrentExecutions: 100_000, behindAfterMs: 0, functionTimeoutMs: 28_000 },
  });
  t.teardown(async () => {
    gw.table.close();
    await gw.close();
  });
  const observers = await Promise.all([connect(gw.url), connect(gw.url), connect(gw.url)]);
  const sender = await connect(gw.url);
  const live = new Map<TestClient, string>();
  for (const client of [...observers, sender]) live.set(client, await whoAmI(client));
  const senderId = live.get(sender) as string;
  const results: Result[] = [];

  // Frames on an open connection: each gets one answer frame, to the sender only.
  const request = (fields: Record<string, unknown>) => JSON.stringify({ action: "sendmessage", ...fields });
  const fragmented = (text: string) => (socket: TestClient["socket"]) => {
    const half = Math.ceil(text.length / 2);
    socket.send(text.slice(0, half), { fin: false });
    socket.send(text.slice(half), { fin: true });
  };
  const deeplyNested = `${"[".repeat(5000)}${"]".repeat(5000)}`;
  const frameCases: Array<{
    input: string;
    send: string | Buffer | ((socket: TestClient["socket"]) => void);
    expected: string;
  }> = [
    { input: "text that is not JSON", send: "hello there", expected: "Forbidden" },
    { input: "an empty text frame", send: "", expected: "Forbidden" },
    { input: "truncated JSON", send: '{"action":"sendmessage","data":"hi"', expected: "Forbidden" },
    { input: "JSON after a byte-order mark", send: `\uFEFF${request({ data: "hi" })}`, expected: "Forbidden" },
    { input: "a JSON array", send: '["sendmessage","hi"]', expected: "Forbidden" },
    { input: "a JSON number", send: "42", expected: "Forbidden" },
    { input: "a JSON string", send: '"sendmessage"', expected: "Forbidden" },
    { input: "JSON null", send: "null", expected: "Forbidden" },
    { input: "action missing", send: '{"data":"hi"}', expected: "Forbidden" },
    { input: "action a number", send: '{"action":7,"data":"hi"}', expected: "Forbidden" },
    { input: "action null", send: '{"action":null,"data":"hi"}', expected: "Forbidden" },
    { input: "action an array", send: '{"action":["sendmessage"],"data":"hi"}', expected: "Forbidden" },
    { input: "action in other case", send: '{"action":"SendMessage","data":"hi"}', expected: "Forbidden" },
    { input: "action unknown", send: '{"action":"deleteeverything","data":"hi"}', expected: "Forbidden" },
    { input: "action $connect", send: '{"action":"$connect"}', expected: "Forbidden" },
    { input: "action $disconnect", send: '{"action":"$disconnect"}', expected: "Forbidden" },
    { input: "data missing", send: request({}), expected: 'error: "data" must be a string' },
    { input: "data empty", send: request({ data: "" }), expected: 'error: "data" must not be empty' },
    { input: "data only whitespace", send: request({ data: " \n\t " }), expected: 'error: "data" must not be empty' },
    { input: "data a number", send: request({ data: 42 }), expected: 'error: "data" must be a string' },
    { input: "data null", send: request({ data: null }), expected: 'error: "data" must be a string' },
    { input: "data true", send: request({ data: true }), expected: 'error: "data" must be a string' },
    { input: "data an object", send: request({ data: { text: "hi" } }), expected: 'error: "data" must be a string' },
    { input: "data an array", send: request({ data: ["hi"] }), expected: 'error: "data" must be a string' },
    {
      input: "data 5,000 arrays deep",
      send: `{"action":"sendmessage","data":${deeplyNested}}`,
      expected: 'error: "data" must be a string',
    },
    {
      input: "data only under __proto__",
      send: '{"action":"sendmessage","__proto__":{"data":"hi"}}',
      expected: 'error: "data" must be a string',
    },
    {
      input: "data 32,769 ASCII bytes (two frames)",
      send: fragmented(request({ data: "x".repeat(32 * 1024 + 1) })),
      expected: 'error: "data" is 32769 bytes; the limit is 32768',
    },
    {
      input: "data 16,385 two-byte characters (32,770 bytes, two frames)",
      send: fragmented(request({ data: "é".repeat(16_385) })),
      expected: 'error: "data" is 32770 bytes; the limit is 32768',
    },
    { input: "name a number", send: request({ data: "hi", name: 7 }), expected: 'error: "name" must be a string' },
    ...(
      [
        ["history with limit 0", { limit: 0 }, '"limit" must be a whole number from 1 to 100'],
        ["history with limit 1e9", { limit: 1e9 }, '"limit" must be a whole number from 1 to 100'],
        ["history with limit as text", { limit: "ten" }, '"limit" must be a whole number from 1 to 100'],
        [
          "history with a made-up cursor",
          { before: "yesterday" },
          '"before" must be null or the "before" of an earlier history answer',
        ],
        [
          "history with a query object as cursor",
          { before: { $gt: "" } },
          '"before" must be null or the "before" of an earlier history answer',
        ],
      ] as const
    ).map(([input, fields, message]) => ({
      input,
      send: JSON.stringify({ action: "history", ...fields }),
      expected: `error: ${message}`,
    })),
    {
      input: "name of 65 characters",
      send: request({ data: "hi", name: "n".repeat(65) }),
      expected: 'error: "name" is 65 characters; the limit is 64',
    },
  ];
  for (const { input, send, expected } of frameCases) {
    if (typeof send === "function") send(sender.socket);
    else sender.socket.send(send, { binary: Buffer.isBuffer(send) });
    const observed = await within(5000, input, sender.next()).then(
      (frame) => answerOf(frame, senderId),
      (error: Error) => error.message,
    );
    results.push({ input, expected, observed });
  }

  // Frames that end the connection: a fresh client each; its $disconnect must run and its row go.
  const closingCases: Array<{ input: string; send: (socket: TestClient["socket"]) => void; expected: string }> = [
    {
      input: "a binary frame",
      send: (socket) => socket.send(Buffer.from([0, 1, 2, 0xfe, 0xff]), { binary: true }),
      expected: "closed 1003",
    },
    {
      input: "a binary frame holding a valid request",
      send: (socket) => socket.send(Buffer.from(request({ data: "hi" })), { binary: true }),
      expected: "closed 1003",
    },
    {
      input: "a text frame with invalid UTF-8",
      send: (socket) => socket.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false }),
      expected: "closed 1007",
    },
    {
      input: "one frame of 32 KB + 1 byte",
      send: (socket) => socket.send("x".repeat(32 * 1024 + 1)),
      expected: "closed 1009 Message too big",
    },
    {
      input: "a 150 KB message in 30 KB frames",
      send: (socket) => {
        for (let i = 0; i < 5; i++) socket.send("y".repeat(30 * 1024), { fin: false });
        socket.send("z", { fin: true });
      },
      expected: "closed 1009 Message too big",
    },
  ];
  for (const { input, send, expected } of closingCases) {
    const client = await connect(gw.url);
    const connectionId = await whoAmI(client);
    send(client.socket);
    const closed = await within(5000, input, client.closed);
    const disconnected = await eventually(
      async () =>
        gw.log.some((line) => line.includes(`$disconnect connection=${connectionId} status=200`)) &&
        !(await gw.table.rows()).some((row) => row.connectionId === connectionId),
    ).then(
      () => "",
      () => ", but $disconnect did not remove its row",
    );
    results.push({
      input,
      expected,
      observed: `closed ${closed.code}${closed.reason ? ` ${closed.reason}` : ""}${disconnected}`,
    });
  }

  // Absurd handshakes: accepted ones must work like any other client (they get the last message).
  const protoNames = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t","hasOwnProperty":"h"}') as Record<
    string,
    string
  >;
  const params = (repeats: number, distinct: number) =>
    [
      ...Array.from({ length: repeats }, (_, i) => `q=${i % 10}`),
      ...Array.from({ length: distinct }, (_, i) => `k${i}=v`),
    ].join("&");
  const tooManyParams = Array.from({ length: 3000 }, (_, i) => `param${i}=${i}`).join("&");
  const connectCases: Array<{ input: string; url?: string; headers?: Record<string, string>; expected: string }> = [
    { input: "an empty room", url: `${gw.url}?room=`, expected: "HTTP 400" },
    { input: "a room with a space", url: `${gw.url}?room=a%20b`, expected: "HTTP 400" },
    { input: "a room of 65 characters", url: `${gw.url}?room=${"r".repeat(65)}`, expected: "HTTP 400" },
    { input: "a room that is an emoji", url: `${gw.url}?room=%F0%9F%98%80`, expected: "HTTP 400" },
    { input: "a room holding the key separator #", url: `${gw.url}?room=a%230`, expected: "HTTP 400" },
    {
      input: "a room given twice (the last one counts, as in API Gateway)",
      url: `${gw.url}?room=x%20y&room=lobby`,
      expected: "connected",
    },
    { input: "a name with a control character", url: `${gw.url}?name=A%07da`, expected: "HTTP 400" },
    { input: "a 15,000-character header value", headers: { "X-Long": "a".repeat(15_000) }, expected: "connected" },
    {
      input: "a 17,000-character header value (over Node's 16 KB)",
      headers: { "X-Long": "a".repeat(17_000) },
      expected: "HTTP 431",
    },
    {
      input: "990 headers",
      headers: Object.fromEntries(Array.from({ length: 990 }, (_, i) => [`x-h${i}`, "v"])),
      expected: "connected",
    },
    {
      // Past Node's header count limit: Node 22 and later refuse the request itself (431); Node 20 keeps
      // the first headers, which cuts off the client's Sec-WebSocket-Key (400).
      input: "1,000 headers (past Node's header count limit)",
      headers: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, "v"])),
      expected: Number(process.versions.node.split(".")[0]) >= 22 ? "HTTP 431" : "HTTP 400",
    },
    {
      input: "Latin-1 and punctuation in header names and values",
      headers: { "X-!#$%&'*+.^_`|~": "café \u00ff\ttab", "X-Quote": `"'<>{}\\` },
      expected: "connected",
    },
    {
      input: "headers named __proto__, constructor, toString, hasOwnProperty",
      headers: protoNames,
      expected: "connected",
    },
    {
      input: "600 query parameters (500 repeats of one name), within the 4,096-character URL",
      url: `${gw.url}?${params(500, 100)}`,
      expected: "connected",
    },
    {
      // "Length, in characters, of the URL for a WebSocket API: 4096" (API Gateway's quotas).
      input: "2,500 query parameters (2,000 repeats of one name), a URL of 11,000 characters",
      url: `${gw.url}?${params(2000, 500)}`,
      expected: "HTTP 414",
    },
    {
      input: "3,000 distinct query parameters (30 KB, over Node's limit)",
      url: `${gw.url}?${tooManyParams}`,
      expected: "HTTP 431",
    },
    {
      input: "query with bad escapes, NUL, emoji, empty names",
      url: `${gw.url}?a=%&b=%E0%A4%A&c=%00&d=%F0%9F%98%80&e=${encodeURIComponent("😀")}&=x&&==&f`,
      expected: "connected",
    },
    {
      input: "query names __proto__, constructor, toString, hasOwnProperty",
      url: `${gw.url}?__proto__=1&constructor=2&toString=3&hasOwnProperty=4&hasOwnProperty=5`,
      expected: "connected",
    },
  ];
  for (const { input, url, headers, expected } of connectCases) {
    const observed = await within(5000, input, connect(url ?? gw.url, { headers })).then(
      async (client) => {
        live.set(client, await whoAmI(client));
        return "connected";
      },
      (error: Error & { status?: number }) => (error.status ? `HTTP ${error.status}` : error.message),
    );
    results.push({ input, expected, observed });
  }
  const rawCases: Array<{ input: string; request: string | Buffer; expected: string }> = [
    {
      input: "raw upgrade with a NUL in a header",
      request: upgradeRequest("/dev", "X-Bad: a\u0000b\r\n"),
      expected: "HTTP/1.1 400 Bad Request",
    },
    {
      input: "raw upgrade with an obsolete folded header",
      request: upgradeRequest("/dev", "X-Fold: a\r\n b\r\n"),
      expected: "HTTP/1.1 400 Bad Request",
    },
    {
      input: "raw upgrade without Sec-WebSocket-Key",
      request: upgradeRequest("/dev", "", { "Sec-WebSocket-Key": undefined }),
      expected: "HTTP/1.1 400 Bad Request",
    },
    {
      input: "raw upgrade with Sec-WebSocket-Version 99",
      request: upgradeRequest("/dev", "", { "Sec-WebSocket-Version": "99" }),
      expected: "HTTP/1.1 400 Bad Request",
    },
    {
      input: "raw upgrade with bytes that are not UTF-8 in the path",
      request: Buffer.concat([
        Buffer.from("GET /dev?q="),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(upgradeRequest("").slice(4)),
      ]),
      expected: "HTTP/1.1 400 Bad Request",
    },
    {
      input: "bytes that are not HTTP",
      request: Buffer.from([0, 1, 2, 3, 13, 10, 13, 10]),
      expected: "HTTP/1.1 400 Bad Request",
    },
  ];
  for (const { input, request: bytes, expected } of rawCases) {
    results.push({ input, expected, observed: await rawRequest(gw.port, bytes) });
  }

  // The management API, with the id of a live observer where an id is needed.
  const target = observers[0] as TestClient;
  const targetPath = `${gw.managementUrl}/@connections/${encodeURIComponent(live.get(target) as string)}`;
  const unknownPath = `${gw.managementUrl}/@connections/${encodeURIComponent("AAAAAAAAAAAAAAA=")}`;
  const managementCases: Array<{ input: string; url: string; init: RequestInit; expected: string }> = [
    {
      input: "POST to an unknown id",
      url: unknownPath,
      init: { method: "POST", body: "x" },
      expected: "410 GoneException",
    },
    { input: "GET of an unknown id", url: unknownPath, init: { method: "GET" }, expected: "410 GoneException" },
    { input: "DELETE of an unknown id", url: unknownPath, init: { method: "DELETE" }, expected: "410 GoneException" },
    {
      input: "PUT to a live id",
      url: targetPath,
      init: { method: "PUT", body: "x" },
      expected: "404 NotFoundException",
    },
    {
      input: "PATCH to a live id",
      url: targetPath,
      init: { method: "PATCH", body: "x" },
      expected: "404 NotFoundException",
    },
    {
      input: "OPTIONS on a live id",
      url: targetPath,
      init: { method: "OPTIONS" },
      expected: "404 NotFoundException",
    },
    {
      input: "POST with an empty body to a live id",
      url: targetPath,
      init: { method: "POST" },
      expected: "400 BadRequestException",
    },
    {
      input: "POST of 131,073 bytes to a live id",
      url: targetPath,
      init: { method: "POST", body: "x".repeat(128 * 1024 + 1) },
      expected: "413 PayloadTooLargeException",
    },
    {
      input: "POST of a body that claims gzip but is not",
      url: targetPath,
      init: { method: "POST", body: "not gzip", headers: { "Content-Encoding": "gzip" } },
      expected: "400 BadRequestException",
    },
    {
      input: "POST to a malformed percent-encoded id",
      url: `${gw.managementUrl}/@connections/%E0%A4%A`,
      init: { method: "POST", body: "x" },
      expected: "400 BadRequestException",
    },
    {
      input: "POST to an 8,000-character id",
      url: `${gw.managementUrl}/@connections/${"A".repeat(8000)}`,
      init: { method: "POST", body: "x" },
      expected: "410 GoneException",
    },
    {
      input: "POST without an id",
      url: `${gw.managementUrl}/@connections/`,
      init: { method: "POST", body: "x" },
      expected: "404 NotFoundException",
    },
    {
      input: "POST under an extra path segment",
      url: `${targetPath}/extra`,
      init: { method: "POST", body: "x" },
      expected: "404 NotFoundException",
    },
  ];
  for (const { input, url, init, expected } of managementCases) {
    const response = await within(5000, input, signedFetch(url, init, { credentials: gw.credentials }));
    await response.arrayBuffer();
    results.push({ input, expected, observed: `${response.status} ${response.headers.get("x-amzn-errortype")}` });
  }

  // A burst of 10,000 frames from one client: every frame answered once, the 10 good ones delivered to all.
  const BURST = 10_000;
  const before = sender.received.length;
  const senderLines = () => gw.log.filter((line) => line.includes(` connection=${senderId} `)).length;
  const linesBefore = senderLines();
  for (let i = 0; i < BURST; i++) {
    if (i % 1000 === 999) say(sender, `burst ${Math.floor(i / 1000)}`);
    else if (i % 2 === 0) sender.socket.send(`not json ${i}`);
    else sender.socket.send(request({ data: "" }));
  }
  const burstStarted = performance.now();
  await eventually(() => sender.received.length - before >= BURST, 60_000).catch(() => undefined);
  await eventually(() => [...live.keys()].every((client) => messagesAt(client).length >= 10), 10_000).catch(
    () => undefined,
  );
  const burstMs = performance.now() - burstStarted;
  // Nothing more can come: every frame's invocation (or "no route") line is written, each before
  // its answer is sent, and a round trip after them has come back (its own answer left out).
  await eventually(() => senderLines() >= linesBefore + BURST, 30_000).catch(() => undefined);
  await roundTrip(sender);
  const answers = new Map<string, number>();
  for (const frame of sender.received.slice(before, -1)) {
    const answer = answerOf(frame, senderId)
      .replace(/^unexpected frame \{"type":"message".*/, "message")
      .replace(/^unexpected frame \{"type":"ack".*/, "ack");
    answers.set(answer, (answers.get(answer) ?? 0) + 1);
  }
  results.push({
    input: "a burst of 10,000 frames from one client (5,000 not JSON, 4,990 with empty data, 10 good)",
    expected: 'Forbidden ×5000, ack ×10, error: "data" must not be empty ×4990, message ×10',
    observed: [...answers]
      .map(([answer, count]) => `${answer} ×${count}`)
      .sort()
      .join(", "),
  });
  const burstSeen = [...live.keys()].map((client) =>
    messagesAt(client)
      .filter((frame) => frame.data.startsWith("burst "))
      .map((frame) => frame.data)
      .sort()
      .join(),
  );
  const allTen = Array.from({ length: 10 }, (_, i) => `burst ${i}`).join();
  results.push({
    input: `the burst's 10 good messages at each of the ${live.size} open clients`,
    expected: "all 10, once each, at every client",
    observed: burstSeen.every((seen) => seen === allTen)
      ? "all 10, once each, at every client"
      : `missing or doubled at ${burstSeen.filter((seen) => seen !== allTen).length} clients`,
  });
  t.log(`the burst took ${Math.round(burstMs)} ms to answer`);

  report(t, "bad input -> answer", results);
  t.deepEqual(
    results.filter((r) => r.observed !== r.expected),
    [],
  );

  // Nothing above reached anyone but its sender; a normal message still reaches every client.
  for (const observer of observers) {
    t.deepEqual(
      messagesAt(observer)
        .map((frame) => frame.data)
        .sort(),
      messagesAt(sender)
        .map((frame) => frame.data)
        .sort(),
      "observers received exactly the messages everyone did (the burst's broadcasts run concurrently)",
    );
    const presence = observer.received.filter((frame) => String(frame).startsWith('{"type":"presence"')).length;
    t.is(
      observer.received.length,
      1 + messagesAt(observer).length + presence,
      "and nothing else but their own who-am-I answer and the lobby's join and leave notices",
    );
  }
  say(observers[1] as TestClient, "still standing", "Ada");
  await eventually(() =>
    [...live.keys()].every((client) => messagesAt(client).some((m) => m.data === "still standing")),
  );
  for (const [client] of live) {
    t.is(messagesAt(client).filter((m) => m.data === "still standing").length, 1);
    t.is(client.socket.readyState, client.socket.OPEN);
  }
  t.deepEqual(
    (await gw.table.rows()).map((row) => row.connectionId).sort(),
    [...live.values()].sort(),
    "the table holds exactly the open connections",
  );
  t.is(gw.connectionCount(), live.size);
});

test("headers and query parameters named like Object.prototype members reach $connect as plain values", (t) => {
  const request = {
    rawHeaders: ["constructor", "c", "__proto__", "p", "toString", "t1", "toString", "t2", "Host", "h"],
    url: "/dev?__proto__=1&constructor=2&valueOf=3&valueOf=4",
    socket: { localPort: 8080 },
  } as unknown as IncomingMessage;
  const event = connectEvent(
    { apiId: "local", stage: "dev", domainName: "h" },
    { connectionId: "AAAAAAAAAAAAAAA=", connectedAt: 1, sourceIp: "127.0.0.1" },
    request,
    1,
  );
  const headers = event.headers as Record<string, string>;
  t.true(Object.hasOwn(headers, "__proto__"));
  t.is(Object.getPrototypeOf(headers), Object.prototype, "a header cannot replace the prototype");
  t.deepEqual(Object.entries(headers).slice(0, 4), [
    ["constructor", "c"],
    ["__proto__", "p"],
    ["toString", "t1,t2"],
    ["Host", "h"],
  ]);
  t.deepEqual(Object.entries(event.multiValueHeaders ?? {}).slice(0, 4), [
    ["constructor", ["c"]],
    ["__proto__", ["p"]],
    ["toString", ["t1", "t2"]],
    ["Host", ["h"]],
  ]);
  t.deepEqual(Object.entries(event.queryStringParameters ?? {}), [
    ["__proto__", "1"],
    ["constructor", "2"],
    ["valueOf", "4"],
  ]);
  t.deepEqual(Object.entries(event.multiValueQueryStringParameters ?? {}), [
    ["__proto__", ["1"]],
    ["constructor", ["2"]],
    ["valueOf", ["3", "4"]],
  ]);
  t.is(
    Object.getOwnPropertyDescriptor(JSON.parse(JSON.stringify(event)).headers, "__proto__")?.value,
    "p",
    "serialized as Lambda would receive it",
  );
});

test("a fault in the gateway's own $connect path refuses that handshake with 500 instead of hanging it", async (t) => {
  let failures = 1;
  const gw = await startLocalGateway({
    port: 0,
    servePage: false,
    // Stands for any fault of the gateway around the handler (here: its log sink throws once).
    log: (line) => {
      if (failures > 0 && line.includes("$connect") && !line.includes("gateway error")) {
        failures--;
        throw new Error("log sink failed");
      }
    },
  });
  t.teardown(() => gw.close());
  const error = await t.throwsAsync(within(5000, "the first handshake", connect(gw.url)));
  t.is((error as Error & { status?: number }).status, 500);
  const client = await connect(gw.url);
  say(client, "after the fault");
  t.is((await client.nextJson<ChatMessageFrame>()).data, "after the fault");
});

test("a client that vanishes mid-broadcast: everyone else gets the message, its $disconnect runs and its row goes", async (t) => {
  const CLIENTS = 40;
  const VANISHING = 10;
  let armed = false;
  const posted = new Set<string>();
  let gone = 0;
  let pause: (() => Promise<void>) | undefined;
  const gw = await chatGateway({
    // One post at a time, so the broadcast can be caught halfway. Forty joins at once, each telling
    // the lobby one post at a time, would trip the local overload guard: it stays off.
    functionEnvironment: { BROADCAST_CONCURRENCY: "1" },
    limits: { behindAfterMs: 0 },
    createDependencies: (config) => {
      const deps = createHandlerDependencies(config);
      return {
        ...deps,
        managementApi: (endpoint): ConnectionManager => {
          const real = deps.managementApi(endpoint);
          return {
            async post(connectionId, data) {
              // The message's broadcast only, not the join and leave notices.
              const message = Buffer.from(data).toString().startsWith('{"type":"message"');
              if (armed && message) {
                posted.add(connectionId);
                if (posted.size === CLIENTS / 2 && pause) await pause();
              }
              try {
                await real.post(connectionId, data);
              } catch (error) {
                if (error instanceof ConnectionGoneError && message) gone++;
                throw error;
              }
            },
            disconnect: (connectionId) => real.disconnect(connectionId),
          };
        },
      };
    },
  });
  t.teardown(async () => {
    gw.table.close();
    await gw.close();
  });
  // Ten at a time: each join tells the lobby one post at a time here.
  const clients: TestClient[] = [];
  while (clients.length < CLIENTS)
    clients.push(...(await Promise.all(Array.from({ length: 10 }, () => connect(gw.url)))));
  const ids = new Map<TestClient, string>();
  for (const client of clients) ids.set(client, await whoAmI(client));
  const sender = clients[0] as TestClient;

  const vanished: string[] = [];
  pause = async () => {
    // Halfway through: clients not posted to yet drop off the network without a close frame.
    const victims = clients.filter((c) => c !== sender && !posted.has(ids.get(c) as string)).slice(0, VANISHING);
    for (const victim of victims) {
      vanished.push(ids.get(victim) as string);
      victim.socket.terminate();
    }
    await eventually(() => gw.connectionCount() === CLIENTS - VANISHING);
  };
  armed = true;
  say(sender, "did everyone get this?");
  const survivorsNow = () => clients.filter((client) => !vanished.includes(ids.get(client) as string));
  await eventually(() => vanished.length === VANISHING && survivorsNow().every((c) => messagesAt(c).length === 1));
  const survivors = survivorsNow();
  // The survivors may all be served before the broadcast has posted to every vanished client.
  await eventually(() => gw.log.some((line) => line.includes(`sendmessage connection=${ids.get(sender)} status=200`)));
  t.is(vanished.length, VANISHING);
  for (const client of survivors)
    t.deepEqual(
      messagesAt(client).map((m) => m.data),
      ["did everyone get this?"],
    );
  t.is(survivors.length, CLIENTS - VANISHING);
  t.is(posted.size, CLIENTS, "the broadcast went on to the end");

  await eventually(async () => (await gw.table.rows()).length === CLIENTS - VANISHING);
  t.deepEqual(
    (await gw.table.rows()).map((row) => row.connectionId).sort(),
    survivors.map((client) => ids.get(client)).sort(),
  );
  // Each $disconnect also tells the lobby (one post at a time here): it may end after the rows are gone.
  const disconnected = (id: string) => gw.log.some((line) => line.includes(`$disconnect connection=${id} status=200`));
  await eventually(() => vanished.every(disconnected), 10_000).catch(() => undefined);
  for (const id of vanished) t.true(disconnected(id), `$disconnect ran for ${id}`);
  t.is(gone, VANISHING, "every post to a vanished client answered 410 (and its row was deleted)");
  t.log(`${VANISHING} of ${CLIENTS} clients vanished halfway through a broadcast: ${gone} posts answered 410`);
});

test("DynamoDB unreachable (refused, then reset): $connect refused with 502, sendmessage answers Internal server error; all works again when it is back", async (t) => {
  t.timeout(60_000);
  const { proxy, gw, table } = await gatewayBehindProxy(t, { functionTimeoutMs: 5000, integrationTimeoutMs: 6000 });
  const ada = await connect(gw.url);
  const bob = await connect(gw.url);
  const leaver = await connect(gw.url);
  const adaId = await whoAmI(ada);
  const bobId = await whoAmI(bob);
  const leaverId = await whoAmI(leaver);
  t.is((await table.rows()).length, 3);
  const timings: string[] = [];

  for (const mode of ["refuse", "reset"] as const) {
    await proxy.cut(mode);
    let started = performance.now();
    const refused = await t.throwsAsync(within(10_000, "$connect while DynamoDB is down", connect(gw.url)));
    t.is((refused as Error & { status?: number }).status, 502, `${mode}: $connect is refused with 502`);
    timings.push(`${mode}: $connect refused with 502 after ${Math.round(performance.now() - started)} ms`);

    started = performance.now();
    say(ada, `lost to ${mode}`);
    const reply = await within(10_000, "sendmessage while DynamoDB is down", ada.nextJson());
    t.is(reply.message, "Internal server error", `${mode}: the sender is told`);
    t.is(reply.connectionId, adaId);
    timings.push(
      `${mode}: sendmessage answered Internal server error after ${Math.round(performance.now() - started)} ms`,
    );
    t.is(ada.socket.readyState, ada.socket.OPEN);
    await proxy.restore();
  }

  // Leaving while DynamoDB is down: $disconnect fails and the row stays behind...
  await proxy.cut("refuse");
  leaver.socket.close(1000, "bye");
  await eventually(() => gw.log.some((line) => line.includes(`$disconnect connection=${leaverId} status=502`)), 10_000);
  await proxy.restore();
  t.true(
    (await table.rows()).some((row) => row.connectionId === leaverId),
    "a failed $disconnect leaves its row",
  );

  // ...and DynamoDB is back: no restart, new connections and messages work, and the first broadcast
  // once the stale row is past the connecting window (integration timeout + 1 s) removes it.
  const carol = await connect(gw.url);
  const carolId = await whoAmI(carol);
  await pastConnectingWindow(table, 6000);
  say(ada, "back again");
  for (const client of [ada, bob, carol]) {
    t.is((await within(10_000, "the message after recovery", client.nextJson<ChatMessageFrame>())).data, "back again");
  }
  await eventually(async () => (await table.rows()).length === 3);
  t.deepEqual((await table.rows()).map((row) => row.connectionId).sort(), [adaId, bobId, carolId].sort());
  t.deepEqual(
    [ada, bob].map((client) => messagesAt(client).map((m) => m.data)),
    [["back again"], ["back again"]],
    "messages refused while DynamoDB was down were not delivered later",
  );
  t.log(timings.join("\n"));
});

test("DynamoDB slow, then stalled: slow still works; stalled answers 502 and Internal server error; afterwards rows of refused connections are cleaned up", async (t) => {
  t.timeout(60_000);
  // A message makes three DynamoDB round trips one after another (its sender's row, the message
  // stored, the room's shards at once), each over 400 ms here, and a loaded machine adds to that.
  const { proxy, gw, table } = await gatewayBehindProxy(t, { functionTimeoutMs: 6000, integrationTimeoutMs: 7000 });
  const ada = await connect(gw.url);
  const adaId = await whoAmI(ada);
  const timings: string[] = [];

  // Slow: every chunk held 200 ms each way, well inside the SDK's timeouts.
  proxy.delay(200);
  let started = performance.now();
  const bob = await connect(gw.url);
  timings.push(`slow: $connect took ${Math.round(performance.now() - started)} ms`);
  const bobId = await whoAmI(bob);
  started = performance.now();
  say(ada, "slow but sure");
  t.is((await within(10_000, "a slow message", bob.nextJson<ChatMessageFrame>())).data, "slow but sure");
  t.deepEqual(await ada.nextJson(), { ...messagesAt(bob)[0] });
  timings.push(`slow: a message reached both clients in ${Math.round(performance.now() - started)} ms`);

  // Stalled: connections are accepted and nothing comes back.
  await proxy.cut("blackhole");
  started = performance.now();
  const refused = await t.throwsAsync(within(10_000, "$connect while DynamoDB stalls", connect(gw.url)));
  // 502 from the function timeout; on a loaded machine the integration timeout (504) can win the race.
  const status = (refused as Error & { status?: number }).status ?? 0;
  t.true(status === 502 || status === 504, `$connect refused with ${status}`);
  timings.push(`stalled: $connect refused with ${status} after ${Math.round(performance.now() - started)} ms`);
  started = performance.now();
  say(ada, "into the void");
  const answer = (await within(10_000, "sendmessage while DynamoDB stalls", ada.nextJson())).message;
  t.true(answer === "Internal server error" || answer === "Endpoint request timed out", String(answer));
  timings.push(`stalled: sendmessage answered ${answer} after ${Math.round(performance.now() - started)} ms`);

  // Back: the timed-out invocations may still finish (a Lambda would have been stopped), so the
  // refused connection's row can appear now; the next broadcast's 410 clean-up removes it.
  await proxy.restore();
  const deadline = Date.now() + 3000;
  let orphans: string[] = [];
  while (Date.now() < deadline && orphans.length === 0) {
    orphans = (await table.rows()).map((row) => row.connectionId).filter((id) => id !== adaId && id !== bobId);
    await sleep(100);
  }
  timings.push(`after the stall: ${orphans.length} row(s) of refused connections appeared`);
  const carol = await connect(gw.url);
  const carolId = await whoAmI(carol);
  await pastConnectingWindow(table, 4000);
  say(ada, "after the stall");
  for (const client of [ada, bob, carol]) {
    await eventually(() => messagesAt(client).some((m) => m.data === "after the stall"), 10_000);
  }
  await eventually(async () => (await table.rows()).length === 3, 10_000);
  t.deepEqual((await table.rows()).map((row) => row.connectionId).sort(), [adaId, bobId, carolId].sort());
  // A refused `$connect` may have joined the room without writing its row: that membership goes too.
  await eventually(async () => (await table.memberships()).length === 3, 10_000);
  for (const client of [ada, bob]) {
    const voids = messagesAt(client).filter((m) => m.data === "into the void").length;
    t.true(voids <= 1, "the stalled message arrives at most once");
    if (client === bob)
      timings.push(`the stalled message (answered Internal server error) reached bob ${voids} time(s)`);
    t.is(messagesAt(client).filter((m) => m.data === "after the stall").length, 1);
  }
  t.log(timings.join("\n"));
});

test("a stalled DynamoDB fails a data-layer request on its request timeout, retried, instead of waiting forever", async (t) => {
  t.timeout(20_000);
  const proxy = await startTcpProxy(1);
  t.teardown(() => proxy.close());
  await proxy.cut("blackhole");
  const client = createDocumentClient({
    region: "us-east-1",
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 2,
    requestTimeoutMs: 300,
  });
  t.teardown(() => client.destroy());
  const repository = new DynamoDBRepository<{ id: string }>({ client, tableName: "stalled", keyAttributes: ["id"] });
  const started = performance.now();
  const error = await t.throwsAsync(within(10_000, "a put to a stalled DynamoDB", repository.put({ id: "a" })), {
    instanceOf: RepositoryError,
  });
  t.is((error?.cause as Error | undefined)?.name, "TimeoutError");
  t.is(proxy.accepted, 2, "one connection per attempt");
  t.log(`rejected after ${Math.round(performance.now() - started)} ms`);
});

test("a stalled management endpoint fails a post on its request timeout, retried, instead of holding the broadcast", async (t) => {
  t.timeout(30_000);
  const proxy = await startTcpProxy(1);
  t.teardown(() => proxy.close());
  await proxy.cut("blackhole");
  const deps = createHandlerDependencies(
    readFunctionConfig({
      TABLE_NAME: "t",
      MESSAGES_TABLE_NAME: "m",
      DYNAMODB_ENDPOINT_URL: proxy.endpoint,
      MANAGEMENT_ENDPOINT_URL: proxy.endpoint,
    }),
  );
  const started = performance.now();
  const error = await t.throwsAsync(
    within(20_000, "a post to a stalled endpoint", deps.managementApi(proxy.endpoint).post("AAAAAAAAAAAAAAA=", "x")),
  );
  t.is(error?.name, "TimeoutError");
  // The SDK's standard retry mode: three attempts in all, a timeout being a transient error.
  t.is(proxy.accepted, 3, "one connection per attempt");
  t.log(`rejected after ${Math.round(performance.now() - started)} ms`);
});

test("server restart: rows of connections that died with a killed server are purged before the new one serves; every row has a TTL", async (t) => {
  t.timeout(60_000);
  const dynamodb = await startEmbeddedDynamoDB();
  const table = tableReader(dynamodb.endpoint, "websocket-chat-connections");
  t.teardown(async () => {
    table.close();
    await dynamodb.close();
  });
  const child: ChildProcess = spawn(process.execPath, ["--require", "tsx/cjs", "local/express-server.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      WS_PORT: "0",
      AUTH: "none",
      DYNAMODB_ENDPOINT_URL: dynamodb.endpoint,
      CONNECTION_TTL_SECONDS: "600",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const url = await within(
    30_000,
    "the server to start",
    new Promise<string>((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /WebSocket API\s+(ws:\/\/\S+)/.exec(output);
        if (match) resolve((match[1] as string).replace("localhost", "127.0.0.1"));
      });
      child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
    }),
  );
  const doomed = await Promise.all([connect(url), connect(url), connect(url)]);
  await eventually(async () => (await table.rows()).length === 3);
  const nowSeconds = Date.now() / 1000;
  for (const row of await table.rows()) {
    t.true(Math.abs(row.expiresAt - (nowSeconds + 600)) < 60, `expiresAt of ${row.connectionId} is about now + TTL`);
  }

  // Killed: no $disconnect runs, the clients see the connection drop.
  child.kill("SIGKILL");
  for (const client of doomed) t.is((await client.closed).code, 1006);
  t.is((await table.rows()).length, 3, "the dead connections' rows are left behind");

  const log: string[] = [];
  const next = await startLocalGateway({
    port: 0,
    servePage: false,
    dynamodbEndpoint: dynamodb.endpoint,
    log: (line) => log.push(line),
  });
  t.teardown(() => next.close());
  t.deepEqual(await table.rows(), [], "purged before the new server accepts anyone");
  t.true(log.includes("removed 3 connection rows left by gateways no longer running"));
  const fresh = await Promise.all([connect(next.url), connect(next.url)]);
  say(fresh[0] as TestClient, "first broadcast after the restart");
  for (const client of fresh)
    t.is((await client.nextJson<ChatMessageFrame>()).data, "first broadcast after the restart");
  const rows = await table.rows();
  t.is(rows.length, 2);
  for (const row of rows) t.true(Math.abs(row.expiresAt - (Date.now() / 1000 + 7200)) < 60, "default TTL: 2 hours");
});

test("the management API's caller check: loopback addresses only, unless remote management is allowed", (t) => {
  // No request from a non-loopback address is possible in CI, so the decision is tested directly.
  for (const address of ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1"]) {
    t.true(isLoopback(address), address);
  }
  for (const address of [
    undefined,
    "",
    "10.0.0.1",
    "192.168.1.10",
    "172.17.0.1",
    "0.0.0.0",
    "::",
    "::ffff:10.0.0.1",
    "fe80::1",
    "128.0.0.1",
    "2001:db8::1",
  ]) {
    t.false(isLoopback(address), String(address));
  }
});

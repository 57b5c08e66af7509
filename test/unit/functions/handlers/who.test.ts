import test from "ava";
import { ObjectNotFoundError, RepositoryError } from "../../../../dal/errors";
import type { Connection } from "../../../../functions/chat/connection";
import { NOT_IN_A_ROOM } from "../../../../functions/chat/member";
import { createWhoHandler, type WhoFrame } from "../../../../functions/handlers/who";
import { connection, pagesOf, stubRepository, webSocketEvent } from "../../../support/function-fixtures";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const CALLER = "BFHPhfCWIAMCKlQ=";

function setup(shards: Record<number, Connection[][]>, room = "kitchen") {
  const connections = stubRepository();
  connections.get.resolves(connection(CALLER, room));
  connections.query.callsFake((options) => {
    const shard = Number(String(options.partition.value).split("#").at(-1));
    return String(options.partition.value).startsWith(`abc123defg#dev#${room}#`)
      ? pagesOf(...(shards[shard] ?? []))
      : pagesOf();
  });
  // Members are items of the same table, read through the same stub.
  return { connections, handler: createWhoHandler({ connections, memberships: connections as never, now: () => NOW }) };
}

const member = (id: string, connectedAt: number, extra: Partial<Connection> = {}) => ({
  ...connection(id, "kitchen"),
  connectedAt,
  ...extra,
});

async function who(handler: ReturnType<typeof setup>["handler"]): Promise<{ statusCode: number; frame: WhoFrame }> {
  const result = await handler(
    webSocketEvent("MESSAGE", { requestContext: { routeKey: "who" }, body: '{"action":"who"}' }),
  );
  return { statusCode: result.statusCode, frame: JSON.parse(result.body ?? "") as WhoFrame };
}

test("lists every shard's members of the caller's room, oldest connection first, with names and user ids", async (t) => {
  // Prepare
  const { handler, connections } = setup({
    0: [[member("b", 2_000, { name: "Bea" })], [member("d", 4_000)]],
    3: [[member("a", 1_000, { name: "Al", userId: "guest-1" }), member("c", 2_000, { name: "Cy" })]],
  });

  // Act
  const { statusCode, frame } = await who(handler);

  // Assess
  t.is(statusCode, 200);
  t.deepEqual(frame, {
    type: "who",
    room: "kitchen",
    members: [
      { connectionId: "a", userId: "guest-1", name: "Al", connectedAt: new Date(1_000).toISOString() },
      { connectionId: "b", name: "Bea", connectedAt: new Date(2_000).toISOString() },
      { connectionId: "c", name: "Cy", connectedAt: new Date(2_000).toISOString() },
      { connectionId: "d", connectedAt: new Date(4_000).toISOString() },
    ],
    truncated: false,
  });
  t.deepEqual(
    connections.query.getCalls().map((call) => call.args[0]),
    [0, 1, 2, 3].map((shard) => ({
      index: "byRoom",
      partition: { attribute: "roomKey", value: `abc123defg#dev#kitchen#${shard}` },
      attributes: ["connectionId", "userId", "name", "connectedAt"],
      above: { attribute: "expiresAt", value: Math.floor(NOW / 1000) },
    })),
  );
  t.is(connections.scan.callCount, 0);
});

test("a huge room's answer stops at the member cap, says it is truncated and reads no further", async (t) => {
  // Prepare: 3,000 members in shard 0, in pages of 500.
  const pages = Array.from({ length: 6 }, (_, page) =>
    Array.from({ length: 500 }, (_, i) => member(`m${page * 500 + i}`, page * 500 + i, { name: `Member ${i}` })),
  );
  const { handler, connections } = setup({ 0: pages, 1: pages });

  // Act
  const result = await handler(webSocketEvent("MESSAGE", { body: '{"action":"who"}' }));
  const frame = JSON.parse(result.body ?? "") as WhoFrame;

  // Assess
  t.is(frame.members.length, 1_000, "the protocol's cap (docs/protocol.md), by value");
  t.true(frame.truncated);
  t.true(Buffer.byteLength(result.body ?? "") <= 128 * 1024);
  t.is(connections.query.callCount, 1, "the other shards are not read");
});

test("members with the longest names are cut at API Gateway's 128 KB frame, not the member cap", async (t) => {
  // Prepare: 64 four-byte characters make a 256-byte name; 900 such members pass 128 KB.
  const longName = "😀".repeat(64);
  const rows = Array.from({ length: 900 }, (_, i) => member(`m${i}`, i, { name: longName, userId: `guest-${i}` }));
  const { handler } = setup({ 2: [rows] });

  // Act
  const result = await handler(webSocketEvent("MESSAGE", { body: '{"action":"who"}' }));
  const frame = JSON.parse(result.body ?? "") as WhoFrame;

  // Assess
  t.true(frame.truncated);
  t.true(frame.members.length < 900 && frame.members.length > 300, `${frame.members.length} listed`);
  t.true(Buffer.byteLength(result.body ?? "") <= 128 * 1024);
});

test("a caller whose row is gone gets an error frame as the route's answer", async (t) => {
  // Prepare
  const { handler, connections } = setup({});
  connections.get.rejects(new ObjectNotFoundError("connections", { connectionId: CALLER }));

  // Act
  const result = await handler(webSocketEvent("MESSAGE", { body: '{"action":"who"}' }));

  // Assess
  t.is(result.statusCode, 400);
  t.deepEqual(JSON.parse(result.body ?? ""), { type: "error", message: NOT_IN_A_ROOM, requestId: "BFHPjGzrIAMFfXw=" });
  t.is(connections.query.callCount, 0);
});

test("a failure to read the room rejects, so API Gateway answers with its error frame", async (t) => {
  // Prepare
  const { handler, connections } = setup({});
  const failure = new RepositoryError("DynamoDB query failed", "connections", "query");
  connections.query.callsFake(async function* () {
    yield* [];
    throw failure;
  });

  // Act
  const error = await t.throwsAsync(handler(webSocketEvent("MESSAGE", { body: '{"action":"who"}' })));

  // Assess
  t.is(error, failure);
});

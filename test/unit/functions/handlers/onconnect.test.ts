import test from "ava";
import { RepositoryError } from "../../../../dal/errors";
import { fnv1a32, ROOM_SHARDS, shardOf } from "../../../../functions/chat/room";
import { createConnectHandler } from "../../../../functions/handlers/onconnect";
import {
  connection,
  postedFrames,
  roomPages,
  stubRoomDependencies,
  webSocketEvent,
} from "../../../support/function-fixtures";

const NOW = 1_700_000_123_999;
const AT = new Date(NOW).toISOString();

function setup(ttlSeconds = 7200, now = NOW) {
  const deps = stubRoomDependencies(now);
  const handler = createConnectHandler({ ...deps, config: { ...deps.config, connectionTtlSeconds: ttlSeconds } });
  return { ...deps, handler };
}

function connectEvent(query?: Record<string, string>, overrides: Parameters<typeof webSocketEvent>[1] = {}) {
  return { ...webSocketEvent("CONNECT", overrides), ...(query && { queryStringParameters: query }) };
}

test("stores the connection with its id, API, stage, room, connect time, identity and expiry after its membership in the room's shard, and answers 200", async (t) => {
  // Prepare
  const { handler, connections } = setup();

  // Act
  const result = await handler(connectEvent());

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.is(connections.put.callCount, 2);
  t.deepEqual(connections.put.secondCall.args[0], {
    connectionId: "BFHPhfCWIAMCKlQ=",
    apiId: "abc123defg",
    stage: "dev",
    room: "lobby",
    rooms: new Set(["lobby"]),
    connectedAt: 1_700_000_000_123,
    sourceIp: "198.51.100.7",
    userAgent: "Mozilla/5.0 (test)",
    expiresAt: 1_700_000_123 + 7200,
  });
  // The room is small: its membership is not quiet, so its leave will be told too.
  t.deepEqual(connections.put.firstCall.args[0], {
    connectionId: "BFHPhfCWIAMCKlQ=#lobby",
    apiId: "abc123defg",
    stage: "dev",
    room: "lobby",
    roomKey: `abc123defg#dev#lobby#${shardOf("BFHPhfCWIAMCKlQ=")}`,
    connectedAt: 1_700_000_000_123,
    expiresAt: 1_700_000_123 + 7200,
  });
});

test("?room= picks the room and ?name= the name, with auth off", async (t) => {
  // Prepare
  const { handler, connections } = setup();

  // Act
  await handler(connectEvent({ room: "team-42_b", name: "  Ada  " }));

  // Assess
  t.like(connections.put.secondCall.args[0], { room: "team-42_b", name: "Ada" });
  t.regex(connections.put.firstCall.args[0].roomKey ?? "", /^abc123defg#dev#team-42_b#[0-3]$/);
});

const refusedConnect = test.macro({
  async exec(t, query: Record<string, string>, reason: RegExp) {
    // Prepare
    const { handler, connections, manager } = setup();

    // Act
    const result = await handler(connectEvent(query));

    // Assess
    t.is(result.statusCode, 400);
    t.regex(result.body ?? "", reason);
    t.is(connections.put.callCount, 0);
    t.is(manager.post.callCount, 0);
  },
  title: (what) => `refuses ${what} with 400, storing and telling nothing`,
});
test("an empty room", refusedConnect, { room: "" }, /1 to 64 letters, digits, - or _; got ""/);
test("a room of 65 characters", refusedConnect, { room: "a".repeat(65) }, /1 to 64/);
test("a room with a space", refusedConnect, { room: "a b" }, /got "a b"/);
test("a room with a #, the key separator", refusedConnect, { room: "a#0" }, /got "a#0"/);
test("a room of other letters than ASCII", refusedConnect, { room: "café" }, /1 to 64/);
test("a name with a control character", refusedConnect, { name: "A\u0007da" }, /The name must not contain control/);
test("a name of 65 characters", refusedConnect, { name: "n".repeat(65) }, /The name is 65 characters/);

test("the shard is the id's 32-bit FNV-1a hash modulo 4, the same wherever it is computed, and the shards are used evenly", (t) => {
  // FNV-1a of "a" is 0xe40c292c (the published test vector); the others computed apart from this
  // code: 0xc0bc27e6, 0x7e43f76b, 0xeb5ffbb1, 0xccdb86c8. Lambda and the local gateway must agree.
  const ids = ["a", "BFHPhfCWIAMCKlQ=", "XDmENcnwIE0CFEQ=", "XDmGEE2RoE0FRdQ=", "conn-1="];
  // The hash itself, not only its last two bits: any multiplier of the form 4k + 3 gives the same shards.
  t.deepEqual(ids.map(fnv1a32), [0xe40c292c, 0xc0bc27e6, 0x7e43f76b, 0xeb5ffbb1, 0xccdb86c8]);
  t.deepEqual(ids.map(shardOf), [0, 2, 3, 1, 0]);
  const counts = new Array(ROOM_SHARDS).fill(0);
  for (let i = 0; i < 4000; i++) counts[shardOf(`conn-${i}=`)]++;
  for (const count of counts) t.true(count > 800 && count < 1200, `shard counts ${counts.join(", ")}`);
});

test("tells everyone else in the room that it joined, and no one in other rooms", async (t) => {
  // Prepare
  const { handler, connections, manager } = setup();
  roomPages(connections, [[connection("BFHPhfCWIAMCKlQ=", "kitchen"), connection("conn-b", "kitchen")]], "kitchen");

  // Act
  await handler(connectEvent({ room: "kitchen", name: "Ada" }));

  // Assess
  t.deepEqual(postedFrames(manager), [
    {
      to: "conn-b",
      frame: {
        type: "presence",
        event: "join",
        room: "kitchen",
        connectionId: "BFHPhfCWIAMCKlQ=",
        name: "Ada",
        at: AT,
      },
    },
  ]);
  t.deepEqual(
    connections.query.getCalls().map((call) => call.args[0].partition.value),
    Array.from({ length: ROOM_SHARDS }, (_, shard) => `abc123defg#dev#kitchen#${shard}`),
    "every shard of that room, and only those",
  );
});

test("a room that cannot be read is logged; the connection is stored (quiet) and admitted all the same", async (t) => {
  // Prepare
  const { handler, connections, logger } = setup();
  connections.query.callsFake(async function* () {
    yield* [];
    throw new RepositoryError("DynamoDB query on table connections failed", "connections", "query");
  });

  // Act
  const result = await handler(connectEvent());

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.is(connections.put.callCount, 2, "its row and its membership");
  t.true(connections.put.firstCall.args[0].quiet);
  t.regex(
    String(logger.warn.firstCall.args[0]),
    /^join BFHPjGzrIAMFfXw=: the room was not read, so not told: RepositoryError/,
  );
});

test("the expiry is whole seconds from the clock plus the configured TTL", async (t) => {
  // Prepare
  const { handler, connections } = setup(60, 5_999);

  // Act
  await handler(connectEvent());

  // Assess
  t.is(connections.put.secondCall.args[0].expiresAt, 65);
});

test("a client without a user agent is stored without one", async (t) => {
  // Prepare
  const { handler, connections } = setup();

  // Act
  await handler(connectEvent(undefined, { requestContext: { identity: { sourceIp: "192.0.2.1" } } }));

  // Assess
  const stored = connections.put.secondCall.args[0];
  t.is(stored.sourceIp, "192.0.2.1");
  t.is(stored.userAgent, undefined);
});

test("a repository failure rejects, so API Gateway refuses the handshake", async (t) => {
  // Prepare
  const { handler, connections } = setup();
  const failure = new RepositoryError("DynamoDB put on table connections failed", "connections", "put");
  connections.put.rejects(failure);

  // Act
  const error = await t.throwsAsync(handler(connectEvent()));

  // Assess
  t.is(error, failure);
});

test("with an authorizer, the verified user and name are stored with the connection; ?name= is ignored", async (t) => {
  // Prepare
  const { handler, connections } = setup();
  const authorizer = { principalId: "guest-1", userId: "guest-1", name: "Ada", integrationLatency: 12 };

  // Act
  await handler(connectEvent({ name: "Mallory" }, { requestContext: { authorizer } }));

  // Assess
  t.like(connections.put.secondCall.args[0], { userId: "guest-1", name: "Ada" });
  t.false("principalId" in connections.put.secondCall.args[0]);
});

test("a room of more than 100 others hears no join notice; one of exactly 100 does", async (t) => {
  // Prepare: the limit is the protocol's (docs/protocol.md), by value.
  const PRESENCE_LIMIT = 100;
  const others = (count: number) => [Array.from({ length: count }, (_, i) => connection(`conn-${i}`, "big"))];
  const atLimit = setup();
  const readAtLimit = roomPages(atLimit.connections, others(PRESENCE_LIMIT), "big");
  const overLimit = setup();
  const readOverLimit = roomPages(overLimit.connections, others(PRESENCE_LIMIT + 1), "big");

  // Act
  const results = [
    await atLimit.handler(connectEvent({ room: "big" })),
    await overLimit.handler(connectEvent({ room: "big" })),
  ];

  // Assess
  t.deepEqual(results, [{ statusCode: 200 }, { statusCode: 200 }]);
  t.is(atLimit.manager.post.callCount, PRESENCE_LIMIT);
  t.is(overLimit.manager.post.callCount, 0);
  t.is(overLimit.connections.put.callCount, 2, "the connection joins all the same");
  t.true(overLimit.connections.put.firstCall.args[0].quiet, "and will leave untold too");
  t.false("quiet" in atLimit.connections.put.firstCall.args[0]);
  t.deepEqual(
    overLimit.connections.query.getCalls().map((call) => call.args[0].pageSize),
    [1, 2, 3, 4].map(() => PRESENCE_LIMIT + 1),
    "pages no larger than enough to tell",
  );
  const shards = (read: Set<string>) => [...read].map((key) => Number(key.split("#").at(-1))).sort();
  t.deepEqual(shards(readOverLimit), [0], "the first shard told it: the others were not read");
  t.deepEqual(shards(readAtLimit), [0, 1, 2, 3]);
});

import test from "ava";
import sinon from "sinon";
import { ObjectNotFoundError, RepositoryError } from "../../../../dal/errors";
import type { Connection } from "../../../../functions/chat/connection";
import { NOT_IN_A_ROOM } from "../../../../functions/chat/member";
import type { StoredMessage } from "../../../../functions/chat/message";
import {
  createSendMessageHandler,
  type SendMessageHandlerDependencies,
} from "../../../../functions/handlers/sendmessage";
import { ConnectionGoneError, type ConnectionManager } from "../../../../functions/runtime/connection-manager";
import {
  connection,
  deferred,
  postedFrames,
  roomPages,
  stubConnectionManager,
  stubRepository,
  webSocketEvent,
} from "../../../support/function-fixtures";

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const SENT_AT = "2024-01-02T03:04:05.678Z";
const SENDER = "BFHPhfCWIAMCKlQ=";
const REQUEST_ID = "BFHPjGzrIAMFfXw=";
/** The room's count stands at 6: this message is its seventh. */
const SEQ = 7;
const MESSAGE_ID = "s000000000007";

/** What each handler's broadcasts came to, as its metrics record them. */
const outcomes = new WeakMap<object, () => unknown>();
const outcomeOf = (handler: object) => outcomes.get(handler)?.();

/** A sender in `lobby`, whose room's index answers with `pages`. */
function setup(config: Partial<SendMessageHandlerDependencies["config"]> = {}, pages: Connection[][] = []) {
  const connections = stubRepository();
  roomPages(connections, pages);
  connections.get.resolves(connection(SENDER));
  const messages = stubRepository<StoredMessage>();
  messages.update.callsFake(async (key) => ({ ...key, seq: SEQ }) as unknown as StoredMessage);
  const manager = stubConnectionManager();
  const managementApi = sinon.stub<[string], ConnectionManager>().returns(manager);
  const logger = { warn: sinon.stub() };
  const metrics = { record: sinon.stub() };
  const handler = createSendMessageHandler({
    connections,
    // The same table: the room's members are read through the same stub.
    memberships: connections as never,
    messages,
    managementApi,
    metrics,
    config: {
      region: "eu-west-1",
      broadcastConcurrency: 10,
      maxMessageBytes: 1024,
      connectTimeoutMs: 29_000,
      historyTtlSeconds: 86_400,
      fanoutShardThreshold: 250,
      fanoutSliceSize: 1000,
      accountConcurrency: 1000,
      ...config,
    },
    now: () => NOW,
    logger,
  });
  outcomes.set(handler, () => metrics.record.lastCall?.args[1]);
  return { handler, connections, messages, manager, managementApi, logger };
}

function message(body: unknown) {
  return webSocketEvent("MESSAGE", { body: JSON.stringify(body) });
}

/** The ids of the given connections, as stored rows split into pages of `size`. */
function paged(ids: string[], size: number): Connection[][] {
  const pages: Connection[][] = [];
  for (let i = 0; i < ids.length; i += size) pages.push(ids.slice(i, i + size).map((id) => connection(id)));
  return pages;
}

function text(data: string | Uint8Array | undefined): string {
  return typeof data === "string" ? data : Buffer.from(data ?? []).toString("utf8");
}

test("posts the same message frame to every connection of the room across all pages", async (t) => {
  // Prepare
  const ids = [SENDER, "conn-b", "conn-c", "conn-d", "conn-e"];
  const { handler, connections, messages, manager } = setup({}, paged(ids, 2));

  // Act
  const result = await handler(message({ action: "sendmessage", data: "héllo 👋", name: "Ada" }));

  // Assess
  t.is(result.statusCode, 200);
  // A two-way route: the sender's answer is the message's id and number.
  t.deepEqual(JSON.parse(result.body ?? ""), { type: "ack", room: "lobby", id: MESSAGE_ID, seq: SEQ });
  t.deepEqual(messages.update.firstCall.args, [{ roomKey: "abc123defg#dev#lobby", id: "#seq" }, { add: { seq: 1 } }]);
  t.deepEqual(outcomeOf(handler), {
    delivered: 5,
    gone: 0,
    failed: 0,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
  t.is(connections.scan.callCount, 0, "no Scan");
  t.deepEqual(connections.get.firstCall.args, [{ connectionId: SENDER }], "the sender's own row, for its room");
  t.deepEqual(
    connections.query.getCalls().map((call) => call.args[0]),
    [0, 1, 2, 3].map((shard) => ({
      index: "byRoom",
      partition: { attribute: "roomKey", value: `abc123defg#dev#lobby#${shard}` },
      attributes: ["connectionId", "connectedAt"],
      above: { attribute: "expiresAt", value: Math.floor(NOW / 1000) },
    })),
    "only the room's shards of this API and stage, without rows past their TTL",
  );
  t.deepEqual(
    manager.post.getCalls().map((call) => call.args[0]),
    ids,
  );
  const frames = manager.post.getCalls().map((call) => call.args[1]);
  for (const frame of frames) t.true(frame instanceof Uint8Array);
  t.deepEqual(new Set(frames.map(text)).size, 1);
  t.deepEqual(JSON.parse(text(frames[0])), {
    type: "message",
    id: MESSAGE_ID,
    seq: SEQ,
    room: "lobby",
    connectionId: SENDER,
    name: "Ada",
    data: "héllo 👋",
    sentAt: SENT_AT,
  });
  t.is(connections.delete.callCount, 0);
});

test("a message without a name is sent without one, and a blank name counts as none", async (t) => {
  // Prepare
  const { handler, manager } = setup({}, [[connection("conn-b")]]);

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));
  await handler(message({ action: "sendmessage", data: "hi", name: "   " }));

  // Assess
  const expected = {
    type: "message",
    id: MESSAGE_ID,
    seq: SEQ,
    room: "lobby",
    connectionId: SENDER,
    data: "hi",
    sentAt: SENT_AT,
  };
  t.deepEqual(JSON.parse(text(manager.post.firstCall.args[1])), expected);
  t.deepEqual(JSON.parse(text(manager.post.secondCall.args[1])), expected);
});

test("the display name is trimmed", async (t) => {
  // Prepare
  const { handler, manager } = setup({}, [[connection("conn-b")]]);

  // Act
  await handler(message({ action: "sendmessage", data: "hi", name: "  Ada  " }));

  // Assess
  t.is(JSON.parse(text(manager.post.firstCall.args[1])).name, "Ada");
});

test("uses the management endpoint derived from the event's API id, region and stage", async (t) => {
  // Prepare
  const { handler, managementApi } = setup({ region: "ap-southeast-2" }, [[connection("conn-b")]]);
  const event = webSocketEvent("MESSAGE", {
    body: JSON.stringify({ action: "sendmessage", data: "hi" }),
    requestContext: { apiId: "zyx987wvut", stage: "production", domainName: "chat.example.com" },
  });

  // Act
  await handler(event);

  // Assess
  t.is(managementApi.callCount, 1);
  t.deepEqual(managementApi.firstCall.args, ["https://zyx987wvut.execute-api.ap-southeast-2.amazonaws.com/production"]);
});

test("uses config.managementEndpoint when it is set", async (t) => {
  // Prepare
  const { handler, managementApi } = setup({ managementEndpoint: "http://127.0.0.1:3001/dev" }, [
    [connection("conn-b")],
  ]);

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.deepEqual(managementApi.firstCall.args, ["http://127.0.0.1:3001/dev"]);
});

test("never has more than broadcastConcurrency posts in flight, and reaches that bound", async (t) => {
  t.timeout(10_000);

  // Prepare
  const ids = Array.from({ length: 23 }, (_, i) => `conn-${i}`);
  const { handler, manager } = setup({ broadcastConcurrency: 3 }, paged(ids, 4));
  let inFlight = 0;
  let maxInFlight = 0;
  const pending: (() => void)[] = [];
  manager.post.callsFake(() => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const delivery = deferred();
    pending.push(() => {
      inFlight--;
      delivery.resolve();
    });
    return delivery.promise;
  });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

  // Act
  let settled = false;
  const done = handler(message({ action: "sendmessage", data: "hi" })).finally(() => {
    settled = true;
  });
  for (let i = 0; i < 5; i++) await settle();
  const startedBeforeAnyFinished = manager.post.callCount;
  while (!settled) {
    // Release the newest post first, so completions arrive out of order.
    pending.pop()?.();
    await settle();
  }
  await done;

  // Assess
  t.is(startedBeforeAnyFinished, 3);
  t.is(maxInFlight, 3);
  t.is(manager.post.callCount, 23);
  t.deepEqual(
    manager.post
      .getCalls()
      .map((call) => call.args[0])
      .sort(),
    [...ids].sort(),
  );
  t.deepEqual(outcomeOf(handler), {
    delivered: 23,
    gone: 0,
    failed: 0,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
});

test("empty pages, which DynamoDB may return before the last, do not end the broadcast", async (t) => {
  // Prepare
  const pages = [[], [connection("conn-a")], [], [], ["conn-b", "conn-c", "conn-d"].map((id) => connection(id)), []];
  const { handler, manager } = setup({ broadcastConcurrency: 2 }, pages);

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.deepEqual(
    manager.post.getCalls().map((call) => call.args[0]),
    ["conn-a", "conn-b", "conn-c", "conn-d"],
  );
  t.deepEqual(outcomeOf(handler), {
    delivered: 4,
    gone: 0,
    failed: 0,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
});

test("deletes exactly the connections whose post says they are gone and that cannot still be connecting", async (t) => {
  // Prepare
  const ids = [SENDER, "conn-b", "stale-1", "conn-d", "stale-2"];
  const { handler, connections, manager } = setup({}, paged(ids, 2));
  manager.post.withArgs("stale-1").rejects(new ConnectionGoneError("stale-1"));
  manager.post.withArgs("stale-2").rejects(new ConnectionGoneError("stale-2"));
  // stale-1's row is there; stale-2's `$connect` failed after joining the room, before its row.
  connections.delete
    .withArgs({ connectionId: "stale-1" })
    .resolves({ connectionId: "stale-1", rooms: new Set(["lobby"]) } as never);

  // Act
  const result = await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.is(result.statusCode, 200);
  t.deepEqual(outcomeOf(handler), {
    delivered: 3,
    gone: 2,
    failed: 0,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
  t.deepEqual(
    connections.delete
      .getCalls()
      .map((call) => call.args[0])
      .sort((a, b) => String(a.connectionId).localeCompare(String(b.connectionId))),
    [
      { connectionId: "stale-1" },
      { connectionId: "stale-1#lobby" },
      { connectionId: "stale-2" },
      { connectionId: "stale-2#lobby" },
    ],
  );
  // API Gateway answers 410 until a connection's $connect has returned, up to its 29 s integration
  // timeout: only rows (and rowless memberships) connected before that window may go.
  for (const call of connections.delete.getCalls()) {
    const condition =
      call.args[0].connectionId === "stale-1#lobby"
        ? undefined
        : { onlyIfBelow: { attribute: "connectedAt", value: NOW - 30_000 } };
    t.deepEqual(call.args[1], condition, String(call.args[0].connectionId));
  }
  t.is(manager.post.callCount, 5);
});

test("a broadcast with many failures logs one line with its counts and the first failure, no stack", async (t) => {
  // Prepare
  const ids = Array.from({ length: 50 }, (_, i) => `conn-${i}`);
  const { handler, manager, logger } = setup({ broadcastConcurrency: 1 }, paged(ids, 10));
  manager.post.rejects(new Error("socket hang up"));
  manager.post.withArgs("conn-0").resolves();
  manager.post.withArgs("conn-1").rejects(new ConnectionGoneError("conn-1"));

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.deepEqual(outcomeOf(handler), {
    delivered: 1,
    gone: 1,
    failed: 48,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
  t.is(logger.warn.callCount, 1);
  t.deepEqual(logger.warn.firstCall.args, [
    `broadcast ${REQUEST_ID}: 1 delivered, 1 gone, 48 failed, 0 leave notices; first failure: post to conn-2: Error: socket hang up`,
  ]);
});

test("a connection failing with another error does not stop the others and keeps its row", async (t) => {
  // Prepare
  const ids = [SENDER, "conn-b", "flaky", "conn-d"];
  const { handler, connections, manager, logger } = setup({ broadcastConcurrency: 1 }, paged(ids, 2));
  const failure = new Error("socket hang up");
  manager.post.withArgs("flaky").rejects(failure);

  // Act
  const result = await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.is(result.statusCode, 200);
  t.deepEqual(outcomeOf(handler), {
    delivered: 3,
    gone: 0,
    failed: 1,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
  t.deepEqual(
    manager.post.getCalls().map((call) => call.args[0]),
    ids,
  );
  t.is(connections.delete.callCount, 0);
  t.is(logger.warn.callCount, 1);
  t.regex(
    String(logger.warn.firstCall.args[0]),
    /1 failed, 0 leave notices; first failure: post to flaky: Error: socket hang up$/,
  );
});

test("a failed delete of a gone connection is logged and the broadcast goes on", async (t) => {
  // Prepare
  const ids = ["stale", "conn-b", "conn-c"];
  const { handler, connections, manager, logger } = setup({ broadcastConcurrency: 1 }, [
    ids.map((id) => connection(id)),
  ]);
  manager.post.withArgs("stale").rejects(new ConnectionGoneError("stale"));
  connections.delete.rejects(new RepositoryError("delete failed", "connections", "delete"));

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.deepEqual(outcomeOf(handler), {
    delivered: 2,
    gone: 1,
    failed: 0,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });
  t.deepEqual(
    manager.post.getCalls().map((call) => call.args[0]),
    ids,
  );
  t.is(logger.warn.callCount, 1);
});

test("a failure to read the room rejects the handler", async (t) => {
  // Prepare
  const { handler, connections } = setup();
  const failure = new RepositoryError("DynamoDB query on table connections failed", "connections", "query");
  connections.query.callsFake(async function* () {
    yield [connection("conn-b")];
    throw failure;
  });

  // Act
  const error = await t.throwsAsync(handler(message({ action: "sendmessage", data: "hi" })));

  // Assess
  t.is(error, failure);
});

const refused = test.macro({
  async exec(t, event: ReturnType<typeof webSocketEvent>, reason: RegExp) {
    // Prepare
    const { handler, connections, messages, manager, managementApi } = setup({ maxMessageBytes: 16 }, [
      [connection(SENDER), connection("conn-b")],
    ]);

    // Act
    const result = await handler(event);

    // Assess
    t.is(result.statusCode, 400);
    const frame = JSON.parse(result.body ?? "") as { type: string; message: string; requestId: string };
    t.like(frame, { type: "error", requestId: REQUEST_ID });
    t.regex(frame.message, reason);
    t.is(managementApi.callCount, 0);
    t.is(manager.post.callCount, 0);
    t.is(connections.query.callCount, 0);
    t.is(messages.put.callCount, 0);
    t.is(connections.delete.callCount, 0);
  },
  title: (description) => `refuses ${description} with 400 and an error frame as the sender's answer only`,
});

test("a body that is not JSON", refused, webSocketEvent("MESSAGE", { body: "hello there" }), /not valid JSON/);
test("a missing body", refused, webSocketEvent("MESSAGE"), /not valid JSON/);
test("a JSON array", refused, message([{ action: "sendmessage", data: "hi" }]), /JSON object/);
test("JSON null", refused, message(null), /JSON object/);
test("a JSON number", refused, message(42), /JSON object/);
test("a JSON string", refused, message("hi"), /JSON object/);
test("a message without data", refused, message({ action: "sendmessage" }), /"data" must be a string/);
test("data that is not a string", refused, message({ action: "sendmessage", data: 7 }), /"data" must be a string/);
test("empty data", refused, message({ action: "sendmessage", data: "" }), /"data" must not be empty/);
test("whitespace-only data", refused, message({ action: "sendmessage", data: " \n\t " }), /"data" must not be empty/);
// 9 characters but 18 UTF-8 bytes, over the limit of 16.
test("data over maxMessageBytes counted in UTF-8 bytes", refused, message({ data: "é".repeat(9) }), /18 bytes.*16/);
test("a name that is not a string", refused, message({ data: "hi", name: 7 }), /"name" must be a string/);
test(
  "a name that is too long",
  refused,
  message({ data: "hi", name: "n".repeat(65) }),
  /is 65 characters; the limit is 64/,
);

test("data exactly at maxMessageBytes is accepted", async (t) => {
  // Prepare
  const { handler, manager } = setup({ maxMessageBytes: 16 }, [[connection("conn-b")]]);

  // Act
  const result = await handler(message({ data: "é".repeat(8) }));

  // Assess
  t.is(result.statusCode, 200);
  t.is(JSON.parse(text(manager.post.firstCall.args[1])).data, "é".repeat(8));
});

test("a name of exactly 64 characters is accepted", async (t) => {
  // Prepare
  const { handler, manager } = setup({}, [[connection("conn-b")]]);

  // Act
  const result = await handler(message({ data: "hi", name: "n".repeat(64) }));

  // Assess
  t.is(result.statusCode, 200);
  t.is(JSON.parse(text(manager.post.firstCall.args[1])).name, "n".repeat(64));
});

test("a name's length counts characters, not UTF-16 units: 64 emoji are accepted", async (t) => {
  // Prepare
  const { handler, manager } = setup({}, [[connection("conn-b")]]);

  // Act
  const result = await handler(message({ data: "hi", name: "🙂".repeat(64) }));

  // Assess
  t.is(result.statusCode, 200);
  t.is(JSON.parse(text(manager.post.firstCall.args[1])).name, "🙂".repeat(64));
});

test("with an authorizer, the sender's name and user id are the verified ones; a name in the message is ignored", async (t) => {
  // Prepare
  const { handler, manager } = setup({}, paged([SENDER, "conn-b"], 10));
  const authorizer = { principalId: "guest-7", userId: "guest-7", name: "Eve", integrationLatency: 3 };
  const event = webSocketEvent("MESSAGE", {
    requestContext: { authorizer },
    body: JSON.stringify({ action: "sendmessage", data: "I am Ada", name: "Ada" }),
  });
  const withBadName = webSocketEvent("MESSAGE", {
    requestContext: { authorizer },
    body: JSON.stringify({ action: "sendmessage", data: "I am Ada", name: "x".repeat(100) }),
  });

  // Act
  const results = [await handler(event), await handler(withBadName)];

  // Assess
  t.deepEqual(
    results.map((result) => result.statusCode),
    [200, 200],
    "even a name that would be refused is ignored",
  );
  t.is(manager.post.callCount, 4);
  for (const call of manager.post.getCalls()) {
    t.deepEqual(JSON.parse(text(call.args[1])), {
      type: "message",
      id: MESSAGE_ID,
      seq: SEQ,
      room: "lobby",
      connectionId: SENDER,
      userId: "guest-7",
      name: "Eve",
      data: "I am Ada",
      sentAt: SENT_AT,
    });
  }
});

test("stores the message in its room's history, with the TTL, before anyone receives it", async (t) => {
  // Prepare
  const { handler, connections, messages, manager } = setup({ historyTtlSeconds: 3600 }, [[connection("conn-b")]]);
  connections.get.resolves(connection(SENDER, "kitchen"));
  roomPages(connections, [[connection("conn-b", "kitchen")]], "kitchen");

  // Act
  await handler(message({ action: "sendmessage", data: "hi", name: "Ada" }));

  // Assess
  t.deepEqual(messages.put.firstCall.args, [
    {
      roomKey: "abc123defg#dev#kitchen",
      id: MESSAGE_ID,
      seq: SEQ,
      room: "kitchen",
      connectionId: SENDER,
      name: "Ada",
      data: "hi",
      sentAt: SENT_AT,
      expiresAt: Math.floor(NOW / 1000) + 3600,
    },
  ]);
  t.true(messages.put.calledBefore(manager.post));
  t.deepEqual(
    postedFrames(manager).map(({ to, frame }) => [to, frame.room]),
    [["conn-b", "kitchen"]],
  );
});

test("a message that cannot be stored is not sent: the handler fails and API Gateway tells the sender", async (t) => {
  // Prepare
  const { handler, messages, manager } = setup({}, [[connection("conn-b")]]);
  const failure = new RepositoryError("DynamoDB put on table messages failed", "messages", "put");
  messages.put.rejects(failure);

  // Act
  const error = await t.throwsAsync(handler(message({ action: "sendmessage", data: "hi" })));

  // Assess
  t.is(error, failure);
  t.is(manager.post.callCount, 0);
});

test("with auth off, a message without a name goes under the name the connection joined with", async (t) => {
  // Prepare
  const { handler, connections, manager } = setup({}, [[connection("conn-b")]]);
  connections.get.resolves({ ...connection(SENDER), name: "Joined As" });

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));
  await handler(message({ action: "sendmessage", data: "hi", name: "Renamed" }));

  // Assess
  t.deepEqual(
    postedFrames(manager).map(({ frame }) => frame.name),
    ["Joined As", "Renamed"],
  );
});

test("a sender whose row is gone is told to reconnect, and nothing is stored or sent", async (t) => {
  // Prepare
  const { handler, connections, messages, manager } = setup({}, [[connection("conn-b")]]);
  connections.get.rejects(new ObjectNotFoundError("connections", { connectionId: SENDER }));

  // Act
  const result = await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.is(result.statusCode, 400);
  t.deepEqual(JSON.parse(result.body ?? ""), { type: "error", message: NOT_IN_A_ROOM, requestId: REQUEST_ID });
  t.is(manager.post.callCount, 0);
  t.is(messages.put.callCount, 0);
});

test("data under the byte limit whose JSON escaping makes the frame too big for API Gateway is refused", async (t) => {
  // Prepare: a control character is six bytes in JSON (\u0001), so 24,000 of them make 144,000.
  const { handler, messages, manager } = setup({ maxMessageBytes: 30_000 }, [[connection("conn-b")]]);

  // Act
  const result = await handler(message({ action: "sendmessage", data: "\u0001".repeat(24_000) }));

  // Assess
  t.is(result.statusCode, 400);
  t.regex(result.body ?? "", /bytes once encoded; the limit is 130048/);
  t.is(messages.put.callCount, 0);
  t.is(messages.update.callCount, 0, "the room's count untouched");
  t.is(manager.post.callCount, 0);
});

test("a member found gone is removed and the room is told it left; gone ones found then are told too", async (t) => {
  // Prepare
  const { handler, connections, manager } = setup({ broadcastConcurrency: 1 }, [
    ["conn-b", "gone-1", "conn-c"].map((id) => connection(id)),
  ]);
  manager.post.withArgs("gone-1").rejects(new ConnectionGoneError("gone-1"));
  // DynamoDB returns the removed row to the first delete only.
  connections.delete
    .withArgs({ connectionId: "gone-1" })
    .onFirstCall()
    .resolves({ ...connection("gone-1"), name: "Gone" })
    .onSecondCall()
    .resolves(undefined);

  // Act
  await handler(message({ action: "sendmessage", data: "hi" }));

  // Assess
  t.deepEqual(outcomeOf(handler), {
    delivered: 2,
    gone: 1,
    failed: 0,
    leaveNotices: 2,
    slices: 0,
    handOffsFailed: 0,
  });
  const leaves = postedFrames(manager).filter(({ frame }) => frame.type === "presence");
  t.deepEqual(
    leaves.map(({ to }) => to),
    ["conn-b", "gone-1", "conn-c"],
    "the index may still list the removed one: its second 410 finds no row, so no second notice",
  );
  t.like(leaves[0]?.frame, { event: "leave", connectionId: "gone-1", name: "Gone", room: "lobby" });
  t.is(connections.delete.withArgs({ connectionId: "gone-1" }).callCount, 2);
});

import test from "ava";
import { ObjectNotFoundError } from "../../../../dal/errors";
import { NOT_IN_A_ROOM } from "../../../../functions/chat/member";
import type { StoredMessage } from "../../../../functions/chat/message";
import { createHistoryHandler, type HistoryFrame, MAX_HISTORY_LIMIT } from "../../../../functions/handlers/history";
import { connection, stubRepository, webSocketEvent } from "../../../support/function-fixtures";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const CALLER = "BFHPhfCWIAMCKlQ=";
const REQUEST_ID = "BFHPjGzrIAMFfXw=";

/** Stored messages m0 (oldest) to m{count-1}, a second apart, newest first as the Query reads them. */
function stored(count: number, data = (i: number) => `m${i}`): StoredMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const sentAt = new Date(NOW - (count - i) * 1000).toISOString();
    return {
      roomKey: "abc123defg#dev#kitchen",
      id: `${sentAt}#req${i}=`,
      room: "kitchen",
      connectionId: "sender=",
      name: "Ada",
      data: data(i),
      sentAt,
      expiresAt: Math.floor(NOW / 1000) + 3600,
    };
  }).reverse();
}

function setup(newestFirst: StoredMessage[] = []) {
  const connections = stubRepository();
  connections.get.resolves(connection(CALLER, "kitchen"));
  const messages = stubRepository<StoredMessage>();
  // DynamoDB's Query, newest first: `Limit` items from after the start key, and where the next page starts.
  messages.queryPage.callsFake(async (options) => {
    const below = options.range && "below" in options.range ? String(options.range.below) : undefined;
    const after = options.startKey?.id;
    const items = newestFirst.filter(
      (item) => (below === undefined || item.id < below) && (after === undefined || item.id < after),
    );
    const page = items.slice(0, options.pageSize ?? 1000);
    const last = page.at(-1);
    return {
      items: page,
      ...(items.length > page.length && last && { lastKey: { roomKey: last.roomKey, id: last.id } }),
    };
  });
  const handler = createHistoryHandler({ connections, messages, config: { maxMessageBytes: 32_768 }, now: () => NOW });
  const ask = async (request: object | string) => {
    const body = typeof request === "string" ? request : JSON.stringify({ action: "history", ...request });
    const result = await handler(webSocketEvent("MESSAGE", { requestContext: { routeKey: "history" }, body }));
    return {
      statusCode: result.statusCode,
      frame: JSON.parse(result.body ?? "") as HistoryFrame & { message?: string },
    };
  };
  return { connections, messages, ask };
}

test("answers the latest 50 by default, oldest first, as the message frames were sent, with a cursor to page back", async (t) => {
  // Prepare
  const { ask, messages } = setup(stored(120));

  // Act
  const { statusCode, frame } = await ask({});

  // Assess
  t.is(statusCode, 200);
  t.is(frame.type, "history");
  t.is(frame.room, "kitchen");
  t.deepEqual(
    frame.messages.map((message) => message.data),
    Array.from({ length: 50 }, (_, i) => `m${70 + i}`),
  );
  // m70 was stored 50 s before NOW, under the id its send time and request id make.
  t.deepEqual(frame.messages[0], {
    type: "message",
    id: "2026-12-02T11:59:10.000Z#req70=",
    room: "kitchen",
    connectionId: "sender=",
    name: "Ada",
    data: "m70",
    sentAt: "2026-12-02T11:59:10.000Z",
  });
  t.is(frame.before, frame.messages[0]?.id ?? "");
  // The first page: as many of the largest messages (32 KB) as fill a 128 KB frame, and one more.
  t.deepEqual(messages.queryPage.firstCall.args[0], {
    partition: { attribute: "roomKey", value: "abc123defg#dev#kitchen" },
    descending: true,
    pageSize: 5,
    above: { attribute: "expiresAt", value: Math.floor(NOW / 1000) },
  });
  // Small messages: the next page asks for the rest at once.
  t.is(messages.queryPage.callCount, 2);
  t.is(messages.queryPage.secondCall.args[0].pageSize, 46);
});

test("paging back with before reaches the first message exactly once, then before is null", async (t) => {
  // Prepare
  const { ask } = setup(stored(250));

  // Act
  const seen: string[] = [];
  let before: string | null | undefined;
  let pages = 0;
  do {
    const { frame } = await ask({ limit: MAX_HISTORY_LIMIT, ...(before && { before }) });
    seen.unshift(...frame.messages.map((message) => message.data));
    before = frame.before;
    pages++;
  } while (before);

  // Assess
  t.is(pages, 3);
  t.deepEqual(
    seen,
    Array.from({ length: 250 }, (_, i) => `m${i}`),
  );
});

test("a room with fewer messages than the limit answers all of them and before null; an empty room, none", async (t) => {
  t.like((await setup(stored(3)).ask({})).frame, { before: null });
  t.is((await setup(stored(3)).ask({})).frame.messages.length, 3);
  t.deepEqual((await setup([]).ask({})).frame, { type: "history", room: "kitchen", messages: [], before: null });
});

test("large messages: a page stops before API Gateway's 128 KB frame, and the next page carries on from there", async (t) => {
  // Prepare: 20 messages of 30 KB; only four fit in one frame.
  const { ask } = setup(stored(20, (i) => `${i}:`.padEnd(30_000, "x")));

  // Act
  const first = await ask({ limit: 20 });
  const second = await ask({ limit: 20, before: first.frame.before });

  // Assess
  t.is(first.frame.messages.length, 4);
  t.true(Buffer.byteLength(JSON.stringify(first.frame)) <= 128 * 1024);
  t.deepEqual(
    first.frame.messages.map((message) => message.data.split(":")[0]),
    ["16", "17", "18", "19"],
  );
  t.deepEqual(
    second.frame.messages.map((message) => message.data.split(":")[0]),
    ["12", "13", "14", "15"],
  );
});

test("a room of the largest messages costs about a frame of reads, not the limit's worth", async (t) => {
  // Prepare: 36 messages of 32 KB, as an attacker would fill a room to make history expensive.
  const { ask, messages } = setup(stored(36, (i) => `${i}:`.padEnd(32_700, "x")));

  // Act
  const { frame } = await ask({ limit: 100 });

  // Assess: three fit in the frame; five were read (the first page), not 101.
  t.is(frame.messages.length, 3);
  const read = await Promise.all(messages.queryPage.returnValues).then((pages) =>
    pages.reduce((sum, page) => sum + page.items.length, 0),
  );
  t.is(read, 5);
  t.is(messages.queryPage.callCount, 1);
});

const refused = test.macro({
  async exec(t, request: object | string, reason: RegExp) {
    // Prepare
    const { ask, messages } = setup(stored(3));

    // Act
    const { statusCode, frame } = await ask(request);

    // Assess
    t.is(statusCode, 400);
    t.like(frame, { type: "error", requestId: REQUEST_ID });
    t.regex(frame.message ?? "", reason);
    t.is(messages.queryPage.callCount, 0);
  },
  title: (what) => `refuses ${what} with an error frame as the answer, reading nothing`,
});
test("a body that is not JSON", refused, "history please", /not valid JSON/);
test("a limit of 0", refused, { limit: 0 }, /"limit" must be a whole number from 1 to 100/);
test("a limit of 101", refused, { limit: 101 }, /from 1 to 100/);
test("a fractional limit", refused, { limit: 2.5 }, /from 1 to 100/);
test("a limit as a string", refused, { limit: "10" }, /from 1 to 100/);
test("a before that is a number", refused, { before: 17 }, /"before" must be null or the "before" of an earlier/);
test("a before that is not a cursor", refused, { before: "yesterday" }, /"before"/);
test("a before with a key separator smuggled in", refused, { before: "2026-12-02T12:00:00.000Z#a#b" }, /"before"/);

test("before null is the latest page, as if it were left out", async (t) => {
  t.is((await setup(stored(3)).ask({ before: null })).frame.messages.length, 3);
});

test("a caller whose row is gone is told so", async (t) => {
  // Prepare
  const { ask, connections, messages } = setup(stored(3));
  connections.get.rejects(new ObjectNotFoundError("connections", { connectionId: CALLER }));

  // Act
  const { statusCode, frame } = await ask({});

  // Assess
  t.is(statusCode, 400);
  t.like(frame, { type: "error", message: NOT_IN_A_ROOM });
  t.is(messages.queryPage.callCount, 0);
});

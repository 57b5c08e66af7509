/**
 * Rooms, presence and history over real sockets, the embedded DynamoDB and the real SDK clients.
 * What API Gateway itself decides is replayed by the gateway and cited where it is tested
 * (a `$connect` integration's non-2xx status refuses the handshake with that status:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html;
 * a two-way route's response goes back to the caller as a frame:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-response.html);
 * the rest is the chat's own protocol, documented in docs/protocol.md.
 */
import test from "ava";
import { createDocumentClient } from "../../../dal/dynamodb-client";
import type { PresenceFrame } from "../../../functions/broadcast/room-broadcast";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { roomKey, roomShardKey, shardOf } from "../../../functions/chat/room";
import type { HistoryFrame } from "../../../functions/handlers/history";
import type { WhoFrame } from "../../../functions/handlers/who";
import { chatRepositories, createHandlerDependencies } from "../../../functions/runtime/handler-dependencies";
import { chatGateway, invoked, operatorConfig, roundTrip, say, whoAmI, within } from "../../support/chat";
import { connect, eventually, type TestClient } from "../../support/websocket";

type Frame = Record<string, unknown> & { type?: string };

const framesAt = (client: TestClient): Frame[] =>
  client.received.filter((raw): raw is string => typeof raw === "string").map((raw) => JSON.parse(raw) as Frame);
const ofType = <T>(client: TestClient, type: string) => framesAt(client).filter((frame) => frame.type === type) as T[];

/** Sends a two-way route's request and resolves its answer (the first later frame of that type). */
async function ask<T extends { type: string }>(client: TestClient, request: object, type: string): Promise<T> {
  const seen = client.received.length;
  client.socket.send(JSON.stringify(request));
  let answer: T | undefined;
  await within(
    5000,
    JSON.stringify(request),
    eventually(() => {
      answer = framesAt({ ...client, received: client.received.slice(seen) }).find((frame) => frame.type === type) as
        | T
        | undefined;
      return answer !== undefined;
    }),
  );
  return answer as T;
}

async function join(url: string, room?: string, name?: string): Promise<{ client: TestClient; id: string }> {
  const query = new URLSearchParams({ ...(room && { room }), ...(name && { name }) });
  const client = await connect(`${url}${query.size > 0 ? `?${query}` : ""}`);
  return { client, id: await whoAmI(client) };
}

test("two rooms: a message reaches everyone in its room and no one else, and its frame names the room", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await join(gw.url, "kitchen", "Ada");
  const bob = await join(gw.url, "kitchen", "Bob");
  const cy = await join(gw.url, "garden", "Cy");
  const dee = await join(gw.url, undefined, "Dee");

  say(ada.client, "in the kitchen");
  say(cy.client, "in the garden");
  say(dee.client, "in the lobby");
  await eventually(() => ofType(dee.client, "message").length === 1 && ofType(cy.client, "message").length === 1);
  await eventually(() => ofType(bob.client, "message").length === 1 && ofType(ada.client, "message").length === 1);
  // Nothing more can come: the three broadcasts are done and each socket has carried a round trip.
  await invoked(gw.log, "sendmessage", 3);
  for (const { client } of [ada, bob, cy, dee]) await roundTrip(client);

  const seen = (client: TestClient) =>
    ofType<ChatMessageFrame>(client, "message").map((frame) => `${frame.room}: ${frame.name}: ${frame.data}`);
  t.deepEqual(seen(ada.client), ["kitchen: Ada: in the kitchen"]);
  t.deepEqual(seen(bob.client), ["kitchen: Ada: in the kitchen"]);
  t.deepEqual(seen(cy.client), ["garden: Cy: in the garden"]);
  t.deepEqual(seen(dee.client), ["lobby: Dee: in the lobby"], "no ?room= is the lobby");
  // Each connection's membership of its room, in the room's shard for its id.
  const memberships = await gw.table.memberships();
  t.deepEqual(
    Object.fromEntries(memberships.map((item) => [item.connectionId.split("#")[0], item.roomKey])),
    Object.fromEntries(
      [
        [ada.id, "kitchen"],
        [bob.id, "kitchen"],
        [cy.id, "garden"],
        [dee.id, "lobby"],
      ].map(([id, room]) => [
        id,
        roomShardKey({ apiId: gw.apiId, stage: "dev", room: room as string }, shardOf(id as string)),
      ]),
    ),
  );
});

test("presence: the room hears each join and leave with name and time; other rooms hear nothing", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await join(gw.url, "kitchen", "Ada");
  const elsewhere = await join(gw.url, "garden", "Cy");

  const bob = await join(gw.url, "kitchen", "Bob");
  await eventually(() => ofType(ada.client, "presence").length === 1);
  bob.client.socket.close(1000, "bye");
  await eventually(() => ofType(ada.client, "presence").length === 2);

  const presence = ofType<PresenceFrame>(ada.client, "presence");
  t.deepEqual(
    presence.map(({ type, event, room, connectionId, name }) => ({ type, event, room, connectionId, name })),
    [
      { type: "presence", event: "join", room: "kitchen", connectionId: bob.id, name: "Bob" },
      { type: "presence", event: "leave", room: "kitchen", connectionId: bob.id, name: "Bob" },
    ],
  );
  for (const frame of presence) t.regex(frame.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.deepEqual(ofType(bob.client, "presence"), [], "a joiner is not told of its own join");
  t.deepEqual(ofType(elsewhere.client, "presence"), []);
});

test("a connection that vanished without $disconnect leaves when a post finds it gone, told once", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await join(gw.url, "kitchen", "Ada");
  const bob = await join(gw.url, "kitchen", "Bob");
  // A row whose connection is gone and whose $disconnect never ran, connected long enough ago that
  // its 410 cannot mean "still connecting".
  const { connections } = createHandlerDependencies(operatorConfig(gw));
  const ghost = "GHOSTconnection=";
  const address = { apiId: gw.apiId, stage: "dev", room: "kitchen" };
  await connections.put({
    connectionId: ghost,
    apiId: gw.apiId,
    stage: "dev",
    room: "kitchen",
    roomKey: roomShardKey(address, shardOf(ghost)),
    name: "Ghost",
    connectedAt: Date.now() - 120_000,
    sourceIp: "127.0.0.1",
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  });
  t.deepEqual((await ask<WhoFrame>(ada.client, { action: "who" }, "who")).members.map((member) => member.name).sort(), [
    "Ada",
    "Bob",
    "Ghost",
  ]);

  say(ada.client, "anyone there?");
  say(ada.client, "still there?");
  await eventually(() => ofType(bob.client, "message").length === 2);
  await eventually(() => ofType<PresenceFrame>(bob.client, "presence").some((frame) => frame.event === "leave"));
  // Nothing more can come: both broadcasts are done and each socket has carried a round trip.
  await invoked(gw.log, "sendmessage", 2);
  for (const { client } of [ada, bob]) await roundTrip(client);

  const leaves = (client: TestClient) =>
    ofType<PresenceFrame>(client, "presence")
      .filter((frame) => frame.event === "leave")
      .map((frame) => frame.connectionId);
  t.deepEqual(leaves(ada.client), [ghost]);
  t.deepEqual(leaves(bob.client), [ghost]);
  t.false((await gw.table.rows()).some((row) => row.connectionId === ghost));
  t.deepEqual((await ask<WhoFrame>(bob.client, { action: "who" }, "who")).members.map((member) => member.name).sort(), [
    "Ada",
    "Bob",
  ]);
});

test("who lists the room's members, oldest first, and no one from other rooms", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await join(gw.url, "kitchen", "Ada");
  const bob = await join(gw.url, "kitchen", "Bob");
  await join(gw.url, "garden", "Cy");
  const anonymous = await join(gw.url, "kitchen");

  const answer = await ask<WhoFrame>(bob.client, { action: "who" }, "who");

  t.is(answer.room, "kitchen");
  t.false(answer.truncated);
  t.deepEqual(
    answer.members.map(({ connectionId, name }) => ({ connectionId, name })),
    [
      { connectionId: ada.id, name: "Ada" },
      { connectionId: bob.id, name: "Bob" },
      { connectionId: anonymous.id, name: undefined },
    ],
  );
  const times = answer.members.map((member) => Date.parse(member.connectedAt));
  t.deepEqual(
    [...times].sort((a, b) => a - b),
    times,
  );
});

test("history: a newcomer pages back through 130 messages, each once, in order; another room's stay out", async (t) => {
  t.timeout(60_000);
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await join(gw.url, "kitchen", "Ada");
  const cy = await join(gw.url, "garden", "Cy");
  // One at a time, each after the last one's echo: API Gateway runs a socket's messages concurrently,
  // so only then is the order they were sent the order they were handled.
  for (let i = 0; i < 130; i++) {
    say(ada.client, `kitchen ${i}`);
    await eventually(() => ofType(ada.client, "message").length === i + 1);
  }
  say(cy.client, "garden only");
  await eventually(() => ofType(cy.client, "message").length === 1);

  const newcomer = await join(gw.url, "kitchen", "Bob");
  const pages: HistoryFrame[] = [await ask<HistoryFrame>(newcomer.client, { action: "history" }, "history")];
  while (pages.at(-1)?.before) {
    const before = pages.at(-1)?.before;
    pages.push(await ask<HistoryFrame>(newcomer.client, { action: "history", limit: 60, before }, "history"));
  }

  t.deepEqual(
    pages.map((page) => page.messages.length),
    [50, 60, 20],
  );
  const all = pages.reverse().flatMap((page) => page.messages);
  t.deepEqual(
    all.map((message) => message.data),
    Array.from({ length: 130 }, (_, i) => `kitchen ${i}`),
    "oldest first, each once, in the order they were handled",
  );
  t.deepEqual(all, ofType<ChatMessageFrame>(ada.client, "message"), "history holds the frames as they were sent");
  const ids = all.map((message) => message.id);
  t.deepEqual([...ids].sort(), ids);
  const garden = await ask<HistoryFrame>(cy.client, { action: "history" }, "history");
  t.deepEqual(
    garden.messages.map((message) => message.data),
    ["garden only"],
  );
});

test("a flood of joins and leaves: every one is told once, in pairs, and the room ends as it began", async (t) => {
  t.timeout(60_000);
  // About presence, not this machine's overload guard, which may refuse a few of 40 handshakes at once.
  const gw = await chatGateway({ limits: { behindAfterMs: 0 } });
  t.teardown(() => gw.close());
  const watcher = await join(gw.url, "busy", "Watcher");
  const FLOOD = 40;
  const visitors = await Promise.all(Array.from({ length: FLOOD }, (_, i) => join(gw.url, "busy", `Visitor ${i}`)));
  await Promise.all(
    visitors.map(async ({ client }) => {
      client.socket.close(1000, "bye");
      await client.closed;
    }),
  );
  await eventually(() => ofType(watcher.client, "presence").length >= 2 * FLOOD, 30_000);
  // Nothing more can come: every join and leave is done and the watcher's socket has carried a round trip.
  await invoked(gw.log, "$connect", FLOOD + 1);
  await invoked(gw.log, "$disconnect", FLOOD);
  await roundTrip(watcher.client);

  const presence = ofType<PresenceFrame>(watcher.client, "presence");
  const ids = visitors.map((visitor) => visitor.id).sort();
  t.deepEqual(
    presence
      .filter((frame) => frame.event === "join")
      .map((frame) => frame.connectionId)
      .sort(),
    ids,
  );
  t.deepEqual(
    presence
      .filter((frame) => frame.event === "leave")
      .map((frame) => frame.connectionId)
      .sort(),
    ids,
  );
  const who = await ask<WhoFrame>(watcher.client, { action: "who" }, "who");
  t.deepEqual(
    who.members.map((member) => member.connectionId),
    [watcher.id],
  );
  t.is((await gw.table.rows()).length, 1);
});

test("history: messages handled in the same millisecond keep one order, by request id, on every read", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const reader = await join(gw.url, "ties", "Reader");
  const { messages } = chatRepositories(
    createDocumentClient({ region: "us-east-1", endpoint: gw.dynamodbEndpoint, credentials: gw.credentials }),
    { tableName: gw.tableName, messagesTableName: gw.messagesTableName },
  );
  const sentAt = new Date().toISOString();
  for (const requestId of ["ZZZZ=", "MMMM=", "AAAA="]) {
    await messages.put({
      roomKey: roomKey({ apiId: gw.apiId, stage: "dev", room: "ties" }),
      // Ids as they were before rooms counted messages: a time, then the request id.
      id: `${sentAt}#${requestId}`,
      room: "ties",
      connectionId: "writer=",
      data: requestId,
      sentAt,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
  }

  const reads = [
    await ask<HistoryFrame>(reader.client, { action: "history" }, "history"),
    await ask<HistoryFrame>(reader.client, { action: "history", limit: 2 }, "history"),
  ];

  t.deepEqual(
    reads[0]?.messages.map((message) => message.data),
    ["AAAA=", "MMMM=", "ZZZZ="],
  );
  t.deepEqual(
    reads[1]?.messages.map((message) => message.data),
    ["MMMM=", "ZZZZ="],
    "the latest two are the same two",
  );
  const older = await ask<HistoryFrame>(reader.client, { action: "history", before: reads[1]?.before }, "history");
  t.deepEqual(
    older.messages.map((message) => message.data),
    ["AAAA="],
    "and paging back from them finds the third, once",
  );
});

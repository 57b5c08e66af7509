/**
 * Nothing missed across a reconnect, over real sockets: the client library (client/) in several
 * rooms, its network cut by a TCP proxy between it and the gateway (open sockets reset, new ones
 * refused, as a phone losing its signal), while another client sends. API Gateway posts each frame
 * at most once, and a post to a connection that is gone is dropped (410 GoneException:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html),
 * so what came meanwhile comes back from each room's history, numbered (docs/protocol.md).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, paginateScan, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import test from "ava";
import WebSocket from "ws";
import { ChatClient, type ChatMessageFrame, type GapFilled } from "../../../client";
import { chatGateway } from "../../support/chat";
import { startTcpProxy, type TcpProxy } from "../../support/tcp-proxy";
import { eventually } from "../../support/websocket";

type Gateway = Awaited<ReturnType<typeof chatGateway>>;

/** A client of the library on Node 20 (ws's WebSocket), with what it emitted, room by room. */
function chatClient(url: string, name: string) {
  const client = new ChatClient({ url, name, WebSocket, backoff: { firstDelayMs: 50, maxDelayMs: 500 } });
  const messages: ChatMessageFrame[] = [];
  const gaps: GapFilled[] = [];
  client.on("message", (message) => messages.push(message));
  client.on("gap-filled", (gap) => gaps.push(gap));
  const texts = (room: string) => messages.filter((message) => message.room === room).map((message) => message.data);
  const numbers = (room: string) => messages.filter((message) => message.room === room).map((message) => message.seq);
  return { client, gaps, texts, numbers };
}

/** `name`'s client, reaching the gateway through a proxy the test can cut; joined to `rooms` and open. */
async function behindProxy(t: { teardown(fn: () => unknown): void }, gw: Gateway, name: string, rooms: string[]) {
  const proxy = await startTcpProxy(gw.port);
  const url = new URL(gw.url);
  url.host = `127.0.0.1:${proxy.port}`;
  const each = chatClient(url.href, name);
  t.teardown(async () => {
    each.client.close();
    await proxy.close();
  });
  await Promise.all([each.client.open(), ...rooms.map((room) => each.client.join(room))]);
  return { ...each, proxy };
}

async function directly(t: { teardown(fn: () => unknown): void }, gw: Gateway, name: string, rooms: string[]) {
  const each = chatClient(gw.url, name);
  t.teardown(() => each.client.close());
  await Promise.all([each.client.open(), ...rooms.map((room) => each.client.join(room))]);
  return each;
}

/** The network goes: the client's socket is reset, and the gateway has run its `$disconnect`. */
async function cut(proxy: TcpProxy, gw: Gateway, connectionsLeft: number): Promise<void> {
  await proxy.cut("refuse");
  await eventually(() => gw.connectionCount() === connectionsLeft, 10_000);
}

/**
 * The messages table's items of `room` numbered `from` to `to`: what DynamoDB's TTL does to a
 * message past `historyTtlSeconds`. Its sweep deletes it within days of its expiry, and until then
 * the item is still read, expired (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html).
 */
async function storedMessages(gw: Gateway, room: string, from: number, to: number) {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: gw.dynamodbEndpoint,
      region: "us-east-1",
      credentials: gw.credentials,
    }),
  );
  const items: Array<{ roomKey: string; id: string; seq: number }> = [];
  for await (const page of paginateScan({ client }, { TableName: gw.messagesTableName })) {
    for (const item of (page.Items ?? []) as Array<{ roomKey: string; id: string; room?: string; seq?: number }>) {
      if (item.room === room && item.seq !== undefined && item.seq >= from && item.seq <= to) {
        items.push({ roomKey: item.roomKey, id: item.id, seq: item.seq });
      }
    }
  }
  const key = ({ roomKey, id }: { roomKey: string; id: string }) => ({
    TableName: gw.messagesTableName,
    Key: { roomKey, id },
  });
  return {
    count: items.length,
    /** Swept: the items are gone. */
    delete: (seqs: number[]) =>
      Promise.all(
        items.filter(({ seq }) => seqs.includes(seq)).map((item) => client.send(new DeleteCommand(key(item)))),
      ),
    /** Expired, not yet swept. */
    expire: (seqs: number[]) =>
      Promise.all(
        items
          .filter(({ seq }) => seqs.includes(seq))
          .map((item) =>
            client.send(
              new UpdateCommand({
                ...key(item),
                UpdateExpression: "SET expiresAt = :past",
                ExpressionAttributeValues: { ":past": Math.floor(Date.now() / 1000) - 1 },
              }),
            ),
          ),
      ),
    close: () => client.destroy(),
  };
}

const count = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);

test("a client that loses its socket while 50 messages are sent to each of its three rooms has all 50 after it reconnects, once each and in order", async (t) => {
  t.timeout(120_000);
  const gw = await chatGateway();
  t.teardown(gw.close);
  const rooms = ["kitchen", "garden", "attic"];
  const ada = await behindProxy(t, gw, "Ada", rooms);
  const bob = await directly(t, gw, "Bob", rooms);
  for (const room of rooms) await bob.client.send(room, `${room}: before`);
  await eventually(() => rooms.every((room) => ada.texts(room).length === 1));

  await cut(ada.proxy, gw, 1);
  // One after another, each once the last is answered: the order sent is the order numbered.
  for (let i = 0; i < 50; i++) for (const room of rooms) await bob.client.send(room, `${room} ${i}`);
  t.true(
    rooms.every((room) => ada.texts(room).length === 1),
    "nothing reached Ada while her network was down",
  );

  await ada.proxy.restore();
  ada.client.reconnectNow();
  await eventually(() => ada.gaps.length === rooms.length, 60_000);
  for (const room of rooms) {
    t.deepEqual(ada.texts(room), [`${room}: before`, ...count(50, room)], `#${room}: each once, in order`);
    t.deepEqual(
      ada.numbers(room),
      Array.from({ length: 51 }, (_, i) => i + 1),
    );
  }
  t.deepEqual(
    [...ada.gaps].sort((a, b) => a.room.localeCompare(b.room)),
    [...rooms].sort().map((room) => ({ room, filled: 50, missed: 0, after: "reconnect" as const })),
  );
  // Joined again on the new connection: a message now comes live, once.
  await bob.client.send("garden", "garden: after");
  await eventually(() => ada.texts("garden").at(-1) === "garden: after");
  t.is(ada.texts("garden").length, 52);
});

test("a gap past history's reach is reported: what history no longer holds is counted, the rest delivered in order", async (t) => {
  t.timeout(60_000);
  const gw = await chatGateway();
  t.teardown(gw.close);
  const rooms = ["kitchen", "garden"];
  const ada = await behindProxy(t, gw, "Ada", rooms);
  const bob = await directly(t, gw, "Bob", rooms);
  for (const room of rooms) await bob.client.send(room, `${room}: before`);
  await eventually(() => rooms.every((room) => ada.texts(room).length === 1));

  await cut(ada.proxy, gw, 1);
  for (let i = 0; i < 10; i++) for (const room of rooms) await bob.client.send(room, `${room} ${i}`);
  // The kitchen's first six of those (numbers 2 to 7) are past history's reach: three swept, three expired.
  const stored = await storedMessages(gw, "kitchen", 2, 7);
  t.teardown(stored.close);
  t.is(stored.count, 6);
  await stored.delete([2, 3, 4]);
  await stored.expire([5, 6, 7]);

  await ada.proxy.restore();
  ada.client.reconnectNow();
  await eventually(() => ada.gaps.length === rooms.length, 30_000);
  t.deepEqual(ada.texts("kitchen"), ["kitchen: before", ...count(10, "kitchen").slice(6)]);
  t.deepEqual(ada.texts("garden"), ["garden: before", ...count(10, "garden")]);
  t.deepEqual(
    [...ada.gaps].sort((a, b) => a.room.localeCompare(b.room)),
    [
      { room: "garden", filled: 10, missed: 0, after: "reconnect" },
      { room: "kitchen", filled: 4, missed: 6, after: "reconnect" },
    ],
  );
});

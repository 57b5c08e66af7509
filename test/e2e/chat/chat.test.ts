/**
 * The project's own route table behind the local gateway: real sockets, the embedded DynamoDB,
 * the real SDK clients.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import test from "ava";
import type { Connection } from "../../../functions/chat/connection";
import type { ErrorFrame } from "../../../functions/chat/frames";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { type LocalGateway, startLocalGateway } from "../../../local/express-server";
import { connect, eventually } from "../../support/websocket";

function tableClient(gateway: Pick<LocalGateway, "dynamodbEndpoint" | "credentials">) {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: gateway.dynamodbEndpoint, region: "us-east-1", credentials: gateway.credentials }),
  );
}

async function rows(gateway: LocalGateway): Promise<Connection[]> {
  const { Items } = await tableClient(gateway).send(new ScanCommand({ TableName: gateway.tableName }));
  // The connections' rows, not their memberships in rooms (`{connectionId}#{room}`).
  return ((Items ?? []) as Connection[]).filter((row) => !row.connectionId.includes("#"));
}

const send = (socket: { send(data: string): void }, request: object) => socket.send(JSON.stringify(request));

test("two clients chat: each message reaches both as a JSON frame with sender, name, text and time", async (t) => {
  const gw = await startLocalGateway({ port: 0, log: () => {} });
  t.teardown(() => gw.close());
  const ada = await connect(gw.url);
  const bob = await connect(gw.url);
  await eventually(async () => (await rows(gw)).length === 2);

  send(ada.socket, { action: "sendmessage", data: "hi Bob", name: "Ada" });
  const [atAda, atBob] = await Promise.all([ada.nextJson<ChatMessageFrame>(), bob.nextJson<ChatMessageFrame>()]);
  t.deepEqual(atAda, atBob);
  t.is(atAda.type, "message");
  t.is(atAda.data, "hi Bob");
  t.is(atAda.name, "Ada");
  t.true(Math.abs(Date.parse(atAda.sentAt) - Date.now()) < 60_000);
  const adaRow = (await rows(gw)).find((row) => row.connectionId === atAda.connectionId);
  t.truthy(adaRow, "the sender id in the frame is the sender's connection id");

  send(bob.socket, { action: "sendmessage", data: "hello Ada" });
  const reply = await ada.nextJson<ChatMessageFrame>();
  t.is(reply.data, "hello Ada");
  t.is(reply.name, undefined);
  t.not(reply.connectionId, atAda.connectionId);
});

test("$connect stores the connection with its source IP and a TTL two hours ahead; leaving removes it", async (t) => {
  const gw = await startLocalGateway({ port: 0, log: () => {} });
  t.teardown(() => gw.close());
  const client = await connect(gw.url, { headers: { "User-Agent": "chat-test" } });
  await eventually(async () => (await rows(gw)).length === 1);
  const [row] = await rows(gw);
  const nowSeconds = Date.now() / 1000;
  t.is(row?.sourceIp, "127.0.0.1");
  t.is(row?.userAgent, "chat-test");
  t.true(Math.abs((row?.expiresAt ?? 0) - (nowSeconds + 7200)) < 60);
  client.socket.close();
  await eventually(async () => (await rows(gw)).length === 0);
  t.pass();
});

test("a malformed sendmessage gets an error frame to the sender only; the others see nothing", async (t) => {
  const gw = await startLocalGateway({ port: 0, log: () => {} });
  t.teardown(() => gw.close());
  const sender = await connect(gw.url);
  const other = await connect(gw.url);
  send(sender.socket, { action: "sendmessage", data: 42 });
  const error = await sender.nextJson<ErrorFrame>();
  t.is(error.type, "error");
  t.is(error.message, '"data" must be a string');
  // Over 32 KB a message must come in several frames, or API Gateway closes the socket (1009).
  const oversized = JSON.stringify({ action: "sendmessage", data: "x".repeat(32 * 1024 + 1) });
  sender.socket.send(oversized.slice(0, 20_000), { fin: false });
  sender.socket.send(oversized.slice(20_000), { fin: true });
  t.regex((await sender.nextJson<ErrorFrame>()).message, /limit is 32768/);
  send(sender.socket, { action: "sendmessage", data: "after the errors" });
  t.is((await other.nextJson<ChatMessageFrame>()).data, "after the errors");
  t.is(other.received.length, 1);
});

test("a client that vanished without a close frame is cleaned up and the others still get the message", async (t) => {
  const gw = await startLocalGateway({ port: 0, log: () => {} });
  t.teardown(() => gw.close());
  const clients = await Promise.all(Array.from({ length: 5 }, () => connect(gw.url)));
  await eventually(async () => (await rows(gw)).length === 5);
  clients[4]?.socket.terminate();
  send(clients[0]?.socket as { send(data: string): void }, { action: "sendmessage", data: "still here?" });
  for (const client of clients.slice(0, 4)) t.is((await client.nextJson<ChatMessageFrame>()).data, "still here?");
  await eventually(async () => (await rows(gw)).length === 4);
});

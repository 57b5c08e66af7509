/**
 * A bounded load test of the whole chat on loopback: 1,000 concurrent `ws` clients behind the
 * local gateway with the project's handlers, the real SDK clients and the embedded DynamoDB.
 * Every message must reach every client exactly once, each sender's messages in the order sent.
 */
import test from "ava";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { startLocalGateway } from "../../../local/express-server";
import { tableReader } from "../../support/dynamodb";
import { connect, eventually, type TestClient } from "../../support/websocket";

const CLIENTS = 1000;
const SENDERS = 3;
const MESSAGES_PER_SENDER = 3;
/** Handshakes in flight at once: the listen backlog must not overflow into SYN retries. */
const CONNECT_WAVE = 100;

test("1,000 concurrent clients each receive every message of 3 senders exactly once, in each sender's order", async (t) => {
  t.timeout(60_000);
  const log: string[] = [];
  // Waves of 100 handshakes into one room make up to 10,000 join notices a wave, all on this
  // machine's CPU where Lambda would run them side by side: the local overload guard stays off.
  // On a fast machine the waves could pass the account's 500 new connections a second, which
  // this test is not about: that quota is off too (conformance-limits tests it).
  const gw = await startLocalGateway({
    port: 0,
    log: (line) => log.push(line),
    servePage: false,
    limits: { behindAfterMs: 0, newConnectionsPerSecond: 0 },
  });
  const table = tableReader(gw.dynamodbEndpoint, gw.tableName, gw.credentials);
  t.teardown(async () => {
    table.close();
    await gw.close();
  });

  const started = performance.now();
  const clients: TestClient[] = [];
  while (clients.length < CLIENTS) {
    const wave = Math.min(CONNECT_WAVE, CLIENTS - clients.length);
    clients.push(
      ...(await Promise.all(Array.from({ length: wave }, () => connect(gw.url, { perMessageDeflate: false })))),
    );
  }
  const connectedMs = performance.now() - started;
  t.is(gw.connectionCount(), CLIENTS);
  t.is((await table.rows()).length, CLIENTS, "one row per connection");

  const expected = SENDERS * MESSAGES_PER_SENDER;
  const messagesAt = (client: TestClient) =>
    client.received
      .map((frame) => JSON.parse(String(frame)) as ChatMessageFrame)
      .filter((frame) => frame.type === "message");

  // Each sender sends its next message once its previous one came back to it, as a chat page that
  // shows "sending..." does. Messages sent back to back are separate invocations that run
  // concurrently, here as in API Gateway and Lambda, so nothing orders them.
  const sendStarted = performance.now();
  const senders = clients.slice(0, SENDERS).map(async (client, sender) => {
    for (let seq = 0; seq < MESSAGES_PER_SENDER; seq++) {
      const echoed = () => messagesAt(client).some((frame) => frame.data === `${sender}:${seq}`);
      client.socket.send(JSON.stringify({ action: "sendmessage", data: `${sender}:${seq}`, name: `sender-${sender}` }));
      await eventually(echoed, 30_000);
    }
  });
  await Promise.all(senders);
  await eventually(() => clients.every((client) => messagesAt(client).length >= expected), 45_000);
  const broadcastMs = performance.now() - sendStarted;
  // Late duplicates would arrive after the expected count. None can come once every sendmessage
  // invocation is logged (each line is written after its posts were handed to their sockets) and
  // each client has closed: a close handshake comes after every frame sent before it.
  await eventually(() => log.filter((line) => / sendmessage connection=/.test(line)).length === expected);
  const leaveStarted = performance.now();
  for (const client of clients) client.socket.close(1000, "bye");
  await Promise.all(clients.map((client) => client.closed));

  let delivered = 0;
  let outOfOrder = 0;
  const problems: string[] = [];
  for (const [index, client] of clients.entries()) {
    const frames = messagesAt(client);
    delivered += frames.length;
    const presence = client.received.filter((frame) => String(frame).startsWith('{"type":"presence"')).length;
    // Each sender's message is acknowledged to it alone (docs/protocol.md, "ack").
    const acks = client.received.filter((frame) => String(frame).startsWith('{"type":"ack"')).length;
    if (acks !== (index < SENDERS ? MESSAGES_PER_SENDER : 0)) problems.push(`client ${index} got ${acks} acks`);
    if (frames.length + presence + acks !== client.received.length) {
      problems.push(`client ${index} got frames that are neither messages, acks nor presence notices`);
    }
    if (frames.length !== expected) problems.push(`client ${index} got ${frames.length} messages, not ${expected}`);
    for (let sender = 0; sender < SENDERS; sender++) {
      const sequence = frames.filter((frame) => frame.name === `sender-${sender}`).map((frame) => frame.data);
      const inOrder = Array.from({ length: MESSAGES_PER_SENDER }, (_, seq) => `${sender}:${seq}`);
      if (sequence.join() !== inOrder.join()) {
        outOfOrder++;
        if (problems.length < 10)
          problems.push(`client ${index} got sender ${sender}'s messages as ${sequence.join(" ")}`);
      }
    }
  }
  t.deepEqual(problems, []);
  t.is(delivered, CLIENTS * expected, "no loss, no duplicates");
  t.is(outOfOrder, 0);

  // Everyone left at once: a storm of $disconnect invocations, each of which must succeed.
  const disconnected = () => log.filter((line) => line.includes(" $disconnect ")).length;
  await eventually(() => gw.connectionCount() === 0 && disconnected() === CLIENTS, 30_000);
  const failedDisconnects = log.filter((line) => line.includes(" $disconnect ") && !line.includes("status=200 "));
  t.deepEqual(failedDisconnects.slice(0, 3), [], `${failedDisconnects.length} $disconnect invocations failed`);
  t.deepEqual(await table.rows(), [], "the table ends empty");
  const leftMs = performance.now() - leaveStarted;
  t.log(
    `${CLIENTS} clients connected in ${Math.round(connectedMs)} ms; ${delivered} deliveries ` +
      `(${SENDERS} senders × ${MESSAGES_PER_SENDER} messages × ${CLIENTS} clients) in ${Math.round(broadcastMs)} ms ` +
      `(${Math.round(delivered / (broadcastMs / 1000))}/s); table empty ${Math.round(leftMs)} ms after all left; ` +
      `total ${Math.round(performance.now() - started)} ms`,
  );
});

/**
 * Fan-out to large rooms over real sockets, the embedded DynamoDB and the real SDK clients (the
 * Lambda client included, answered by the gateway's replay of asynchronous invocation:
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html). Thresholds are set low so
 * that a room of a few dozen is cut into many slices across all four shards.
 */
import test from "ava";
import { readFunctionConfig } from "../../functions/config";
import { createHandlerDependencies } from "../../functions/dependencies";
import { roomShardKey, shardOf } from "../../functions/room";
import { chatGateway, messagesAt, say, whoAmI } from "../support/chat";
import { connect, eventually, type TestClient } from "../support/websocket";

const SMALL_SLICES = { FANOUT_SHARD_THRESHOLD: "3", FANOUT_SLICE_SIZE: "4" };

async function joinMany(url: string, room: string, count: number): Promise<{ client: TestClient; id: string }[]> {
  const members: { client: TestClient; id: string }[] = [];
  for (let i = 0; i < count; i++) {
    const client = await connect(`${url}?room=${room}&name=m${i}`);
    members.push({ client, id: await whoAmI(client) });
  }
  return members;
}

const received = (client: TestClient, data: string) => messagesAt(client).filter((m) => m.data === data).length;
const workerLines = (log: string[]) => log.filter((line) => / broadcast asynchronous status=/.test(line));

/** Rows of connections that are gone without `$disconnect`: their posts answer 410. */
async function ghosts(gw: Awaited<ReturnType<typeof chatGateway>>, room: string, count: number): Promise<string[]> {
  const { connections } = createHandlerDependencies(
    readFunctionConfig({
      TABLE_NAME: gw.tableName,
      MESSAGES_TABLE_NAME: gw.messagesTableName,
      DYNAMODB_ENDPOINT_URL: gw.dynamodbEndpoint,
    }),
  );
  const ids = Array.from({ length: count }, (_, i) => `GHOST${String(i).padStart(10, "0")}=`);
  const address = { apiId: gw.apiId, stage: "dev", room };
  for (const connectionId of ids) {
    await connections.put({
      connectionId,
      ...address,
      roomKey: roomShardKey(address, shardOf(connectionId)),
      connectedAt: Date.now() - 120_000,
      sourceIp: "127.0.0.1",
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    });
  }
  return ids;
}

test("a large room: every member gets the message exactly once across shards and slices, other rooms nothing", async (t) => {
  const gw = await chatGateway({ functionEnvironment: SMALL_SLICES });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "stadium", 36);
  const [outsider] = await joinMany(gw.url, "lobby", 1);

  say(members[0]?.client as TestClient, "kick-off");
  for (const { client } of members) await eventually(() => received(client, "kick-off") === 1, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));

  t.true(members.every(({ client }) => received(client, "kick-off") === 1));
  t.is(received(outsider?.client as TestClient, "kick-off"), 0);
  const lines = workerLines(gw.log);
  t.true(lines.length >= 8, `${lines.length} slices: at least two per shard`);
  t.true(
    lines.every((line) => line.includes("status=200")),
    lines.join("\n"),
  );
  t.log(`36 members, ${lines.length} workers; first: ${lines[0]}`);
});

test("a small room stays inline: no worker runs", async (t) => {
  const gw = await chatGateway({ functionEnvironment: SMALL_SLICES });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "booth", 3);
  say(members[0]?.client as TestClient, "just us");
  for (const { client } of members) await eventually(() => received(client, "just us") === 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.deepEqual(workerLines(gw.log), []);
});

test("members gone mid-fan-out are removed by the workers, and the rest get the message once", async (t) => {
  const gw = await chatGateway({ functionEnvironment: SMALL_SLICES });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "arena", 12);
  const gone = await ghosts(gw, "arena", 24);
  t.is((await gw.table.rows()).length, 36);

  say(members[0]?.client as TestClient, "who is left?");
  for (const { client } of members) await eventually(() => received(client, "who is left?") === 1, 10_000);
  await eventually(async () => (await gw.table.rows()).length === 12, 10_000);
  const left = new Set((await gw.table.rows()).map((row) => row.connectionId));
  t.true(gone.every((id) => !left.has(id)));
  t.true(members.every(({ id }) => left.has(id)));
  t.true(members.every(({ client }) => received(client, "who is left?") === 1));
});

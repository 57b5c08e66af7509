/**
 * Fan-out to large rooms over real sockets, the embedded DynamoDB and the real SDK clients (the
 * Lambda client included, answered by the gateway's replay of asynchronous invocation:
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html). Thresholds are set low so
 * that a room of a few dozen is cut into many slices across all four shards.
 */
import test from "ava";
import type { BroadcastJob } from "../../../functions/broadcast/fanout";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { roomShardKey, shardOf } from "../../../functions/chat/room";
import { broadcastWorker } from "../../../functions/routes";
import { createHandlerDependencies } from "../../../functions/runtime/handler-dependencies";
import { chatGateway, invoked, messagesAt, operatorConfig, roundTrip, say, whoAmI } from "../../support/chat";
import { connect, eventually, type TestClient } from "../../support/websocket";

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

/** Runs of a broadcast worker: started so far, and under way now. */
interface WorkerRuns {
  started: number;
  running: number;
}

/**
 * The broadcast worker with `before` run ahead of each job (faults injected where AWS would have
 * them), and its runs counted.
 */
function workerWith(before: (job: BroadcastJob) => Promise<unknown> = async () => {}) {
  const runs: WorkerRuns = { started: 0, running: 0 };
  const worker: typeof broadcastWorker = {
    ...broadcastWorker,
    createHandler: (deps) => {
      const real = broadcastWorker.createHandler(deps);
      return async (job) => {
        runs.started++;
        runs.running++;
        try {
          await before(job);
          return await real(job);
        } finally {
          runs.running--;
        }
      };
    },
  };
  return { worker, runs };
}

/**
 * Resolves once every slice handed off by `messages` sendmessage invocations has been posted and
 * has reached `clients`: those invocations are logged (each after its slices were queued), the
 * queue has had its turn (it starts a queued event on the next turn of the event loop), no worker
 * is still running, and each client's socket has carried a round trip since.
 */
async function fannedOut(gw: { log: string[] }, runs: WorkerRuns, messages: number, clients: TestClient[]) {
  await invoked(gw.log, "sendmessage", messages);
  await new Promise((resolve) => setImmediate(resolve));
  await eventually(() => runs.running === 0, 15_000);
  for (const client of clients) await roundTrip(client);
}

/** Rows of connections that are gone without `$disconnect`: their posts answer 410. */
async function ghosts(gw: Awaited<ReturnType<typeof chatGateway>>, room: string, count: number): Promise<string[]> {
  const { connections } = createHandlerDependencies(operatorConfig(gw));
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
  const { worker, runs } = workerWith();
  const gw = await chatGateway({ functionEnvironment: SMALL_SLICES, broadcastWorker: worker });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "stadium", 36);
  const [outsider] = await joinMany(gw.url, "lobby", 1);

  say(members[0]?.client as TestClient, "kick-off");
  for (const { client } of members) await eventually(() => received(client, "kick-off") === 1, 10_000);
  await fannedOut(
    gw,
    runs,
    1,
    [...members, outsider].map((member) => member?.client as TestClient),
  );

  t.true(members.every(({ client }) => received(client, "kick-off") === 1));
  t.is(received(outsider?.client as TestClient, "kick-off"), 0);
  const lines = workerLines(gw.log);
  t.true(lines.length >= 8, `${lines.length} slices: at least two per shard`);
  t.is(lines.length, runs.started);
  t.true(
    lines.every((line) => line.includes("status=200")),
    lines.join("\n"),
  );
  t.log(`36 members, ${lines.length} workers; first: ${lines[0]}`);
});

test("a small room stays inline: no worker runs", async (t) => {
  const { worker, runs } = workerWith();
  const gw = await chatGateway({ functionEnvironment: SMALL_SLICES, broadcastWorker: worker });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "booth", 3);
  say(members[0]?.client as TestClient, "just us");
  for (const { client } of members) await eventually(() => received(client, "just us") === 1);
  await fannedOut(
    gw,
    runs,
    1,
    members.map((member) => member.client),
  );
  t.is(runs.started, 0);
  t.deepEqual(workerLines(gw.log), []);
  t.true(members.every(({ client }) => received(client, "just us") === 1));
});

test("members gone mid-fan-out are removed by the workers, and the rest get the message once", async (t) => {
  const { worker, runs } = workerWith();
  const gw = await chatGateway({ functionEnvironment: SMALL_SLICES, broadcastWorker: worker });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "arena", 12);
  const gone = await ghosts(gw, "arena", 24);
  t.is((await gw.table.rows()).length, 36);

  say(members[0]?.client as TestClient, "who is left?");
  for (const { client } of members) await eventually(() => received(client, "who is left?") === 1, 10_000);
  await fannedOut(
    gw,
    runs,
    1,
    members.map((member) => member.client),
  );
  const left = new Set((await gw.table.rows()).map((row) => row.connectionId));
  t.true(gone.every((id) => !left.has(id)));
  t.true(members.every(({ id }) => left.has(id)));
  t.true(members.every(({ client }) => received(client, "who is left?") === 1));
});

// Serial: its five-second timeouts are measured against a machine the file's other fan-outs do not share.
test.serial(
  "a worker that fails or times out is not retried: each event is tried once and dropped, its slice misses the message, no one gets it twice",
  async (t) => {
    t.timeout(60_000);
    // Fault injection: shard 2's workers throw; shard 3's stall a second past the function timeout,
    // then try to post (refused: Lambda would have stopped them). The gateway's timeout timer is set
    // before the handler's, and expires first, however busy the machine. Each run is counted, and
    // known when done. 5 s: a timeout no $connect of this room reaches on a busy machine.
    const TIMEOUT_MS = 5_000;
    const tries = new Map<string, number>();
    const failing = workerWith(async (job) => {
      if ((job.frame as ChatMessageFrame).data !== "faulty") return;
      tries.set(job.slice, (tries.get(job.slice) ?? 0) + 1);
      if (job.shard === 2) throw new Error("worker crashed");
      if (job.shard === 3) await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 1_000));
    });
    const gw = await chatGateway({
      functionEnvironment: SMALL_SLICES,
      broadcastWorker: failing.worker,
      limits: { functionTimeoutMs: TIMEOUT_MS, behindAfterMs: 0 },
    });
    t.teardown(() => gw.close());
    const members = await joinMany(gw.url, "stadium", 32);
    const failingSlices = () => [...tries.keys()].filter((slice) => /^[23]\./.test(slice));
    say(members[0]?.client as TestClient, "faulty");

    // Every slice of shards 0 and 1 delivers; every slice of shards 2 and 3 fails at once or at the
    // 5 s timeout, and the queue says it drops each event then, rather than keeping it for a retry
    // a minute later. The stalled workers' code runs on past its timeout until it tries to post.
    for (const { client, id } of members) {
      if (shardOf(id) < 2) await eventually(() => received(client, "faulty") === 1, 20_000);
    }
    const dropped = () =>
      gw.log.filter((line) => / broadcast asynchronous event dropped after 1 attempt\(s\)$/.test(line));
    const bothShards = () => ["2.", "3."].every((shard) => failingSlices().some((slice) => slice.startsWith(shard)));
    await eventually(() => bothShards() && dropped().length === failingSlices().length, 20_000);
    await eventually(() => failing.runs.running === 0, 20_000);

    // Assess: nothing more can arrive now (no event is queued for a retry, no worker still runs).
    for (const { client, id } of members) {
      t.is(received(client, "faulty"), shardOf(id) >= 2 ? 0 : 1, `${id} in shard ${shardOf(id)}`);
    }
    t.true(
      failingSlices().some((slice) => slice.startsWith("2.")) &&
        failingSlices().some((slice) => slice.startsWith("3.")),
    );
    t.deepEqual(
      [...tries.values()],
      [...tries.values()].map(() => 1),
      "each event run once",
    );
    const attempts = workerLines(gw.log).filter((line) => line.includes("status=502"));
    t.is(
      attempts.filter((line) => line.endsWith("error: Error: worker crashed")).length,
      failingSlices().filter((s) => s.startsWith("2.")).length,
    );
    t.is(
      attempts.filter((line) => line.endsWith("function-timeout")).length,
      failingSlices().filter((s) => s.startsWith("3.")).length,
    );
    const requestIdOf = (line: string) => /\(([^)]+)\)/.exec(line)?.[1];
    t.deepEqual(
      dropped().map(requestIdOf).sort(),
      attempts.map(requestIdOf).sort(),
      "each failed event's one attempt is followed by its drop",
    );

    // The next message goes to everyone: the failed environments are replaced.
    say(members[0]?.client as TestClient, "all clear");
    for (const { client } of members) await eventually(() => received(client, "all clear") === 1, 10_000);
  },
);

test("a room growing and shrinking during a fan-out: those there throughout get it once, the others at most once", async (t) => {
  t.timeout(60_000);
  // The workers start late, as on a busy queue: the room changes between the message and its posts.
  const late = workerWith(() => new Promise((resolve) => setTimeout(resolve, 1500)));
  const gw = await chatGateway({
    functionEnvironment: SMALL_SLICES,
    broadcastWorker: late.worker,
    limits: { behindAfterMs: 0, functionTimeoutMs: 5000 },
  });
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "hall", 24);
  const leavers = members.slice(16);
  const stayers = members.slice(0, 16);
  say(members[0]?.client as TestClient, "mid-flight");
  const [joiners] = await Promise.all([
    joinMany(gw.url, "hall", 5),
    Promise.all(
      leavers.map(({ client }) => {
        client.socket.close();
        return client.closed;
      }),
    ),
  ]);
  for (const { client } of stayers) await eventually(() => received(client, "mid-flight") === 1, 15_000);
  await fannedOut(
    gw,
    late.runs,
    1,
    [...stayers, ...joiners].map((member) => member.client),
  );
  t.true(stayers.every(({ client }) => received(client, "mid-flight") === 1));
  t.true([...leavers, ...joiners].every(({ client }) => received(client, "mid-flight") <= 1));
  t.true(workerLines(gw.log).every((line) => line.includes("status=200")));
  await eventually(async () => (await gw.table.rows()).length === 21, 10_000);
  t.log(
    `joiners that got it: ${joiners.filter(({ client }) => received(client, "mid-flight") === 1).length}/5, ` +
      `leavers: ${leavers.filter(({ client }) => received(client, "mid-flight") === 1).length}/8`,
  );
});

test("Lambda delivering a job twice: the real worker on the embedded DynamoDB posts it once, over HTTP", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const members = await joinMany(gw.url, "stadium", 6);
  const config = operatorConfig(gw, { MANAGEMENT_ENDPOINT_URL: gw.managementUrl });
  const worker = broadcastWorker.createHandler(createHandlerDependencies(config));
  const frame = {
    type: "message",
    id: "2026-12-02T12:00:00.000Z#twice",
    room: "stadium",
    connectionId: "x",
    data: "twice?",
    sentAt: "2026-12-02T12:00:00.000Z",
  } as const;
  const address = { apiId: gw.apiId, stage: "dev", room: "stadium" };
  for (const shard of [0, 1, 2, 3]) {
    const job: BroadcastJob = {
      endpoint: gw.managementUrl,
      address,
      frame,
      delivery: "twice",
      shard,
      range: {},
      slice: `${shard}.0`,
    };
    t.like(await worker(job), { duplicate: false });
    t.deepEqual(await worker(job), { duplicate: true });
  }
  // Each worker call above returned after its posts: a round trip now shows all they delivered.
  for (const { client } of members) await roundTrip(client);
  t.true(members.every(({ client }) => received(client, "twice?") === 1));
});

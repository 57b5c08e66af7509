import test from "ava";
import sinon from "sinon";
import { ObjectExistsError } from "../../../../dal/errors";
import type { QueryOptions } from "../../../../dal/repository";
import {
  type BroadcastJob,
  broadcastMessage,
  type FanoutClaim,
  maxSlices,
} from "../../../../functions/broadcast/fanout";
import { ID_ALPHABET, idAt, idPosition, sliceRanges } from "../../../../functions/broadcast/id-space";
import type { Connection } from "../../../../functions/chat/connection";
import type { ChatMessageFrame } from "../../../../functions/chat/message";
import { roomShardKey, shardOf } from "../../../../functions/chat/room";
import { createBroadcastWorkerHandler } from "../../../../functions/handlers/broadcast-worker";
import { DEFAULT_ACCOUNT_CONCURRENCY } from "../../../../functions/runtime/function-config";
import { apiGatewayId } from "../../../../local/api-gateway/ids";
import {
  connection,
  pagesOf,
  postedFrames,
  stubRepository,
  stubRoomDependencies,
} from "../../../support/function-fixtures";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const ADDRESS = { apiId: "abc123defg", stage: "dev", room: "stadium" };
const FRAME: ChatMessageFrame = {
  type: "message",
  id: "2026-12-02T12:00:00.000Z#req1",
  room: "stadium",
  connectionId: "sender",
  data: "goal",
  sentAt: "2026-12-02T12:00:00.000Z",
};
const ENDPOINT = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/dev";

/**
 * The `byRoom` index in memory, answering queries as DynamoDB would: by partition, in id order
 * (UTF-8 bytes: these ids are ASCII), with the range condition and the page size.
 */
function roomIndex(ids: string[]) {
  const rows = new Map<string, Connection[]>();
  for (const id of [...ids].sort()) {
    const key = roomShardKey(ADDRESS, shardOf(id));
    rows.set(key, [...(rows.get(key) ?? []), { ...connection(id, ADDRESS.room), roomKey: key }]);
  }
  const pageSizes: number[] = [];
  const query = (options: QueryOptions<Connection>) => {
    const range = options.range as Record<string, unknown> | undefined;
    const id = (row: Connection) => row.connectionId;
    const kept = (rows.get(String(options.partition.value)) ?? []).filter((row) => {
      if (!range) return true;
      if ("below" in range) return id(row) < String(range.below);
      if ("atLeast" in range) return id(row) >= String(range.atLeast);
      const [from, to] = range.between as [string, string];
      return id(row) >= from && id(row) <= to;
    });
    const size = options.pageSize ?? 1_000_000;
    pageSizes.push(size);
    const pages: Connection[][] = [];
    for (let i = 0; i < kept.length; i += size) pages.push(kept.slice(i, i + size));
    return pagesOf(...pages);
  };
  return { query, pageSizes };
}

/** `broadcastMessage` with workers that run at once, in process, on the same index. */
function fanout(
  ids: string[],
  { threshold = 50, sliceSize = 200, accountConcurrency = DEFAULT_ACCOUNT_CONCURRENCY } = {},
) {
  const deps = stubRoomDependencies(NOW);
  const index = roomIndex(ids);
  deps.connections.query.callsFake(index.query);
  const claims = stubRepository<FanoutClaim>();
  const config = {
    ...deps.config,
    fanoutShardThreshold: threshold,
    fanoutSliceSize: sliceSize,
    accountConcurrency,
  };
  const worker = createBroadcastWorkerHandler({ ...deps, config, claims });
  const jobs: BroadcastJob[] = [];
  const broadcastWorker = {
    invoke: sinon.spy(async (job: BroadcastJob) => {
      jobs.push(job);
      await worker(JSON.parse(JSON.stringify(job)) as BroadcastJob);
    }),
  };
  const run = () =>
    broadcastMessage(
      { ...deps, config, broadcastWorker },
      deps.manager,
      ENDPOINT,
      ADDRESS,
      FRAME,
      "broadcast req1",
      "req1",
    );
  return { deps, run, jobs, broadcastWorker, claims, index };
}

/** How many times each id was posted to. */
function postsPerId(deps: ReturnType<typeof stubRoomDependencies>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { to } of postedFrames(deps.manager)) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

test("positions in the id space follow the ids' order, and bounds are ids' order too", (t) => {
  const ids = Array.from({ length: 2000 }, apiGatewayId).sort();
  const positions = ids.map(idPosition);
  t.deepEqual(
    [...positions].sort((a, b) => a - b),
    positions,
  );
  const bounds = Array.from({ length: 99 }, (_, i) => idAt((i + 1) / 100));
  t.deepEqual([...bounds].sort(), bounds);
  t.is(new Set(bounds).size, bounds.length);
  t.is(idAt(0), "---");
  t.true(Math.abs(idPosition(idAt(0.5)) - 0.5) < 1e-4);
});

test("a shard's slices cover the id space end to end, sized from how far its first page reached", (t) => {
  // 240 members read, the last a tenth of the way in: about 2,400 in the shard, 10 slices of 250.
  const ranges = sliceRanges(240, idAt(0.1), 250, 50);
  t.is(ranges.length, 10);
  t.is(ranges[0]?.from, undefined);
  t.is(ranges.at(-1)?.to, undefined);
  for (let i = 1; i < ranges.length; i++) t.is(ranges[i]?.from, ranges[i - 1]?.to);
  t.is(sliceRanges(251, idAt(0.0001), 250, 50).length, 50, "never more than the cap");
  t.deepEqual(sliceRanges(251, idAt(0.99), 1000, 50), [{}], "one slice: the whole shard");
});

test("a message's slices are a fifth of the account's concurrency: 200 of AWS's default 1,000, one per shard on a new account's 10", async (t) => {
  t.is(maxSlices(DEFAULT_ACCOUNT_CONCURRENCY), 200);
  t.is(maxSlices(10), 4);
  // A room of 2,000 cut into slices of 20 would take 100; an account of 100 executions allows 20.
  const ids = Array.from({ length: 2000 }, apiGatewayId);
  const { deps, run, jobs } = fanout(ids, { sliceSize: 20, accountConcurrency: 100 });
  const outcome = await run();
  t.is(outcome.slices, 20);
  t.is(jobs.length, 20);
  const posts = postsPerId(deps);
  t.is(posts.size, 2000, "larger slices, every member still reached");
  t.true([...posts.values()].every((count) => count === 1));
});

test("a small room is posted inline: one page per shard, no worker", async (t) => {
  const ids = Array.from({ length: 120 }, apiGatewayId);
  const { deps, run, broadcastWorker } = fanout(ids, { threshold: 50 });
  const outcome = await run();
  t.like(outcome, { delivered: 120, slices: 0, handOffsFailed: 0 });
  t.is(broadcastWorker.invoke.callCount, 0);
  t.is(deps.connections.query.callCount, 4);
  t.true([...postsPerId(deps).values()].every((count) => count === 1));
});

const exactlyOnce = test.macro({
  async exec(t, ids: string[]) {
    const { deps, run, jobs } = fanout(ids, { threshold: 50, sliceSize: 200 });
    const outcome = await run();
    const counts = postsPerId(deps);
    t.is(counts.size, new Set(ids).size, "everyone");
    t.true(
      [...counts.values()].every((count) => count === 1),
      "once",
    );
    t.true(outcome.slices > 4 && jobs.length === outcome.slices, `${outcome.slices} slices`);
    // Every slice is a range of one shard; together they leave none out.
    t.true(jobs.every((job) => job.endpoint === ENDPOINT && job.frame.id === FRAME.id));
  },
  title: (what = "") => `every member is posted to exactly once across slices: ${what}`,
});

test("5,000 random ids", exactlyOnce, Array.from({ length: 5000 }, apiGatewayId));
// Slices are cut for random ids; skewed ones make them uneven, never wrong.
test(
  "2,000 ids that all begin with A",
  exactlyOnce,
  Array.from({ length: 2000 }, () => `A${apiGatewayId()}`),
);
test(
  "ids that are themselves slice bounds, or shorter",
  exactlyOnce,
  [
    ...Array.from({ length: 1000 }, apiGatewayId),
    ...Array.from({ length: 400 }, (_, i) => idAt(i / 400)),
    ...Array.from({ length: 64 }, (_, i) => ID_ALPHABET[i] as string),
  ].filter((id, i, all) => all.indexOf(id) === i),
);

test("slices Lambda refuses are counted and logged; the others still go, each once", async (t) => {
  const ids = Array.from({ length: 3000 }, apiGatewayId);
  const { deps, broadcastWorker } = fanout(ids);
  const refusedShard = 2;
  const refused = new Set<string>();
  const accepting = broadcastWorker.invoke;
  const invoke = sinon.spy(async (job: BroadcastJob) => {
    if (job.shard === refusedShard) {
      refused.add(job.slice);
      throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
    }
    return accepting(job);
  });
  const outcome = await broadcastMessage(
    {
      ...deps,
      config: {
        ...deps.config,
        fanoutShardThreshold: 50,
        fanoutSliceSize: 200,
        accountConcurrency: DEFAULT_ACCOUNT_CONCURRENCY,
      },
      broadcastWorker: { invoke },
    },
    deps.manager,
    ENDPOINT,
    ADDRESS,
    FRAME,
    "broadcast req1",
    "req1",
  );
  t.is(outcome.handOffsFailed, refused.size);
  t.true(refused.size > 0);
  const counts = postsPerId(deps);
  for (const id of ids) t.is(counts.get(id), shardOf(id) === refusedShard ? undefined : 1);
  t.regex(
    String(deps.logger.warn.firstCall?.args[0]),
    /slices not handed off; first failure: TooManyRequestsException: Rate exceeded/,
  );
});

test("a second copy of a job posts nothing: the slice is claimed once", async (t) => {
  const deps = stubRoomDependencies(NOW);
  const ids = ["a1", "b2", "c3", "d4", "e5"];
  deps.connections.query.callsFake(roomIndex(ids).query);
  const claims = stubRepository<FanoutClaim>();
  claims.put.onSecondCall().rejects(new ObjectExistsError("messages", { id: "x" }));
  const worker = createBroadcastWorkerHandler({ ...deps, claims });
  const job: BroadcastJob = {
    endpoint: ENDPOINT,
    address: ADDRESS,
    frame: FRAME,
    delivery: "req1",
    shard: shardOf("a1"),
    range: {},
    slice: "0.0",
  };
  const inShard = ids.filter((id) => shardOf(id) === job.shard).length;
  t.like(await worker(job), { duplicate: false, delivered: inShard });
  t.deepEqual(await worker(job), { duplicate: true });
  t.is(deps.manager.post.callCount, inShard);
  // Kept 6 h and a minute: past the longest a retried event lives (maximumEventAgeInSeconds 21,600).
  t.like(claims.put.firstCall.args[0], {
    roomKey: "#fanout#abc123defg#dev#stadium",
    id: "req1#0.0",
    expiresAt: Math.floor(NOW / 1000) + 6 * 60 * 60 + 60,
  });
  t.deepEqual(claims.put.firstCall.args[1], { overwrite: false });
  t.regex(
    String(deps.logger.warn.firstCall.args[0]),
    /delivered before \(a second copy of the event\), not posted again/,
  );
});

test("a worker given something other than a job fails with a clear error and posts nothing", async (t) => {
  const deps = stubRoomDependencies(NOW);
  const worker = createBroadcastWorkerHandler({ ...deps, claims: stubRepository<FanoutClaim>() });
  for (const bad of [
    {},
    { ...FRAME },
    { endpoint: ENDPOINT, address: ADDRESS, frame: FRAME, delivery: "req1", shard: 7, range: {}, slice: "7.0" },
    { endpoint: ENDPOINT, address: ADDRESS, frame: FRAME, shard: 0, range: {}, slice: "0.0" },
  ]) {
    await t.throwsAsync(worker(bad as BroadcastJob), { instanceOf: TypeError, message: /^not a broadcast job: / });
  }
  t.is(deps.manager.post.callCount, 0);
});

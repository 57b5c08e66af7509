/**
 * What a broadcast to a large room takes on AWS, modelled: `npm run bench:lambda [-- options]`
 * (Linux, as root: the CPU quota is a cgroup).
 *
 * The real handlers and SDK clients run against the embedded DynamoDB holding a room of each size,
 * each function in its own child held to its memory's CPU share (`./cpu-quota.ts`, one vCPU at
 * 1,769 MB), its calls to AWS answered after AWS-like latencies (`./lambda-sandbox.ts`). Two
 * designs, in the same run:
 * - single: today's `sendmessage` (1,024 MB) posting to the whole room itself, stopped at the
 *   10 s function timeout (a post after it is lost);
 * - fanout: `sendmessage` hands the room's slices to broadcast workers (1,024 MB) invoked
 *   asynchronously. The workers run one after another here and are placed on AWS's timeline as if
 *   in parallel (each has its own execution environment there): a worker starts when its Invoke
 *   returned plus Lambda's queue delay.
 *
 * Assumptions and their sources:
 * - PostToConnection and Invoke each answer in 20 ms (in-region HTTPS round trips).
 * - Lambda's asynchronous queue delay, from Invoke to the function starting, is drawn from
 *   measured quantiles of SNS's asynchronous invocation of Lambda: p10 62, p50 73, p90 125, p99
 *   225 ms (eu-west-1, September 2022, https://bitesizedserverless.com/bite/serverless-messaging-latency-compared/).
 * - A cold start adds 250 ms for Lambda to start the environment and runtime (AWS: cold starts
 *   "vary from under 100 ms to over 1 second", https://docs.aws.amazon.com/lambda/latest/operatorguide/execution-environments.html)
 *   before the init measured here, and the first invocation's slowness (JIT) measured here too.
 * - The init phase is billed (since 1 August 2025,
 *   https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/); a cold
 *   broadcast's GB-seconds include it.
 * - Read units as the embedded DynamoDB computes them (AWS's rules for items), plus the half unit
 *   AWS bills for a Query that finds nothing.
 *
 * Options: --connections 1000,10000,100000  --broadcasts B (2: one cold, then warm)  --json
 * --slice-size S and --shard-threshold T (the handlers' FANOUT_SLICE_SIZE and FANOUT_SHARD_THRESHOLD)
 */
import { parseArgs } from "node:util";
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { broadcastWorker, routes } from "../functions/routes";
import { readFunctionConfig } from "../functions/runtime/function-config";
import { tablesClient } from "../functions/runtime/handler-dependencies";
import type { WebSocketEvent } from "../functions/runtime/lambda-events";
import { apiGatewayId } from "../local/api-gateway/ids";
import { ensureChatTables } from "../local/chat/tables";
import { startEmbeddedDynamoDB } from "../local/dynamodb/embedded-dynamodb";
import { runWithLambdaCpu } from "./cpu-quota";
import type { SandboxRequest, SandboxResult } from "./lambda-sandbox";
import { memberItems } from "./room-members";

const SANDBOX = require.resolve("./lambda-sandbox");
const API = { apiId: "fanoutbench", stage: "dev" };
const LATENCY_MS = 20;
const PLATFORM_COLD_START_MS = 250;
const TIMEOUT_MS = 10_000;
/** Jobs a worker runs before the measured ones: the JIT is warm by then, as in a warm environment. */
const WARM_UP_RUNS = 6;
const QUEUE_DELAY_QUANTILES: [number, number][] = [
  [0, 50],
  [0.1, 62],
  [0.5, 73],
  [0.9, 125],
  [0.99, 225],
  [1, 300],
];
const SENDMESSAGE_MB = routes.find((route) => route.routeKey === "sendmessage")?.memorySize ?? 1024;

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "1000,10000,100000" },
    broadcasts: { type: "string", default: "2" },
    "slice-size": { type: "string" },
    "shard-threshold": { type: "string" },
    json: { type: "boolean", default: false },
  },
});

/** A deterministic draw from the queue delay's quantiles (linear between them). */
function queueDelays(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const u = state / 2 ** 32;
    const upper = QUEUE_DELAY_QUANTILES.findIndex(([q]) => q >= u);
    const [q0, v0] = QUEUE_DELAY_QUANTILES[Math.max(0, upper - 1)] as [number, number];
    const [q1, v1] = QUEUE_DELAY_QUANTILES[upper] as [number, number];
    return q1 === q0 ? v1 : v0 + ((u - q0) / (q1 - q0)) * (v1 - v0);
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

interface Broadcast {
  /** Each member's delivery times, ms after the message reached `sendmessage`. */
  deliveries: Map<string, number[]>;
  gbSeconds: number;
  readUnits: number;
  slices: number;
}

function summary(room: string[], broadcast: Broadcast) {
  const firsts = room
    .map((id) => broadcast.deliveries.get(id)?.[0])
    .filter((at) => at !== undefined)
    .sort((a, b) => a - b);
  const lost = room.length - firsts.length;
  const duplicated = [...broadcast.deliveries.values()].reduce((sum, times) => sum + times.length - 1, 0);
  // p99 is meaningful only if 99% were reached at all.
  const p = (q: number) => (lost > room.length * (1 - q) ? null : (percentile(firsts, q) as number) / 1000);
  return { p50: p(0.5), p99: p(0.99), lost, duplicated };
}

async function loadRooms(endpoint: string, sizes: number[]) {
  const config = readFunctionConfig({
    TABLE_NAME: "fanout-connections",
    MESSAGES_TABLE_NAME: "fanout-messages",
    DYNAMODB_ENDPOINT_URL: endpoint,
  });
  await ensureChatTables(config);
  const client = tablesClient(config);
  const rooms = new Map<number, string[]>();
  const total = sizes.reduce((sum, size) => sum + size, 0);
  let written = 0;
  for (const size of sizes) {
    const address = { ...API, room: `room-${size}` };
    const ids = Array.from({ length: size }, apiGatewayId);
    rooms.set(size, ids);
    const batches: Record<string, unknown>[][] = [];
    // Twelve members, 24 items, a batch (DynamoDB takes 25 at most).
    for (let i = 0; i < ids.length; i += 12) {
      batches.push(
        ids
          .slice(i, i + 12)
          .flatMap((connectionId) => memberItems(address, connectionId))
          .map((Item) => ({ PutRequest: { Item } })),
      );
    }
    // Eight batches in flight: the embedded DynamoDB takes them one at a time anyway.
    const next = async (): Promise<void> => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        let unprocessed: Record<string, unknown[]> | undefined = { [config.tableName]: batch };
        while (unprocessed && Object.keys(unprocessed).length > 0) {
          unprocessed = (await client.send(new BatchWriteCommand({ RequestItems: unprocessed as never })))
            .UnprocessedItems as never;
        }
        written += batch.length / 2;
        if (written % 5000 < 25 || written === total) process.stderr.write(`\rtable: ${written}/${total} rows`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, next));
  }
  process.stderr.write("\n");
  client.destroy();
  return rooms;
}

function sendEvent(sender: string, i: number): WebSocketEvent {
  const requestId = `bench${i}${apiGatewayId()}`;
  return {
    requestContext: {
      connectionId: sender,
      requestId,
      apiId: API.apiId,
      stage: API.stage,
      domainName: "bench.local",
      routeKey: "sendmessage",
      eventType: "MESSAGE",
    },
    body: JSON.stringify({ action: "sendmessage", data: "hello, everyone" }),
    isBase64Encoded: false,
  } as WebSocketEvent;
}

async function sandbox(
  memoryMb: number,
  request: Omit<SandboxRequest, "postLatencyMs" | "invokeLatencyMs" | "timeoutMs">,
) {
  const full: SandboxRequest = {
    ...request,
    postLatencyMs: LATENCY_MS,
    invokeLatencyMs: LATENCY_MS,
    timeoutMs: TIMEOUT_MS,
  };
  return JSON.parse(await runWithLambdaCpu(memoryMb, SANDBOX, [], JSON.stringify(full))) as SandboxResult;
}

const add = (deliveries: Map<string, number[]>, id: string, at: number) =>
  deliveries.set(id, [...(deliveries.get(id) ?? []), at]);

async function main(): Promise<void> {
  const sizes = (args.connections ?? "").split(",").map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1))
    throw new Error(`--connections must be whole numbers, got ${args.connections}`);
  const broadcasts = Number(args.broadcasts);
  const db = await startEmbeddedDynamoDB();
  const rows: Record<string, unknown>[] = [];
  try {
    const rooms = await loadRooms(db.endpoint, sizes);
    const env = {
      ...(args["slice-size"] && { FANOUT_SLICE_SIZE: args["slice-size"] }),
      ...(args["shard-threshold"] && { FANOUT_SHARD_THRESHOLD: args["shard-threshold"] }),
      TABLE_NAME: "fanout-connections",
      MESSAGES_TABLE_NAME: "fanout-messages",
      DYNAMODB_ENDPOINT_URL: db.endpoint,
      MANAGEMENT_ENDPOINT_URL: "https://bench.local/dev",
      AWS_REGION: "us-east-1",
    };
    for (const size of sizes) {
      const room = rooms.get(size) as string[];
      const events = Array.from({ length: broadcasts }, (_, i) => sendEvent(room[0] as string, i));
      process.stderr.write(`${size} connections: single\n`);
      const single = await sandbox(SENDMESSAGE_MB, { kind: "sendmessage", env, events });
      process.stderr.write(`${size} connections: fanout dispatcher\n`);
      const dispatcher = await sandbox(SENDMESSAGE_MB, {
        kind: "sendmessage",
        env: { ...env, BROADCAST_FUNCTION_NAME: broadcastWorker.name },
        events,
      });
      const runs: { single: Broadcast; fanout: Broadcast; cold: boolean }[] = [];
      for (const [r, sent] of dispatcher.invocations.entries()) {
        const cold = r === 0;
        const jobs = sent.handOffs;
        let workers: SandboxResult | undefined;
        if (jobs.length > 0) {
          process.stderr.write(`${size} connections: ${jobs.length} workers, broadcast ${r + 1}\n`);
          // The first job again, under another slice name (its own claim), as this environment's
          // cold run; then a few more as warm-up (a warm environment on AWS has run many), then each job.
          const rerun = (i: number, name: string) => ({ ...(jobs[i % jobs.length]?.job as object), slice: name });
          const warmUp = Array.from({ length: WARM_UP_RUNS }, (_, i) => rerun(i, `warm-up-${i}`));
          const measured = await sandbox(broadcastWorker.memorySize, {
            kind: "broadcast",
            env,
            events: [rerun(0, "cold-sample"), ...warmUp, ...jobs.map((j) => j.job)],
          });
          const [sample, ...rest] = measured.invocations;
          workers = { ...measured, invocations: [sample, ...rest.slice(WARM_UP_RUNS)] as SandboxResult["invocations"] };
        }
        if (workers) {
          const durations = workers.invocations.map((run) => Math.round(run.durationMs));
          process.stderr.write(
            `  dispatcher ${Math.round(sent.durationMs)} ms (init ${Math.round(dispatcher.initMs)} ms), last hand-off at ${Math.round(jobs.at(-1)?.atMs ?? 0)} ms; workers: init ${Math.round(workers.initMs)} ms, cold sample ${durations[0]} ms, warm ${Math.min(...durations.slice(1))} to ${Math.max(...durations.slice(1))} ms\n`,
          );
        }
        const delay = queueDelays(size + r);
        const startCost = cold ? PLATFORM_COLD_START_MS + dispatcher.initMs : 0;
        const fanout: Broadcast = {
          deliveries: new Map(),
          gbSeconds: (((sent.durationMs + (cold ? dispatcher.initMs : 0)) / 1000) * SENDMESSAGE_MB) / 1024,
          readUnits: sent.readUnits,
          slices: jobs.length,
        };
        for (const [id, at] of sent.posts) add(fanout.deliveries, id, startCost + at);
        if (workers) {
          const [sample, ...warm] = workers.invocations as [
            SandboxResult["invocations"][0],
            ...SandboxResult["invocations"],
          ];
          const jit = cold ? sample.durationMs / Math.max(1, warm[0]?.durationMs ?? 1) : 1;
          for (const [i, { atMs }] of jobs.entries()) {
            const run = warm[i] as SandboxResult["invocations"][0];
            const start = startCost + atMs + delay() + (cold ? PLATFORM_COLD_START_MS + workers.initMs : 0);
            for (const [id, at] of run.posts) add(fanout.deliveries, id, start + at * jit);
            fanout.gbSeconds +=
              (((run.durationMs * jit + (cold ? workers.initMs : 0)) / 1000) * broadcastWorker.memorySize) / 1024;
            fanout.readUnits += run.readUnits;
          }
        }
        const one = single.invocations[r] as SandboxResult["invocations"][0];
        const singleStart = cold ? PLATFORM_COLD_START_MS + single.initMs : 0;
        const baseline: Broadcast = {
          deliveries: new Map(),
          gbSeconds: (((one.durationMs + (cold ? single.initMs : 0)) / 1000) * SENDMESSAGE_MB) / 1024,
          readUnits: one.readUnits,
          slices: 0,
        };
        for (const [id, at] of one.posts) if (at <= TIMEOUT_MS) add(baseline.deliveries, id, singleStart + at);
        runs.push({ single: baseline, fanout, cold });
      }
      for (const design of ["single", "fanout"] as const) {
        const of = (cold: boolean) => runs.filter((run) => run.cold === cold).map((run) => run[design]);
        const [coldRun] = of(true) as [Broadcast];
        const warmRuns = of(false);
        const warm = warmRuns.at(-1) ?? coldRun;
        const coldSummary = summary(room, coldRun);
        const warmSummary = summary(room, warm);
        rows.push({
          connections: size,
          design,
          coldP50Seconds: coldSummary.p50,
          coldP99Seconds: coldSummary.p99,
          warmP50Seconds: warmSummary.p50,
          warmP99Seconds: warmSummary.p99,
          gbSeconds: warm.gbSeconds,
          coldGbSeconds: coldRun.gbSeconds,
          gbSecondsPer1000Deliveries: (warm.gbSeconds / Math.max(1, size - warmSummary.lost)) * 1000,
          readUnits: warm.readUnits,
          slices: warm.slices,
          lost: runs.reduce((sum, run) => sum + summary(room, run[design]).lost, 0),
          duplicated: runs.reduce((sum, run) => sum + summary(room, run[design]).duplicated, 0),
        });
      }
    }
  } finally {
    await db.close();
  }
  print(rows);
  if (args.json)
    console.log(
      JSON.stringify({
        postLatencyMs: LATENCY_MS,
        invokeLatencyMs: LATENCY_MS,
        platformColdStartMs: PLATFORM_COLD_START_MS,
        rows,
      }),
    );
}

function print(rows: Record<string, unknown>[]): void {
  const seconds = (value: unknown) => (value === null ? "lost" : (value as number).toFixed(2));
  const header = [
    "connections",
    "design",
    "slices",
    "cold p50 s",
    "cold p99 s",
    "warm p50 s",
    "warm p99 s",
    "GB-s warm",
    "GB-s cold",
    "GB-s/1000",
    "read units",
    "lost",
    "duplicated",
  ];
  const table = rows.map((row) => [
    String(row.connections),
    String(row.design),
    String(row.slices),
    seconds(row.coldP50Seconds),
    seconds(row.coldP99Seconds),
    seconds(row.warmP50Seconds),
    seconds(row.warmP99Seconds),
    (row.gbSeconds as number).toFixed(3),
    (row.coldGbSeconds as number).toFixed(3),
    (row.gbSecondsPer1000Deliveries as number).toFixed(3),
    (row.readUnits as number).toFixed(1),
    String(row.lost),
    String(row.duplicated),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((cells) => (cells[i] as string).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] as number)).join("  ");
  console.log(
    `\n${LATENCY_MS} ms per post and per Invoke; queue delay p50 73 ms, p99 225 ms; cold start +${PLATFORM_COLD_START_MS} ms`,
  );
  console.log(line(header));
  for (const cells of table) console.log(line(cells));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

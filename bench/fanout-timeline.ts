/**
 * The fan-out model's timeline: what a broadcast to a large room takes on AWS, from the functions'
 * packages (`./deployed-packages.ts`) each run in its own child held to its memory's CPU share
 * (`./cpu-quota.ts`), against the embedded DynamoDB holding the room, AWS's other endpoints
 * answered after AWS-like latencies (`./package-runner.ts`). Read by `npm run bench:lambda`
 * (`./fanout-model.ts`) and `npm run bench:cold` (`./cold-start.ts`).
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
 *   AWS bills for a Query that finds nothing (`./read-capacity-proxy.ts`).
 *
 * The workers run one after another here and are placed on AWS's timeline as if in parallel (each
 * has its own execution environment there): a worker starts when its Invoke returned plus Lambda's
 * queue delay.
 */
import type { BroadcastJob } from "../functions/broadcast/fanout";
import { broadcastWorker } from "../functions/routes";
import type { WebSocketEvent } from "../functions/runtime/lambda-events";
import { apiGatewayId } from "../local/api-gateway/ids";
import { type Packages, runPackage } from "./deployed-packages";
import type { RunnerInvocation } from "./package-runner";
import type { ReadCapacityProxy } from "./read-capacity-proxy";

export const LATENCY_MS = 20;
export const PLATFORM_COLD_START_MS = 250;
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
export const API = { apiId: "fanoutbench", stage: "dev" };

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

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

/** One invocation as the model uses it: its posts, hand-offs and reads. */
export interface Invocation extends RunnerInvocation {
  readUnits: number;
}

export interface Sandbox {
  initMs: number;
  invocations: Invocation[];
}

/** The packages a benchmark runs, their memory sizes, and where they find the rooms and AWS. */
export interface ModelEnvironment {
  packages: Packages;
  /** Memory of `sendmessage` and of the broadcast worker, in MB. */
  memoryMb: { sendmessage: number; broadcast: number };
  proxy: ReadCapacityProxy;
  env: Record<string, string>;
}

/** Runs `events` through one execution environment of `name` (the first invocation cold). */
export async function sandbox(
  model: ModelEnvironment,
  name: string,
  memoryMb: number,
  events: unknown[],
  env: Record<string, string> = {},
): Promise<Sandbox> {
  const sandbox: Sandbox = { initMs: 0, invocations: [] };
  // After a timeout Lambda resets the environment: the events left go to a new one.
  while (sandbox.invocations.length < events.length) {
    const { result } = await runPackage(
      model.packages,
      name,
      { events: events.slice(sandbox.invocations.length), modelled: { latencyMs: LATENCY_MS, timeoutMs: TIMEOUT_MS } },
      { ...model.env, ...env },
      memoryMb,
    );
    if (result.initError) throw new Error(`${name} failed to start: ${result.initError}`);
    if (sandbox.invocations.length === 0) sandbox.initMs = result.initMs;
    for (const run of result.invocations) {
      // A handler that threw delivered nothing: a broken benchmark, not a slow sample.
      if (run.error) throw new Error(`${name} failed: ${run.error}`);
      sandbox.invocations.push({
        ...run,
        readUnits: model.proxy.readUnits(run.startedAt, run.startedAt + run.durationMs),
      });
    }
  }
  return sandbox;
}

interface Broadcast {
  /** Each member's delivery times, ms after the message reached `sendmessage`. */
  deliveries: Map<string, number[]>;
  gbSeconds: number;
  readUnits: number;
  slices: number;
}

export interface DesignSummary {
  coldP50Seconds: number | null;
  coldP99Seconds: number | null;
  warmP50Seconds: number | null;
  warmP99Seconds: number | null;
  gbSeconds: number;
  coldGbSeconds: number;
  gbSecondsPer1000Deliveries: number;
  readUnits: number;
  slices: number;
  lost: number;
  duplicated: number;
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

/** The rows of one design: the first broadcast cold, the last warm; lost and duplicated over all. */
function designSummary(room: string[], runs: Broadcast[]): DesignSummary {
  const [cold] = runs as [Broadcast];
  const warm = runs.at(-1) as Broadcast;
  const coldSummary = summary(room, cold);
  const warmSummary = summary(room, warm);
  return {
    coldP50Seconds: coldSummary.p50,
    coldP99Seconds: coldSummary.p99,
    warmP50Seconds: warmSummary.p50,
    warmP99Seconds: warmSummary.p99,
    gbSeconds: warm.gbSeconds,
    coldGbSeconds: cold.gbSeconds,
    gbSecondsPer1000Deliveries: (warm.gbSeconds / Math.max(1, room.length - warmSummary.lost)) * 1000,
    readUnits: warm.readUnits,
    slices: warm.slices,
    lost: runs.reduce((sum, run) => sum + summary(room, run).lost, 0),
    duplicated: runs.reduce((sum, run) => sum + summary(room, run).duplicated, 0),
  };
}

export function sendEvent(sender: string, i: number): WebSocketEvent {
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
      // As API Gateway sends every event: the budgets are taken per source address.
      identity: { sourceIp: "203.0.113.7" },
    },
    body: JSON.stringify({ action: "sendmessage", data: "hello, everyone" }),
    isBase64Encoded: false,
  } as WebSocketEvent;
}

const gbSeconds = (ms: number, memoryMb: number) => ((ms / 1000) * memoryMb) / 1024;

const add = (deliveries: Map<string, number[]>, id: string, at: number) =>
  deliveries.set(id, [...(deliveries.get(id) ?? []), at]);

/** `broadcasts` messages (the first cold) to `room`, by `sendmessage` alone, stopped at its timeout. */
export async function singleDesign(model: ModelEnvironment, room: string[], broadcasts: number) {
  const sendmessageMb = model.memoryMb.sendmessage;
  const events = Array.from({ length: broadcasts }, (_, i) => sendEvent(room[0] as string, i));
  const single = await sandbox(model, "sendmessage", sendmessageMb, events);
  const runs = single.invocations.map((one, r): Broadcast => {
    const cold = r === 0;
    const start = cold ? PLATFORM_COLD_START_MS + single.initMs : 0;
    const broadcast: Broadcast = {
      deliveries: new Map(),
      gbSeconds: gbSeconds(one.durationMs + (cold ? single.initMs : 0), sendmessageMb),
      readUnits: one.readUnits,
      slices: 0,
    };
    for (const [id, at] of one.posts) if (at <= TIMEOUT_MS) add(broadcast.deliveries, id, start + at);
    return broadcast;
  });
  return designSummary(room, runs);
}

/**
 * `broadcasts` messages (the first cold) to `room`: `sendmessage` hands the room's slices to
 * broadcast workers, each placed on AWS's timeline.
 */
export async function fanoutDesign(model: ModelEnvironment, room: string[], broadcasts: number) {
  const { sendmessage: sendmessageMb, broadcast: workerMb } = model.memoryMb;
  const events = Array.from({ length: broadcasts }, (_, i) => sendEvent(room[0] as string, i));
  const dispatcher = await sandbox(model, "sendmessage", sendmessageMb, events, {
    BROADCAST_FUNCTION_NAME: broadcastWorker.name,
  });
  const runs: Broadcast[] = [];
  for (const [r, sent] of dispatcher.invocations.entries()) {
    const cold = r === 0;
    const workers = sent.handOffs.length > 0 ? await runWorkers(model, sent.handOffs) : undefined;
    if (workers) {
      const durations = workers.invocations.map((run) => Math.round(run.durationMs));
      process.stderr.write(
        `  ${room.length}: dispatcher ${Math.round(sent.durationMs)} ms (init ${Math.round(dispatcher.initMs)} ms), ${sent.handOffs.length} workers: init ${Math.round(workers.initMs)} ms, cold sample ${durations[0]} ms, warm ${Math.min(...durations.slice(1))} to ${Math.max(...durations.slice(1))} ms\n`,
      );
    }
    const delay = queueDelays(room.length + r);
    const startCost = cold ? PLATFORM_COLD_START_MS + dispatcher.initMs : 0;
    const broadcast: Broadcast = {
      deliveries: new Map(),
      gbSeconds: gbSeconds(sent.durationMs + (cold ? dispatcher.initMs : 0), sendmessageMb),
      readUnits: sent.readUnits,
      slices: sent.handOffs.length,
    };
    for (const [id, at] of sent.posts) add(broadcast.deliveries, id, startCost + at);
    if (workers) {
      const [sample, ...warm] = workers.invocations as [Invocation, ...Invocation[]];
      // A cold worker's invocation is as much slower than a warm one as its cold sample (the first
      // slice, first) was than the warm runs' median: one warm run alone swings with the machine.
      const warmMedian =
        percentile(
          warm.map((run) => run.durationMs).sort((a, b) => a - b),
          0.5,
        ) ?? 1;
      const jit = cold ? sample.durationMs / Math.max(1, warmMedian) : 1;
      for (const [i, { atMs }] of sent.handOffs.entries()) {
        const run = warm[i] as Invocation;
        const start = startCost + atMs + delay() + (cold ? PLATFORM_COLD_START_MS + workers.initMs : 0);
        for (const [id, at] of run.posts) add(broadcast.deliveries, id, start + at * jit);
        broadcast.gbSeconds += gbSeconds(run.durationMs * jit + (cold ? workers.initMs : 0), workerMb);
        broadcast.readUnits += run.readUnits;
      }
    }
    runs.push(broadcast);
  }
  return designSummary(room, runs);
}

/**
 * One worker environment runs the first job again under another slice name (its own claim) as
 * its cold sample, a few more as warm-up (a warm environment on AWS has run many), then each job.
 */
async function runWorkers(model: ModelEnvironment, handOffs: RunnerInvocation["handOffs"]): Promise<Sandbox> {
  const jobs = handOffs.map(({ job }) => job as BroadcastJob);
  const rerun = (i: number, name: string) => ({ ...(jobs[i % jobs.length] as BroadcastJob), slice: name });
  const warmUp = Array.from({ length: WARM_UP_RUNS }, (_, i) => rerun(i, `warm-up-${i}`));
  const measured = await sandbox(model, broadcastWorker.name, model.memoryMb.broadcast, [
    rerun(0, "cold-sample"),
    ...warmUp,
    ...jobs,
  ]);
  const [sample, ...rest] = measured.invocations;
  return { ...measured, invocations: [sample as Invocation, ...rest.slice(WARM_UP_RUNS)] };
}

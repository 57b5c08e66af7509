/**
 * Cold starts, before and after, in one run: `npm run bench:cold [-- --samples N --connections
 * 1000,10000,100000 --json]` (Linux, as root: the CPU quota is a cgroup; about 10 minutes).
 *
 * Each function's package as it was deployed before (the serialized module beside a copy of every
 * package in `dependencies`, at the memory sizes of then) and as deployed now (the bundle, at
 * today's sizes) is started in a fresh `node` held to its memory's CPU share (`./cpu-quota.ts`)
 * and asked two events (`./cold-start-events.ts`): its init (loading `__index.js`, which builds
 * the handler) and first invocation are timed, and a second, warm, one. Then what a person waits
 * on, modelled as `npm run bench:lambda` models it (`./fanout-timeline.ts`, with its sources):
 * - the first `$connect` after a quiet spell: the authorizer, then `onconnect`, each a cold start
 *   (Lambda's start of the environment, +250 ms, then the init and first invocation measured),
 *   every pairing of their samples;
 * - the first message to a cold room of each size: the fan-out model's cold row;
 * - a warm broadcast worker's time per 1,000 posts (the same code, packaged two ways), rounds of
 *   jobs in turn: what a warm delivery costs, in time and GB-seconds.
 * Both sets of packages are built from today's sources: only the packaging and memory differ.
 * `--connect-memory 512,1024,1769` adds the connect path (authorizer and `onconnect`, today's
 * packages) at each of those sizes, with what a connect bills: the figures memory is chosen from.
 * `--json` ends with one line: `{"functions": [{name, memoryMb, initMs, firstInvocationMs}],
 * "firstConnect": {p50Seconds, p99Seconds}}` of today's packages (medians of the samples).
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_RATE_LIMITS } from "../functions/limits/rate-limits";
import { broadcastWorker, connectAuthorizer, routes, tokenEndpoint } from "../functions/routes";
import { broadcastWorkerFactory } from "../infra/broadcast-worker";
import { DEFAULT_LAMBDA_MEMORY_MB } from "../infra/chat-api-settings";
import { authorizerFactory, tokenEndpointFactory } from "../infra/chat-auth";
import { handlerFactory } from "../infra/websocket-route";
import { authoredMessages, coldStartEvents, SMALL_ROOM_SIZE, WARM_ROOM_SIZE, warmJobs } from "./cold-start-events";
import { type ColdRoom, jsonLine, printReport, type Variant } from "./cold-start-report";
import { type Factory, type Packages, packFunctions } from "./deployed-packages";
import { startRooms } from "./fanout-rooms";
import { API, fanoutDesign, type ModelEnvironment, sandbox } from "./fanout-timeline";

const { values: args } = parseArgs({
  options: {
    samples: { type: "string", default: "7" },
    connections: { type: "string", default: "1000,10000,100000" },
    "connect-memory": { type: "string" },
    json: { type: "boolean", default: false },
  },
});

/** Warm broadcasts: rounds (each variant in turn), jobs a worker runs first, jobs measured. */
const [WARM_ROUNDS, WARM_UP_JOBS, WARM_JOBS] = [4, 6, 8];
/** Times each variant broadcasts to each cold room, in turn: the medians are reported. */
const ROOM_RUNS = 2;

/** Memory in MB before: the stack's default of 256 MB, `sendmessage` and the broadcast worker 1,024 MB. */
const BEFORE_MB: Record<string, number> = { sendmessage: 1024, [broadcastWorker.name]: 1024 };

/**
 * Every request takes from its budgets, as deployed (a write to the limits table), with budgets
 * no sample runs out of: the benchmark's events all come from one address and a few connections.
 */
const BENCH_LIMITS = {
  RATE_LIMITS: JSON.stringify(
    Object.fromEntries(
      Object.entries(DEFAULT_RATE_LIMITS).map(([name, budget]) => [
        name,
        typeof budget === "object"
          ? Object.fromEntries(Object.entries(budget).map(([key, n]) => [key, key === "seconds" ? n : 1_000_000]))
          : budget,
      ]),
    ),
  ),
  LIMITS_TABLE_NAME: "fanout-limits",
};

/** A route's answer of 400 or more (a refusal, a bad event), as the failure it is here. */
function refusal(result: unknown): string | undefined {
  const { statusCode, body } = (result ?? {}) as { statusCode?: number; body?: string };
  return statusCode !== undefined && statusCode >= 400 ? `answered ${statusCode}: ${body}` : undefined;
}

/** Memory in MB as deployed now: the route table's, else the stack's default. */
function deployedMb(name: string): number {
  const route = routes.find((candidate) => candidate.name === name);
  if (route) return route.memorySize ?? DEFAULT_LAMBDA_MEMORY_MB;
  const others: Record<string, number> = {
    [broadcastWorker.name]: broadcastWorker.memorySize,
    [connectAuthorizer.name]: connectAuthorizer.memorySize,
    [tokenEndpoint.name]: tokenEndpoint.memorySize,
  };
  return others[name] ?? DEFAULT_LAMBDA_MEMORY_MB;
}

function functionFactories(): Map<string, Factory> {
  return new Map<string, Factory>([
    ...routes.map((route) => [route.name, handlerFactory(route)] as const),
    [broadcastWorker.name, broadcastWorkerFactory(broadcastWorker)],
    [connectAuthorizer.name, authorizerFactory()],
    [tokenEndpoint.name, tokenEndpointFactory()],
  ]);
}

async function main(): Promise<void> {
  const samples = Number(args.samples);
  const sizes = (args.connections ?? "").split(",").filter(Boolean).map(Number);
  const sweep = (args["connect-memory"] ?? "").split(",").filter(Boolean).map(Number);
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`--samples must be a whole number, got ${args.samples}`);
  const factories = functionFactories();
  const names = [...factories.keys()];
  process.stderr.write("packing the functions: before (node_modules) and after (bundle)\n");
  const packages = {
    before: await packFunctions(factories, "node_modules"),
    after: await packFunctions(factories, "bundle"),
  };
  const variants: (Variant & { packages: Packages })[] = [
    {
      label: "before",
      packages: packages.before,
      memoryMb: (name) => BEFORE_MB[name] ?? DEFAULT_LAMBDA_MEMORY_MB,
      names,
      samples: new Map(),
    },
    { label: "after", packages: packages.after, memoryMb: deployedMb, names, samples: new Map() },
    // The connect path at other memory sizes: what each would cost, and wait.
    ...sweep.map((mb) => ({
      label: `after at ${mb} MB`,
      packages: packages.after,
      memoryMb: () => mb,
      names: [connectAuthorizer.name, "onconnect"],
      samples: new Map(),
    })),
  ];
  const rooms = await startRooms([SMALL_ROOM_SIZE, WARM_ROOM_SIZE, ...sizes], BENCH_LIMITS);
  const smallRoom = rooms.rooms.get(SMALL_ROOM_SIZE) as string[];
  // One message edited, and one for each delete: two a sample in each of the two packagings.
  const messages = authoredMessages(
    { ...API, room: `room-${SMALL_ROOM_SIZE}` },
    smallRoom[0] as string,
    1 + 4 * samples,
  );
  await rooms.put("MESSAGES_TABLE_NAME", messages);
  const events = await coldStartEvents(smallRoom, messages);
  const model = (variant: (typeof variants)[number]): ModelEnvironment => ({
    packages: variant.packages,
    memoryMb: { sendmessage: variant.memoryMb("sendmessage"), broadcast: variant.memoryMb(broadcastWorker.name) },
    proxy: rooms.proxy,
    env: { ...rooms.env, ...events.env, BROADCAST_FUNCTION_NAME: broadcastWorker.name },
  });
  const coldRooms: ColdRoom[] = [];
  /** Per variant, a warm worker's ms per 1,000 posts, job by job. */
  const warm = new Map<string, number[]>();
  try {
    for (let sample = 0; sample < samples; sample++) {
      process.stderr.write(`functions: sample ${sample + 1}/${samples}\n`);
      for (const name of names) {
        // Alternately, so the machine's drift touches all alike.
        for (const variant of variants.filter((candidate) => candidate.names.includes(name))) {
          const run = await sandbox(
            model(variant),
            name,
            variant.memoryMb(name),
            events.events(name, `${variant.label}-${sample}`),
          );
          const [first, warm] = run.invocations;
          const failure = first?.error ?? warm?.error ?? refusal(first?.result) ?? refusal(warm?.result);
          if (failure) throw new Error(`${name} (${variant.label}) failed: ${failure}`);
          const recorded = variant.samples.get(name) ?? { init: [], first: [], warm: [] };
          recorded.init.push(run.initMs);
          recorded.first.push(first?.durationMs ?? Number.NaN);
          recorded.warm.push(warm?.durationMs ?? Number.NaN);
          variant.samples.set(name, recorded);
        }
      }
    }
    for (let round = 0; round < WARM_ROUNDS; round++) {
      process.stderr.write(`warm broadcasts: round ${round + 1}/${WARM_ROUNDS}\n`);
      for (const variant of variants.slice(0, 2)) {
        const jobs = warmJobs(`${variant.label}-${round}`, WARM_UP_JOBS + WARM_JOBS);
        const run = await sandbox(model(variant), broadcastWorker.name, variant.memoryMb(broadcastWorker.name), jobs);
        const perThousand = run.invocations
          .slice(WARM_UP_JOBS)
          .map((job) => (job.durationMs / Math.max(1, job.posts.length)) * 1000);
        warm.set(variant.label, [...(warm.get(variant.label) ?? []), ...perThousand]);
      }
    }
    for (const size of sizes) {
      for (let run = 0; run < ROOM_RUNS; run++) {
        for (const variant of variants.slice(0, 2)) {
          process.stderr.write(`${size} connections, cold: ${variant.label}, run ${run + 1}/${ROOM_RUNS}\n`);
          const summary = await fanoutDesign(model(variant), rooms.rooms.get(size) as string[], 2);
          coldRooms.push({ connections: size, label: variant.label, summary });
        }
      }
    }
  } finally {
    await rooms.close();
    for (const built of Object.values(packages)) rmSync(built.workDir, { recursive: true, force: true });
  }
  printReport(variants, coldRooms, warm);
  if (args.json) console.log(jsonLine(variants[1] as Variant));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

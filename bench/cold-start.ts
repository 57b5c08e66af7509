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
 * - the first message to a cold room of each size: the fan-out model's cold row.
 * Both sets of packages are built from today's sources: only the packaging and memory differ.
 * `--json` ends with one line: `{"functions": [{name, memoryMb, initMs, firstInvocationMs}],
 * "firstConnect": {p50Seconds, p99Seconds}}` of today's packages (medians of the samples).
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { broadcastWorker, connectAuthorizer, routes, tokenEndpoint } from "../functions/routes";
import { broadcastWorkerFactory } from "../infra/broadcast-worker";
import { DEFAULT_LAMBDA_MEMORY_MB } from "../infra/chat-api-settings";
import { authorizerFactory, tokenEndpointFactory } from "../infra/chat-auth";
import { handlerFactory } from "../infra/websocket-route";
import { coldStartEvents, SMALL_ROOM_SIZE } from "./cold-start-events";
import { type Factory, type Packages, packFunctions } from "./deployed-packages";
import { startRooms } from "./fanout-rooms";
import {
  type DesignSummary,
  fanoutDesign,
  type ModelEnvironment,
  PLATFORM_COLD_START_MS,
  percentile,
  sandbox,
} from "./fanout-timeline";
import { formatTable } from "./table";

const { values: args } = parseArgs({
  options: {
    samples: { type: "string", default: "7" },
    connections: { type: "string", default: "1000,10000,100000" },
    json: { type: "boolean", default: false },
  },
});

/** Memory in MB before: the stack's default of 256 MB, `sendmessage` and the broadcast worker 1,024 MB. */
const BEFORE_MB: Record<string, number> = { sendmessage: 1024, [broadcastWorker.name]: 1024 };

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

interface Variant {
  label: "before" | "after";
  packages: Packages;
  memoryMb: (name: string) => number;
  /** Per function, each sample's init, first and second invocation, in ms. */
  samples: Map<string, { init: number[]; first: number[]; warm: number[] }>;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  ) as number;

function functionFactories(): Map<string, Factory> {
  return new Map<string, Factory>([
    ...routes.map((route) => [route.name, handlerFactory(route)] as const),
    [broadcastWorker.name, broadcastWorkerFactory(broadcastWorker)],
    [connectAuthorizer.name, authorizerFactory()],
    [tokenEndpoint.name, tokenEndpointFactory()],
  ]);
}

/** Every pairing of an authorizer's cold start with `onconnect`'s, each after Lambda's start of the environment. */
function firstConnect(variant: Variant): { p50Seconds: number; p99Seconds: number } {
  const total = (name: string) => {
    const { init, first } = variant.samples.get(name) as { init: number[]; first: number[] };
    return init.map((ms, i) => PLATFORM_COLD_START_MS + ms + (first[i] as number));
  };
  const connects = total(connectAuthorizer.name)
    .flatMap((authorizer) => total("onconnect").map((onconnect) => (authorizer + onconnect) / 1000))
    .sort((a, b) => a - b);
  return { p50Seconds: percentile(connects, 0.5) as number, p99Seconds: percentile(connects, 0.99) as number };
}

async function main(): Promise<void> {
  const samples = Number(args.samples);
  const sizes = (args.connections ?? "").split(",").filter(Boolean).map(Number);
  if (!Number.isInteger(samples) || samples < 1)
    throw new Error(`--samples must be a whole number, got ${args.samples}`);
  const factories = functionFactories();
  process.stderr.write("packing the functions: before (node_modules) and after (bundle)\n");
  const variants: Variant[] = [
    {
      label: "before",
      packages: await packFunctions(factories, "node_modules"),
      memoryMb: (name) => BEFORE_MB[name] ?? DEFAULT_LAMBDA_MEMORY_MB,
      samples: new Map(),
    },
    { label: "after", packages: await packFunctions(factories, "bundle"), memoryMb: deployedMb, samples: new Map() },
  ];
  const rooms = await startRooms([SMALL_ROOM_SIZE, ...sizes]);
  const events = await coldStartEvents(rooms.rooms.get(SMALL_ROOM_SIZE) as string[]);
  const model = (variant: Variant): ModelEnvironment => ({
    packages: variant.packages,
    memoryMb: { sendmessage: variant.memoryMb("sendmessage"), broadcast: variant.memoryMb(broadcastWorker.name) },
    proxy: rooms.proxy,
    env: { ...rooms.env, ...events.env, BROADCAST_FUNCTION_NAME: broadcastWorker.name },
  });
  const coldRooms: { connections: number; label: string; summary: DesignSummary }[] = [];
  try {
    for (let sample = 0; sample < samples; sample++) {
      process.stderr.write(`functions: sample ${sample + 1}/${samples}\n`);
      for (const name of factories.keys()) {
        // Alternately, so the machine's drift touches both alike.
        for (const variant of variants) {
          const run = await sandbox(
            model(variant),
            name,
            variant.memoryMb(name),
            events.events(name, `${variant.label}-${sample}`),
          );
          const [first, warm] = run.invocations;
          if (first?.error || warm?.error)
            throw new Error(`${name} (${variant.label}) failed: ${first?.error ?? warm?.error}`);
          const recorded = variant.samples.get(name) ?? { init: [], first: [], warm: [] };
          recorded.init.push(run.initMs);
          recorded.first.push(first?.durationMs ?? Number.NaN);
          recorded.warm.push(warm?.durationMs ?? Number.NaN);
          variant.samples.set(name, recorded);
        }
      }
    }
    for (const size of sizes) {
      for (const variant of variants) {
        process.stderr.write(`${size} connections, cold: ${variant.label}\n`);
        const summary = await fanoutDesign(model(variant), rooms.rooms.get(size) as string[], 2);
        coldRooms.push({ connections: size, label: variant.label, summary });
      }
    }
  } finally {
    await rooms.close();
    for (const variant of variants) rmSync(variant.packages.workDir, { recursive: true, force: true });
  }
  print(variants, coldRooms);
  if (args.json) {
    const after = variants[1] as Variant;
    const functions = [...factories.keys()].map((name) => {
      const recorded = after.samples.get(name) as { init: number[]; first: number[] };
      return {
        name,
        memoryMb: after.memoryMb(name),
        initMs: median(recorded.init),
        firstInvocationMs: median(recorded.first),
      };
    });
    console.log(JSON.stringify({ functions, firstConnect: firstConnect(after) }));
  }
}

function print(variants: Variant[], coldRooms: { connections: number; label: string; summary: DesignSummary }[]): void {
  const [before, after] = variants as [Variant, Variant];
  const ms = (variant: Variant, name: string, key: "init" | "first" | "warm") =>
    median(variant.samples.get(name)?.[key] ?? []).toFixed(0);
  const names = [...after.samples.keys()];
  console.log("\nper function, medians in ms (init: loading __index.js and building the handler)");
  console.log(
    formatTable(
      [
        "function",
        "MB before",
        "MB after",
        "init before",
        "init after",
        "first before",
        "first after",
        "warm before",
        "warm after",
      ],
      names.map((name) => [
        name,
        String(before.memoryMb(name)),
        String(after.memoryMb(name)),
        ms(before, name, "init"),
        ms(after, name, "init"),
        ms(before, name, "first"),
        ms(after, name, "first"),
        ms(before, name, "warm"),
        ms(after, name, "warm"),
      ]),
    ),
  );
  console.log(
    `\nfirst $connect after idle: authorizer then onconnect, each +${PLATFORM_COLD_START_MS} ms of Lambda's start`,
  );
  console.log(
    formatTable(
      ["", "p50 s", "p99 s"],
      variants.map((variant) => {
        const connect = firstConnect(variant);
        return [variant.label, connect.p50Seconds.toFixed(2), connect.p99Seconds.toFixed(2)];
      }),
    ),
  );
  const seconds = (value: number | null) => (value === null ? "lost" : value.toFixed(2));
  console.log("\nfirst message to a cold room (the fan-out model's cold row), and the warm one after it");
  console.log(
    formatTable(
      ["room", "", "cold p50 s", "cold p99 s", "warm p50 s", "warm p99 s", "GB-s/1000 warm", "GB-s cold"],
      coldRooms.map(({ connections, label, summary }) => [
        String(connections),
        label,
        seconds(summary.coldP50Seconds),
        seconds(summary.coldP99Seconds),
        seconds(summary.warmP50Seconds),
        seconds(summary.warmP99Seconds),
        summary.gbSecondsPer1000Deliveries.toFixed(3),
        summary.coldGbSeconds.toFixed(3),
      ]),
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

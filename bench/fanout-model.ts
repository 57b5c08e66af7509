/**
 * What a broadcast to a large room takes on AWS, modelled: `npm run bench:lambda [-- options]`
 * (Linux, as root: the CPU quota is a cgroup). The functions' packages as deployed run against the
 * embedded DynamoDB holding a room of each size (`./fanout-timeline.ts` says how, and from which
 * sources). Two designs, in the same run:
 * - single: `sendmessage` posting to the whole room itself, stopped at the 10 s function timeout
 *   (a post after it is lost);
 * - fanout: `sendmessage` hands the room's slices to broadcast workers invoked asynchronously.
 *
 * Options: --connections 1000,10000,100000  --broadcasts B (2: one cold, then warm)  --json
 * --slice-size S and --shard-threshold T (the handlers' FANOUT_SLICE_SIZE and FANOUT_SHARD_THRESHOLD)
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { broadcastWorker, routes } from "../functions/routes";
import { broadcastWorkerFactory } from "../infra/broadcast-worker";
import { handlerFactory } from "../infra/websocket-route";
import { type Factory, packFunctions } from "./deployed-packages";
import { startRooms } from "./fanout-rooms";
import { type DesignSummary, fanoutDesign, LATENCY_MS, PLATFORM_COLD_START_MS, singleDesign } from "./fanout-timeline";
import { formatTable } from "./table";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "1000,10000,100000" },
    broadcasts: { type: "string", default: "2" },
    "slice-size": { type: "string" },
    "shard-threshold": { type: "string" },
    json: { type: "boolean", default: false },
  },
});

type Row = { connections: number; design: "single" | "fanout" } & DesignSummary;

async function main(): Promise<void> {
  const sizes = (args.connections ?? "").split(",").map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 1))
    throw new Error(`--connections must be whole numbers, got ${args.connections}`);
  const broadcasts = Number(args.broadcasts);
  const sendmessage = routes.find((route) => route.routeKey === "sendmessage");
  if (!sendmessage) throw new Error("no sendmessage route");
  const packages = await packFunctions(
    new Map<string, Factory>([
      ["sendmessage", handlerFactory(sendmessage)],
      [broadcastWorker.name, broadcastWorkerFactory(broadcastWorker)],
    ]),
  );
  const rooms = await startRooms(sizes, {
    ...(args["slice-size"] && { FANOUT_SLICE_SIZE: args["slice-size"] }),
    ...(args["shard-threshold"] && { FANOUT_SHARD_THRESHOLD: args["shard-threshold"] }),
  });
  const model = {
    packages,
    memoryMb: { sendmessage: sendmessage.memorySize ?? 1024, broadcast: broadcastWorker.memorySize },
    proxy: rooms.proxy,
    env: rooms.env,
  };
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      const room = rooms.rooms.get(size) as string[];
      process.stderr.write(`${size} connections: single\n`);
      rows.push({ connections: size, design: "single", ...(await singleDesign(model, room, broadcasts)) });
      process.stderr.write(`${size} connections: fanout\n`);
      rows.push({ connections: size, design: "fanout", ...(await fanoutDesign(model, room, broadcasts)) });
    }
  } finally {
    await rooms.close();
    rmSync(packages.workDir, { recursive: true, force: true });
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

function print(rows: Row[]): void {
  const seconds = (value: number | null) => (value === null ? "lost" : value.toFixed(2));
  const columns: [string, (row: Row) => string][] = [
    ["connections", (row) => String(row.connections)],
    ["design", (row) => row.design],
    ["slices", (row) => String(row.slices)],
    ["cold p50 s", (row) => seconds(row.coldP50Seconds)],
    ["cold p99 s", (row) => seconds(row.coldP99Seconds)],
    ["warm p50 s", (row) => seconds(row.warmP50Seconds)],
    ["warm p99 s", (row) => seconds(row.warmP99Seconds)],
    ["GB-s warm", (row) => row.gbSeconds.toFixed(3)],
    ["GB-s cold", (row) => row.coldGbSeconds.toFixed(3)],
    ["GB-s/1000", (row) => row.gbSecondsPer1000Deliveries.toFixed(3)],
    ["read units", (row) => row.readUnits.toFixed(1)],
    ["lost", (row) => String(row.lost)],
    ["duplicated", (row) => String(row.duplicated)],
  ];
  console.log(
    `\n${LATENCY_MS} ms per post and per Invoke; queue delay p50 73 ms, p99 225 ms; cold start +${PLATFORM_COLD_START_MS} ms`,
  );
  console.log(
    formatTable(
      columns.map(([header]) => header),
      rows.map((row) => columns.map(([, cell]) => cell(row))),
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

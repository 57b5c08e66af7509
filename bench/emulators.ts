/**
 * `npm run bench:peers [-- options]`: the same app (AWS's sample's design: a row per connection,
 * a message Scans the table and posts to every row) run in one go on this project's
 * `websocket-gateway`, serverless-offline and Architect's sandbox (`./peer-servers.ts`), each
 * under the same load: N real `ws` clients on loopback, S senders sending M messages each with at
 * most W of their own in flight (in flight until every client has it). Prints per emulator and
 * point: start-up, connecting the clients, deliveries a second, delivery latency percentiles,
 * what was lost or duplicated, and the CPU seconds and peak memory of its whole process tree
 * (`./process-tree.ts`); then each peer against this gateway, measured in the same run.
 *
 * Options: --clients N --senders S --messages M (one point instead of the default ones),
 * --window W, --only websocket-gateway|serverless-offline|architect-sandbox, --json;
 * --behaviour tries instead what each does where AWS's behaviour is documented
 * (`./emulator-behaviour.ts`).
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { AWS_BEHAVIOUR, probeBehaviour } from "./emulator-behaviour";
import { printTable } from "./emulator-report";
import { EMULATORS, type Emulator, installPeers, startEmulator } from "./peer-servers";
import { watchProcessTree } from "./process-tree";
import { formatTable, percentile } from "./table";

interface Point {
  clients: number;
  senders: number;
  messages: number;
}

const DEFAULT_POINTS: Point[] = [
  { clients: 10, senders: 1, messages: 50 },
  { clients: 100, senders: 4, messages: 10 },
  { clients: 300, senders: 1, messages: 10 },
];
const POINT_DEADLINE_MS = 180_000;
const STALL_MS = 20_000;

const { values: args } = parseArgs({
  options: {
    clients: { type: "string" },
    senders: { type: "string", default: "1" },
    messages: { type: "string", default: "10" },
    window: { type: "string", default: "5" },
    only: { type: "string" },
    json: { type: "boolean", default: false },
    behaviour: { type: "boolean", default: false },
  },
});

const int = (name: string, value: string | undefined): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new Error(`--${name} must be a positive whole number, got ${value}`);
  return parsed;
};

function progress(line: string): void {
  if (args.json) return;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

/** A client, or `undefined` when the handshake is refused (the emulator's answer counted, not fatal). */
function open(url: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once("open", () => resolve(socket));
    socket.once("error", () => resolve(undefined));
  });
}

async function runPoint(emulator: Emulator, point: Point, window: number) {
  const label = `${emulator} ${point.clients}×${point.senders}×${point.messages}`;
  progress(`${label}: starting`);
  const server = await startEmulator(emulator);
  const usage = watchProcessTree(server.pids);
  const sockets: WebSocket[] = [];
  let refused = 0;
  try {
    const connectStarted = performance.now();
    for (let tried = 0; tried < point.clients; ) {
      const batch = Math.min(25, point.clients - tried);
      const opened = await Promise.all(Array.from({ length: batch }, () => open(server.url)));
      tried += batch;
      for (const socket of opened) socket ? sockets.push(socket) : refused++;
      progress(`${label}: connected ${sockets.length}/${point.clients}, refused ${refused}`);
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    usage.restart();
    const delivery = await deliver(sockets, point, window, label);
    if (delivery.lost > 0 && !args.json) {
      progress(
        `${label}: ${delivery.lost} deliveries lost; the emulator's last lines:\n  ${server.recentOutput().slice(-15).join("\n  ")}\n`,
      );
    }
    return { emulator, point, readyMs: server.readyMs, connectSeconds, refused, ...delivery, ...usage.read() };
  } finally {
    usage.stop();
    for (const socket of sockets) socket.terminate();
    await server.stop();
  }
}

/** Sends the point's messages and counts each client's deliveries until all are in, or nothing arrives for a while. */
async function deliver(sockets: WebSocket[], point: Point, window: number, label: string) {
  const expected = sockets.length * Math.min(point.senders, sockets.length) * point.messages;
  const seen = sockets.map(() => new Set<string>());
  const latencies: number[] = [];
  let duplicated = 0;
  let lastDelivery = performance.now();
  const inFlight = new Array<number>(point.senders).fill(0);
  const awaited = new Map<string, number>();
  const wake: Array<(() => void) | undefined> = [];
  sockets.forEach((socket, index) => {
    socket.on("message", (raw: Buffer) => {
      const [tag, sender, seq, sentAt] = raw.toString().split(":");
      if (tag !== "bench") return;
      const key = `${sender}:${seq}`;
      if (seen[index]?.has(key)) {
        duplicated++;
        return;
      }
      seen[index]?.add(key);
      lastDelivery = performance.now();
      latencies.push(lastDelivery - Number(sentAt));
      const waiting = (awaited.get(key) ?? sockets.length) - 1;
      awaited.set(key, waiting);
      if (waiting === 0) {
        inFlight[Number(sender)] = (inFlight[Number(sender)] as number) - 1;
        wake[Number(sender)]?.();
      }
    });
  });
  const started = performance.now();
  const ticker = setInterval(() => progress(`${label}: ${latencies.length}/${expected} deliveries`), 1000);
  for (const [sender, socket] of sockets.slice(0, point.senders).entries()) {
    void (async () => {
      for (let seq = 0; seq < point.messages; seq++) {
        while ((inFlight[sender] as number) >= window) await new Promise<void>((resolve) => (wake[sender] = resolve));
        inFlight[sender] = (inFlight[sender] as number) + 1;
        socket.send(JSON.stringify({ action: "sendmessage", data: `bench:${sender}:${seq}:${performance.now()}` }));
      }
    })();
  }
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      const now = performance.now();
      if (latencies.length >= expected || now - started > POINT_DEADLINE_MS || now - lastDelivery > STALL_MS) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  clearInterval(ticker);
  const seconds = (lastDelivery - started) / 1000;
  latencies.sort((a, b) => a - b);
  progress(`${label}: done\n`);
  return {
    expected,
    lost: expected - latencies.length,
    duplicated,
    deliveriesPerSecond: latencies.length / seconds,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
    },
  };
}

type Result = Awaited<ReturnType<typeof runPoint>>;

async function printBehaviour(emulators: Emulator[]): Promise<void> {
  const rows = [["AWS (documented)", ...Object.values(AWS_BEHAVIOUR)]];
  for (const emulator of emulators) {
    progress(`${emulator}: trying`);
    const server = await startEmulator(emulator);
    try {
      rows.push([emulator, ...Object.values(await probeBehaviour(server.url))]);
    } finally {
      await server.stop();
    }
  }
  progress("done\n");
  console.log(formatTable(["", "$connect answers 401", "a 40 KB frame", "an action no route selects"], rows));
}

async function main(): Promise<void> {
  // The SDK's notice about Node.js versions, once per process, is not the benchmark's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const points = args.clients
    ? [
        {
          clients: int("clients", args.clients),
          senders: int("senders", args.senders),
          messages: int("messages", args.messages),
        },
      ]
    : DEFAULT_POINTS;
  const emulators = args.only ? [args.only as Emulator] : [...EMULATORS];
  if (!emulators.every((name) => EMULATORS.includes(name)))
    throw new Error(`--only takes one of ${EMULATORS.join(", ")}`);
  if (emulators.some((name) => name !== "websocket-gateway")) installPeers((line) => process.stderr.write(`${line}\n`));
  if (args.behaviour) return printBehaviour(emulators);
  const window = int("window", args.window);
  const results: Result[] = [];
  for (const point of points) for (const emulator of emulators) results.push(await runPoint(emulator, point, window));
  if (args.json) console.log(JSON.stringify({ cores: availableParallelism(), window, results }, null, 2));
  else {
    console.log(`\n${availableParallelism()} cores, Node.js ${process.versions.node}, window ${window}`);
    printTable(results);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

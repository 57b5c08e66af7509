/**
 * Broadcast benchmark: `npm run bench [-- options]`.
 *
 * For each point of the matrix it starts a server (the local gateway with the project's handlers,
 * and, as the limit, a bare `ws` server that parses the same request and sends one frame to every
 * client), opens N real `ws` clients on loopback, lets S senders send M messages each with at most
 * W of their own messages in flight (a message is in flight until every client has it), and counts
 * every delivery at every client.
 *
 * Options: --clients N --senders S --messages M (one point instead of the matrix), --window W,
 * --post-latency-ms L (each management call takes L ms longer, like AWS's PostToConnection),
 * --concurrency C (BROADCAST_CONCURRENCY), --only gateway|limit, --json, --cpu-prof (writes the
 * server's CPU profile to .profiles/).
 */
import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import type { ServerRequest, ServerStats } from "./server";
import { stopServerChild } from "./server-child";
import { percentile } from "./table";

interface Point {
  clients: number;
  senders: number;
  messages: number;
}

interface PointResult {
  server: ServerRequest["kind"];
  point: Point;
  connectMs: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  seconds: number;
  deliveriesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  server_: ServerStats;
  handlerMs?: { p50: number; max: number; count: number };
}

const DEFAULT_MATRIX: Point[] = [
  { clients: 10, senders: 1, messages: 200 },
  { clients: 100, senders: 5, messages: 50 },
  { clients: 500, senders: 5, messages: 20 },
  { clients: 1000, senders: 1, messages: 20 },
];
/** No point may run longer than this, whatever happens. */
const POINT_DEADLINE_MS = 180_000;
/** A point with no delivery for this long is given up (and its losses reported). */
const STALL_MS = 15_000;

const { values: args } = parseArgs({
  options: {
    clients: { type: "string" },
    senders: { type: "string", default: "1" },
    messages: { type: "string", default: "20" },
    window: { type: "string", default: "10" },
    "post-latency-ms": { type: "string", default: "0" },
    concurrency: { type: "string" },
    only: { type: "string" },
    json: { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
  },
});

const int = (name: string, value: string | undefined): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return parsed;
};

function progress(line: string): void {
  if (!args.json && process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else if (!args.json) process.stderr.write(`${line}\n`);
}

async function startServer(request: ServerRequest) {
  const child = fork(path.join(__dirname, "server.ts"), [], {
    execArgv: ["--require", "tsx/cjs", ...(args["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir=.profiles"] : [])],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const ask = <T>(message: unknown) =>
    new Promise<T>((resolve, reject) => {
      child.once("message", (reply) => resolve(reply as T));
      child.once("exit", (code) => reject(new Error(`benchmark server exited with ${code}`)));
      child.send(message as string);
    });
  const { url } = await ask<{ url: string }>(request);
  return {
    url,
    stats: () => ask<ServerStats>("stats"),
    stop: () => stopServerChild(child),
  };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

async function runPoint(kind: ServerRequest["kind"], point: Point): Promise<PointResult> {
  const window = int("window", args.window);
  const server = await startServer({
    kind,
    postLatencyMs: int("post-latency-ms", args["post-latency-ms"]),
    broadcastConcurrency: args.concurrency ? int("concurrency", args.concurrency) : undefined,
  });
  const label = `${kind} ${point.clients}×${point.senders}×${point.messages}`;
  const sockets: WebSocket[] = [];
  try {
    const connectStarted = performance.now();
    for (let opened = 0; opened < point.clients; ) {
      const batch = Math.min(50, point.clients - opened);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => open(server.url)))));
      opened += batch;
      progress(`${label}: connected ${opened}/${point.clients}`);
    }
    const connectMs = performance.now() - connectStarted;

    const expected = point.clients * point.senders * point.messages;
    const seen = sockets.map(() => new Set<string>());
    const latencies: number[] = [];
    let delivered = 0;
    let duplicated = 0;
    let lastDelivery = performance.now();
    const inFlight = new Array<number>(point.senders).fill(0);
    /** Per message (`sender:seq`), the clients that still have to receive it. */
    const awaited = new Map<string, number>();
    const wakeSender: Array<(() => void) | undefined> = [];

    sockets.forEach((socket, index) => {
      socket.on("message", (raw: Buffer) => {
        const frame = JSON.parse(raw.toString()) as { type?: string; data?: string };
        if (frame.type !== "message" || !frame.data?.startsWith("bench:")) return;
        const [, sender, seq, sentAt] = frame.data.split(":");
        const key = `${sender}:${seq}`;
        const received = seen[index] as Set<string>;
        if (received.has(key)) {
          duplicated++;
          return;
        }
        received.add(key);
        delivered++;
        lastDelivery = performance.now();
        latencies.push(performance.now() - Number(sentAt));
        const waiting = (awaited.get(key) ?? sockets.length) - 1;
        awaited.set(key, waiting);
        if (waiting === 0) {
          awaited.delete(key);
          inFlight[Number(sender)] = (inFlight[Number(sender)] as number) - 1;
          wakeSender[Number(sender)]?.();
        }
      });
    });

    const started = performance.now();
    const ticker = setInterval(() => {
      const seconds = (performance.now() - started) / 1000;
      progress(`${label}: ${delivered}/${expected} deliveries, ${Math.round(delivered / seconds)}/s`);
    }, 1000);
    const senders = sockets.slice(0, point.senders).map(async (socket, sender) => {
      for (let seq = 0; seq < point.messages; seq++) {
        while ((inFlight[sender] as number) >= window) {
          await new Promise<void>((resolve) => {
            wakeSender[sender] = resolve;
          });
        }
        inFlight[sender] = (inFlight[sender] as number) + 1;
        socket.send(JSON.stringify({ action: "sendmessage", data: `bench:${sender}:${seq}:${performance.now()}` }));
      }
    });
    const deadline = started + POINT_DEADLINE_MS;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        const now = performance.now();
        if (delivered >= expected || now > deadline || now - lastDelivery > STALL_MS) {
          clearInterval(check);
          for (const wake of wakeSender) wake?.();
          resolve();
        }
      }, 5);
    });
    clearInterval(ticker);
    void Promise.allSettled(senders);
    const seconds = (performance.now() - started) / 1000;
    const stats = await server.stats();
    latencies.sort((a, b) => a - b);
    const handler = [...stats.handlerMs].sort((a, b) => a - b);
    progress(`${label}: done\n`);
    return {
      server: kind,
      point,
      connectMs,
      expected,
      delivered,
      lost: expected - delivered,
      duplicated,
      seconds,
      deliveriesPerSecond: delivered / seconds,
      latencyMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? Number.NaN,
      },
      server_: stats,
      handlerMs: handler.length
        ? { p50: percentile(handler, 50), max: handler.at(-1) as number, count: handler.length }
        : undefined,
    };
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.stop();
  }
}

function printTable(results: PointResult[]): void {
  const rows = results.map((r) => [
    r.server,
    `${r.point.clients}×${r.point.senders}×${r.point.messages}`,
    (r.connectMs / 1000).toFixed(2),
    Math.round(r.deliveriesPerSecond).toString(),
    r.latencyMs.p50.toFixed(1),
    r.latencyMs.p95.toFixed(1),
    r.latencyMs.p99.toFixed(1),
    r.latencyMs.max.toFixed(1),
    r.lost.toString(),
    r.duplicated.toString(),
    (r.server_.cpuMs / 1000).toFixed(2),
    r.server_.peakRssMb.toFixed(0),
    r.handlerMs ? `${r.handlerMs.p50.toFixed(1)}/${r.handlerMs.max.toFixed(1)}` : "-",
  ]);
  const header = [
    "server",
    "N×S×M",
    "connect s",
    "deliv/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "lost",
    "dup",
    "cpu s",
    "rss MB",
    "handler p50/max ms",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] as number)).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));

  const ratios = results
    .filter((r) => r.server === "gateway")
    .map((gateway) => {
      const limit = results.find((r) => r.server === "limit" && r.point === gateway.point);
      if (!limit) return undefined;
      return `${gateway.point.clients}×${gateway.point.senders}×${gateway.point.messages}: ${(gateway.deliveriesPerSecond / limit.deliveriesPerSecond).toFixed(2)} of the limit's deliveries/s, p50 ${(gateway.latencyMs.p50 / limit.latencyMs.p50).toFixed(1)}× its latency`;
    })
    .filter(Boolean);
  if (ratios.length) console.log(`\ngateway/limit:\n  ${ratios.join("\n  ")}`);
}

async function main(): Promise<void> {
  const matrix = args.clients
    ? [
        {
          clients: int("clients", args.clients),
          senders: int("senders", args.senders),
          messages: int("messages", args.messages),
        },
      ]
    : DEFAULT_MATRIX;
  const kinds: ServerRequest["kind"][] = args.only ? [args.only as ServerRequest["kind"]] : ["limit", "gateway"];
  const results: PointResult[] = [];
  for (const point of matrix) for (const kind of kinds) results.push(await runPoint(kind, point));
  if (args.json) console.log(JSON.stringify({ cores: availableParallelism(), results }, null, 2));
  else {
    console.log(`\n${availableParallelism()} cores, post latency ${args["post-latency-ms"]} ms, window ${args.window}`);
    printTable(results);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * Churn soak: `npm run soak -- [--minutes M] [--clients N] [--rate R] [--churn C] [--json]`.
 *
 * Runs the local gateway with the project's handlers and real limits in a child process, holds N
 * idle clients open, lets one sender broadcast R messages/s, and every second starts C churned
 * clients, each one of: open 1-20 s then close 1000; open 1-20 s then terminated (no close frame);
 * gone mid-handshake (raw TCP, destroyed before the 101). Every 10 s it prints the server's RSS and
 * CPU, deliveries and their latency, and connections at the gateway, in the table and at the
 * clients. After M minutes it stops, lets the last messages settle, and counts per client class
 * the messages expected, received, missing and duplicated and the deaf clients; then it closes
 * everything and counts the rows left. Exits 1 if a handshake failed, a message is missing or
 * duplicated, a client is deaf or a row is left, so it works as a check; 2 if it could not run.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import type { ServerSample } from "./server";
import { Ledger, SoakClient } from "./soak-clients";
import { startSoakServer } from "./soak-gateway";
import { report, round, type Sample } from "./soak-report";
import { vanish } from "./soak-vanish";
import { percentile } from "./table";

const SAMPLE_EVERY_MS = 10_000;
/** After the sender stops: time for the last broadcasts to arrive. */
const SETTLE_MS = 3_000;
/** Longest wait for the gateway's $disconnects (and the table) once every client is closed. */
const DRAIN_MS = 15_000;

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    clients: { type: "string", default: "50" },
    rate: { type: "string", default: "10" },
    churn: { type: "string", default: "10" },
    json: { type: "boolean", default: false },
  },
});

const number = (name: string, value: string | undefined, whole: boolean): number => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (whole && !Number.isInteger(parsed))) {
    throw new Error(`--${name} must be a ${whole ? "whole " : ""}number of at least 0, got ${value}`);
  }
  return parsed;
};
const minutes = number("minutes", args.minutes, false);
const clientCount = number("clients", args.clients, true);
const rate = number("rate", args.rate, false);
const churn = number("churn", args.churn, true);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<number> {
  const ledger = new Ledger();
  const { server, kill } = await startSoakServer((code, signal) => {
    console.error(`soak: the gateway process exited during the run (code ${code}, signal ${signal}): a crash`);
    for (const client of ledger.open) client.socket.terminate();
    process.exit(2);
  });
  // Bounded whatever happens: the run, the settle, the handshakes' timeout and the drain, with room.
  const watchdog = setTimeout(
    () => {
      console.error("soak: overran its time budget; giving up");
      kill();
      process.exit(2);
    },
    minutes * 60_000 + 120_000,
  );
  const url = server.url;

  const longLived = Array.from({ length: clientCount }, () => new SoakClient(ledger, "long-lived", url));
  const sender = new SoakClient(ledger, "sender", url);
  const opened = await Promise.all([...longLived, sender].map((client) => client.opened));
  // Without its steady clients the soak would measure nothing: say why and stop.
  if (opened.includes(false)) {
    console.error(`soak: ${opened.filter((ok) => !ok).length} of ${opened.length} steady clients could not connect:`);
    for (const [event, count] of ledger.events) console.error(`  ${count}× ${event}`);
    for (const line of (await server.sample()).failureLines) console.error(`  ${line}`);
    for (const client of ledger.open) client.terminate();
    await server.stop();
    return 2;
  }

  const started = performance.now();
  const sendTimer = setInterval(
    () => {
      if (rate === 0 || sender.socket.readyState !== WebSocket.OPEN) return;
      const seq = ledger.sentAt.length;
      const t = performance.now();
      ledger.sentAt.push(t);
      sender.socket.send(JSON.stringify({ action: "sendmessage", data: JSON.stringify({ seq, t }) }));
    },
    1000 / (rate || 1),
  );

  let stopping = false;
  const closeTimers = new Set<NodeJS.Timeout>();
  /** Ends a churned client after 1-20 s, unless the soak is stopping: then it stays to the end. */
  const later = (end: () => void) => {
    if (stopping) return;
    const timer = setTimeout(
      () => {
        closeTimers.delete(timer);
        end();
      },
      1000 + Math.random() * 19_000,
    );
    closeTimers.add(timer);
  };
  const churnTimer = setInterval(() => {
    for (let i = 0; i < churn; i++) {
      const pick = Math.floor(Math.random() * 3);
      if (pick === 0) new SoakClient(ledger, "clean-close", url, (client) => later(() => client.close()));
      else if (pick === 1) new SoakClient(ledger, "terminate", url, (client) => later(() => client.terminate()));
      else vanish(ledger, url);
    }
  }, 1000);

  const samples: Sample[] = [];
  let previous = { at: performance.now(), cpuMs: (await server.sample()).cpuMs };
  let sampling = false;
  const takeSample = async (): Promise<void> => {
    if (sampling) return;
    sampling = true;
    try {
      const [stats, tableRows] = await Promise.all([server.sample(), server.rows()]);
      const now = performance.now();
      const latencies = ledger.latencies.splice(0).sort((a, b) => a - b);
      const sample: Sample = {
        elapsedS: Math.round((now - started) / 1000),
        rssMb: round(stats.rssMb, 0),
        cpuPercent: round(((stats.cpuMs - previous.cpuMs) / (now - previous.at)) * 100, 0),
        sent: ledger.sentAt.length,
        deliveries: ledger.deliveries,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        gatewayConnections: stats.connectionCount,
        tableRows,
        openClients: ledger.open.size,
      };
      ledger.deliveries = 0;
      previous = { at: now, cpuMs: stats.cpuMs };
      samples.push(sample);
      console.log(
        `${`${sample.elapsedS}s`.padStart(5)}  rss ${sample.rssMb} MB  cpu ${sample.cpuPercent}%  sent ${sample.sent}` +
          `  deliveries ${sample.deliveries}  p50 ${sample.p50Ms || "-"} ms  p99 ${sample.p99Ms || "-"} ms` +
          `  connections: gateway ${sample.gatewayConnections}, table ${sample.tableRows}, clients ${sample.openClients}`,
      );
    } finally {
      sampling = false;
    }
  };
  const sampleTimer = setInterval(() => void takeSample(), SAMPLE_EVERY_MS);
  console.log(
    `soak: ${minutes} min, ${clientCount} idle clients + 1 sender at ${rate}/s, churn ${churn}/s, ${availableParallelism()} cores, gateway ${url}`,
  );

  await sleep(minutes * 60_000);
  stopping = true;
  clearInterval(sendTimer);
  clearInterval(churnTimer);
  for (const timer of closeTimers) clearTimeout(timer);
  await sleep(SETTLE_MS);
  // Handshakes still under way end within their timeout; no new ones start.
  while (ledger.pending > 0) await sleep(100);
  clearInterval(sampleTimer);
  while (sampling) await sleep(50);
  await takeSample();

  // Whoever is still open (and not closing) expected every message sent after its open.
  for (const client of ledger.open) if (client.closingAt === undefined) client.settle(Number.POSITIVE_INFINITY);
  for (const client of ledger.open) client.close();
  // A client leaves `ledger.open` on its close event; one that never gets the gateway's answer is cut off.
  for (const until = performance.now() + 5_000; ledger.open.size > 0 && performance.now() < until; ) await sleep(50);
  for (const client of ledger.open) client.terminate();
  while (ledger.open.size > 0) await sleep(50);

  let final: ServerSample = await server.sample();
  let rowsLeft = await server.rows();
  for (
    const until = performance.now() + DRAIN_MS;
    (final.connectionCount > 0 || rowsLeft > 0) && performance.now() < until;
  ) {
    await sleep(250);
    [final, rowsLeft] = await Promise.all([server.sample(), server.rows()]);
  }
  await server.stop();
  clearTimeout(watchdog);

  return report(
    { minutes, clients: clientCount, rate, churn, json: args.json ?? false },
    ledger,
    samples,
    final,
    rowsLeft,
  );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);

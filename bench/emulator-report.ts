/** `npm run bench:peers`' table: each emulator at each point, then each peer against this gateway. */
import type { Emulator } from "./peer-servers";
import { formatTable } from "./table";

export interface EmulatorResult {
  emulator: Emulator;
  point: { clients: number; senders: number; messages: number };
  readyMs: number;
  connectSeconds: number;
  refused: number;
  expected: number;
  lost: number;
  duplicated: number;
  deliveriesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  cpuSeconds: number;
  peakRssMb: number;
  peakProcesses: number;
}

export function printTable(results: EmulatorResult[]): void {
  const header = [
    "emulator",
    "N×S×M",
    "ready ms",
    "connect s",
    "deliv/s",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "refused",
    "lost",
    "dup",
    "cpu s",
    "rss MB",
    "procs",
  ];
  const rows = results.map((r) => [
    r.emulator,
    `${r.point.clients}×${r.point.senders}×${r.point.messages}`,
    r.readyMs.toFixed(0),
    r.connectSeconds.toFixed(2),
    r.deliveriesPerSecond.toFixed(0),
    r.latencyMs.p50.toFixed(1),
    r.latencyMs.p95.toFixed(1),
    r.latencyMs.p99.toFixed(1),
    r.latencyMs.max.toFixed(1),
    String(r.refused),
    String(r.lost),
    String(r.duplicated),
    r.cpuSeconds.toFixed(2),
    r.peakRssMb.toFixed(0),
    String(r.peakProcesses),
  ]);
  console.log(formatTable(header, rows));
  const versus = results
    .filter((r) => r.emulator !== "websocket-gateway")
    .map((peer) => {
      const ours = results.find((r) => r.emulator === "websocket-gateway" && r.point === peer.point);
      if (!ours) return undefined;
      return `${peer.emulator} ${peer.point.clients}×${peer.point.senders}×${peer.point.messages}: ${(ours.deliveriesPerSecond / peer.deliveriesPerSecond).toFixed(2)}× its deliveries/s, p50 ${(peer.latencyMs.p50 / ours.latencyMs.p50).toFixed(1)}× ours, cpu per delivery ${(peer.cpuSeconds / (peer.expected - peer.lost) / (ours.cpuSeconds / (ours.expected - ours.lost))).toFixed(1)}× ours`;
    })
    .filter(Boolean);
  if (versus.length) console.log(`\nwebsocket-gateway against each peer:\n  ${versus.join("\n  ")}`);
}

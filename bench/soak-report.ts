/**
 * The soak's final figures (bench/soak.ts): a table of counts per client class, what went wrong
 * and how often, the rows left, a PASS or FAIL line and, with --json, one JSON object last.
 */
import type { ServerSample } from "./server";
import {
  CLIENT_CLASSES,
  type ClientClass,
  DONE_MARGIN_MS,
  emptyTally,
  type Ledger,
  OPEN_MARGIN_MS,
  type Tally,
} from "./soak-clients";
import { percentile } from "./table";

interface SoakOptions {
  minutes: number;
  clients: number;
  rate: number;
  churn: number;
  json: boolean;
}

/** One progress line's figures. */
export interface Sample {
  elapsedS: number;
  rssMb: number;
  cpuPercent: number;
  sent: number;
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
  gatewayConnections: number;
  tableRows: number;
  openClients: number;
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Prints the final figures; returns the exit code (1 if anything was missing, duplicated, deaf or left). */
export function report(
  options: SoakOptions,
  ledger: Ledger,
  samples: Sample[],
  final: ServerSample,
  rowsLeft: number,
): number {
  const total = emptyTally();
  for (const tally of ledger.tallies.values()) {
    for (const key of Object.keys(total) as (keyof Tally)[]) total[key] += tally[key];
  }
  const columns = Object.keys(total) as (keyof Tally)[];
  const rows: [string, Tally][] = [
    ...CLIENT_CLASSES.map((kind): [ClientClass, Tally] => [kind, ledger.tallies.get(kind) as Tally]),
    ["total", total],
  ];
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map(([, tally]) => String(tally[column]).length)),
  );
  console.log(
    `\n${"class".padEnd(12)}${columns.map((column, i) => column.padStart((widths[i] as number) + 2)).join("")}`,
  );
  for (const [name, tally] of rows) {
    console.log(
      `${name.padEnd(12)}${columns.map((column, i) => String(tally[column]).padStart((widths[i] as number) + 2)).join("")}`,
    );
  }
  const { vanish: gone } = ledger;
  console.log(
    `vanished mid-handshake: ${gone.attempts} (${gone.atOnce} at once, ${gone.afterDelay} after 1-30 ms; ${gone.answeredFirst} got the 101 first)`,
  );
  const latencies = ledger.allLatencies.sort((a, b) => a - b);
  const latencyMs = {
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.at(-1) ?? Number.NaN),
  };
  console.log(
    `sent ${ledger.sentAt.length}; latency p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms, max ${latencyMs.max} ms`,
  );
  console.log(
    `expected: sent >= ${OPEN_MARGIN_MS} ms after the client's open and, for a client that closed, at every steady client >= ${DONE_MARGIN_MS} ms before it began closing`,
  );
  for (const [event, count] of ledger.events) console.log(`  ${count}× ${event}`);
  console.log(
    `gateway invocations ${JSON.stringify(final.invocations)}, ${final.failures} not 200 ${JSON.stringify(final.failureKinds)}`,
  );
  for (const line of final.failureLines) console.log(`  ${line}`);
  console.log(
    `after closing every client: ${rowsLeft} rows left in the table, ${final.connectionCount} gateway connections`,
  );

  const problems = [
    total.failed && `${total.failed} handshakes failed`,
    total.missing && `${total.missing} missing`,
    total.duplicated && `${total.duplicated} duplicated`,
    total.deaf && `${total.deaf} deaf`,
    rowsLeft && `${rowsLeft} rows left`,
  ].filter(Boolean);
  console.log(
    problems.length
      ? `FAIL: ${problems.join(", ")}`
      : "PASS: every handshake succeeded, nothing missing or duplicated, no deaf client, no row left",
  );
  if (options.json) {
    const tallies = Object.fromEntries([...ledger.tallies, ["total", total]]);
    const figures = {
      tallies,
      vanish: gone,
      sent: ledger.sentAt.length,
      latencyMs,
      events: Object.fromEntries(ledger.events),
    };
    const server = {
      rowsLeft,
      connectionCount: final.connectionCount,
      invocations: final.invocations,
      failures: final.failures,
      failureKinds: final.failureKinds,
    };
    console.log(
      JSON.stringify({
        options: { ...options, json: undefined },
        passed: !problems.length,
        figures,
        server,
        samples,
      }),
    );
  }
  return problems.length ? 1 : 0;
}

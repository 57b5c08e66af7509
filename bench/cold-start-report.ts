/**
 * `npm run bench:cold`'s figures (`./cold-start.ts`): per function, the first `$connect` after
 * idle, the first message to cold rooms; the tables and the `--json` line.
 */
import { connectAuthorizer } from "../functions/routes";
import { type DesignSummary, PLATFORM_COLD_START_MS, percentile } from "./fanout-timeline";
import { formatTable } from "./table";

/** Packages at memory sizes, and what their samples measured. */
export interface Variant {
  /** `before`, `after`, or `after at N MB` (the connect path's memory sweep). */
  label: string;
  memoryMb: (name: string) => number;
  /** The functions sampled. */
  names: string[];
  /** Per function, each sample's init, first and second (warm) invocation, in ms. */
  samples: Map<string, { init: number[]; first: number[]; warm: number[] }>;
}

export interface ColdRoom {
  connections: number;
  label: string;
  summary: DesignSummary;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  ) as number;

/**
 * Every pairing of an authorizer's cold start with `onconnect`'s, each after Lambda's start of the
 * environment; and the GB-seconds both bill, cold (init included) and warm, at the median.
 */
export function firstConnect(variant: Variant) {
  const of = (name: string) => variant.samples.get(name) as { init: number[]; first: number[]; warm: number[] };
  const total = (name: string) =>
    of(name).init.map((ms, i) => PLATFORM_COLD_START_MS + ms + (of(name).first[i] as number));
  const connects = total(connectAuthorizer.name)
    .flatMap((authorizer) => total("onconnect").map((onconnect) => (authorizer + onconnect) / 1000))
    .sort((a, b) => a - b);
  const gbSeconds = (name: string, ms: number) => ((ms / 1000) * variant.memoryMb(name)) / 1024;
  const billed = (phase: (name: string) => number) =>
    gbSeconds(connectAuthorizer.name, phase(connectAuthorizer.name)) + gbSeconds("onconnect", phase("onconnect"));
  return {
    p50Seconds: percentile(connects, 0.5) as number,
    p99Seconds: percentile(connects, 0.99) as number,
    coldGbSeconds: billed((name) => median(of(name).init) + median(of(name).first)),
    warmGbSeconds: billed((name) => median(of(name).warm)),
  };
}

/** The `--json` line: today's packages' medians and first connect. */
export function jsonLine(after: Variant): string {
  const functions = after.names.map((name) => {
    const recorded = after.samples.get(name) as { init: number[]; first: number[] };
    return {
      name,
      memoryMb: after.memoryMb(name),
      initMs: median(recorded.init),
      firstInvocationMs: median(recorded.first),
    };
  });
  const { p50Seconds, p99Seconds } = firstConnect(after);
  return JSON.stringify({ functions, firstConnect: { p50Seconds, p99Seconds } });
}

export function printReport(variants: Variant[], coldRooms: ColdRoom[], warm: Map<string, number[]>): void {
  const [before, after] = variants as [Variant, Variant];
  const ms = (variant: Variant, name: string, key: "init" | "first" | "warm") =>
    median(variant.samples.get(name)?.[key] ?? []).toFixed(0);
  console.log("\nper function, medians in ms (init: loading __index.js, which builds the handler)");
  const header = ["function", "MB before", "MB after", "init before", "init after", "first before", "first after"];
  console.log(
    formatTable(
      [...header, "warm before", "warm after"],
      after.names.map((name) => [
        name,
        ...[before, after].map((variant) => String(variant.memoryMb(name))),
        ...(["init", "first", "warm"] as const).flatMap((key) => [ms(before, name, key), ms(after, name, key)]),
      ]),
    ),
  );
  console.log(
    `\nfirst $connect after idle: authorizer then onconnect, each +${PLATFORM_COLD_START_MS} ms of Lambda's start`,
  );
  console.log(
    formatTable(
      ["", "MB", "p50 s", "p99 s", "GB-s cold", "GB-s warm"],
      variants.map((variant) => {
        const connect = firstConnect(variant);
        const mb = [connectAuthorizer.name, "onconnect"].map((name) => variant.memoryMb(name)).join("+");
        return [
          variant.label,
          mb,
          connect.p50Seconds.toFixed(2),
          connect.p99Seconds.toFixed(2),
          connect.coldGbSeconds.toFixed(3),
          connect.warmGbSeconds.toFixed(4),
        ];
      }),
    ),
  );
  console.log(
    "\na warm broadcast worker: ms per 1,000 posts (p25, median, p75 of its jobs), and GB-s per 1,000 deliveries",
  );
  console.log(
    formatTable(
      ["", "MB", "p25", "median", "p75", "GB-s/1000"],
      variants.slice(0, 2).map((variant) => {
        const sorted = [...(warm.get(variant.label) ?? [])].sort((a, b) => a - b);
        const at = (p: number) => (percentile(sorted, p) ?? Number.NaN).toFixed(0);
        const mb = variant.memoryMb("broadcast");
        return [
          variant.label,
          String(mb),
          at(0.25),
          at(0.5),
          at(0.75),
          ((median(sorted) / 1000) * (mb / 1024)).toFixed(3),
        ];
      }),
    ),
  );
  const seconds = (value: number | null) => (value === null ? "lost" : value.toFixed(2));
  console.log(
    "\nfirst message to a cold room (the fan-out model's cold row), and the warm one after it; medians of the runs",
  );
  const groups = new Map<string, ColdRoom[]>();
  for (const room of coldRooms)
    groups.set(`${room.connections} ${room.label}`, [...(groups.get(`${room.connections} ${room.label}`) ?? []), room]);
  const of = (runs: ColdRoom[], key: keyof DesignSummary) => {
    const values = runs.map((run) => run.summary[key]);
    return values.includes(null) ? null : median(values as number[]);
  };
  console.log(
    formatTable(
      ["room", "", "runs", "cold p50 s", "cold p99 s", "warm p50 s", "warm p99 s", "GB-s/1000 warm", "GB-s cold"],
      [...groups.values()].map((runs) => [
        String(runs[0]?.connections),
        String(runs[0]?.label),
        String(runs.length),
        seconds(of(runs, "coldP50Seconds")),
        seconds(of(runs, "coldP99Seconds")),
        seconds(of(runs, "warmP50Seconds")),
        seconds(of(runs, "warmP99Seconds")),
        (of(runs, "gbSecondsPer1000Deliveries") as number).toFixed(3),
        (of(runs, "coldGbSeconds") as number).toFixed(3),
      ]),
    ),
  );
}

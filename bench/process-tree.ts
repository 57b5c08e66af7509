/**
 * CPU time and memory of a process and all its descendants, from Linux's `/proc/{pid}/stat`
 * (proc(5): fields 14-17 are utime, stime, cutime, cstime in clock ticks; 24 is RSS in pages), so
 * a server that runs its handlers in threads, child processes it keeps, or a process per
 * invocation is measured whole: an exited child's time is in its parent's cutime once reaped.
 * Elsewhere than Linux the figures are `NaN`.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = Number(safely(() => execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }), "100"));
const PAGE_BYTES = Number(safely(() => execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }), "4096"));

function safely(read: () => string, fallback: string): string {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
}

interface ProcessStat {
  pid: number;
  ppid: number;
  cpuTicks: number;
  rssPages: number;
}

function stat(pid: number): ProcessStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name, in parentheses, may hold spaces: fields count from after its last `)`.
    const fields = text
      .slice(text.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    const at = (field: number) => fields[field - 3] as number;
    return { pid, ppid: at(4), cpuTicks: at(14) + at(15) + at(16) + at(17), rssPages: at(24) };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** The processes `roots` and every descendant, as now. */
function tree(roots: readonly number[]): ProcessStat[] {
  let all: ProcessStat[];
  try {
    all = readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map((name) => stat(Number(name)))
      .filter((entry): entry is ProcessStat => entry !== undefined);
  } catch {
    return [];
  }
  const inTree = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of all) {
      if (!inTree.has(entry.pid) && inTree.has(entry.ppid)) {
        inTree.add(entry.pid);
        grew = true;
      }
    }
  }
  return all.filter((entry) => inTree.has(entry.pid));
}

/** Samples the tree under `roots` every `everyMs`: its peak RSS, and its CPU seconds since `start`. */
export function watchProcessTree(roots: readonly number[], everyMs = 250) {
  const sample = () => {
    const processes = tree(roots);
    return {
      cpuSeconds: processes.reduce((sum, entry) => sum + entry.cpuTicks, 0) / TICKS_PER_SECOND,
      rssMb: (processes.reduce((sum, entry) => sum + entry.rssPages, 0) * PAGE_BYTES) / 2 ** 20,
      count: processes.length,
    };
  };
  const supported = process.platform === "linux";
  let startCpu = supported ? sample().cpuSeconds : Number.NaN;
  let peakRssMb = 0;
  let peakProcesses = 0;
  const timer = setInterval(() => {
    const now = sample();
    peakRssMb = Math.max(peakRssMb, now.rssMb);
    peakProcesses = Math.max(peakProcesses, now.count);
  }, everyMs);
  return {
    /** Counts CPU from now on, and the peaks afresh. */
    restart() {
      if (supported) startCpu = sample().cpuSeconds;
      peakRssMb = 0;
      peakProcesses = 0;
    },
    read() {
      if (!supported) return { cpuSeconds: Number.NaN, peakRssMb: Number.NaN, peakProcesses: Number.NaN };
      const now = sample();
      return {
        cpuSeconds: now.cpuSeconds - startCpu,
        peakRssMb: Math.max(peakRssMb, now.rssMb),
        peakProcesses: Math.max(peakProcesses, now.count),
      };
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * A Linux CPU quota standing in for Lambda's CPU share: Lambda gives a function CPU in proportion
 * to its memory, one vCPU at 1,769 MB ("at 1,769 MB, a function has the equivalent of one vCPU",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). A child process is held
 * to memory/1,769 of a core by a cgroup, so this needs Linux and root.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export const ONE_VCPU_MB = 1769;
const CGROUP_ROOT = "/sys/fs/cgroup";

/** A cgroup holding its processes to `cpus` of one core (cgroup v2 `cpu.max`, or v1 CFS quota). */
function cpuQuotaGroup(name: string, cpus: number): { procsFile: string; remove(): void } {
  const period = 100_000;
  const quota = Math.round(period * cpus);
  const v2 = existsSync(path.join(CGROUP_ROOT, "cgroup.controllers"));
  const dir = v2 ? path.join(CGROUP_ROOT, name) : path.join(CGROUP_ROOT, "cpu", name);
  try {
    mkdirSync(dir, { recursive: true });
    if (v2) writeFileSync(path.join(dir, "cpu.max"), `${quota} ${period}`);
    else {
      writeFileSync(path.join(dir, "cpu.cfs_period_us"), String(period));
      writeFileSync(path.join(dir, "cpu.cfs_quota_us"), String(quota));
    }
  } catch (error) {
    throw new Error(`cannot set a CPU quota in ${dir} (this needs Linux cgroups and root): ${String(error)}`);
  }
  return { procsFile: path.join(dir, v2 ? "cgroup.procs" : "tasks"), remove: () => rmdirSync(dir) };
}

let groups = 0;

/**
 * Spawns `command` held to the CPU of a `memoryMb` Lambda: the shell joins the group first, then
 * becomes the command, so it never runs outside the quota. The group goes when the child exits.
 */
export function spawnWithLambdaCpu(memoryMb: number, command: string[], options: SpawnOptions): ChildProcess {
  const group = cpuQuotaGroup(`lambda-cpu-${memoryMb}-${process.pid}-${groups++}`, memoryMb / ONE_VCPU_MB);
  const child = spawn("sh", ["-c", `echo $$ > ${group.procsFile} && exec "$@"`, "sh", ...command], options);
  child.once("close", () => {
    try {
      group.remove();
    } catch (error) {
      process.stderr.write(`the CPU quota group was not removed: ${String(error)}\n`);
    }
  });
  return child;
}

/**
 * Runs `node {execArgv} {script} {args}` held to the CPU of a `memoryMb` Lambda, `input` on its
 * stdin; resolves its stdout.
 */
export async function runWithLambdaCpu(memoryMb: number, script: string, args: string[], input = ""): Promise<string> {
  const child = spawnWithLambdaCpu(memoryMb, [process.execPath, ...process.execArgv, script, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  return await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child exited with ${code}`))));
    child.stdin?.end(input);
  });
}

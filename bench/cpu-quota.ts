/**
 * A Linux CPU quota standing in for Lambda's CPU share: Lambda gives a function CPU in proportion
 * to its memory, one vCPU at 1,769 MB ("at 1,769 MB, a function has the equivalent of one vCPU",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). A child process is held
 * to memory/1,769 of a core by a cgroup, so this needs Linux and root.
 */
import { spawn } from "node:child_process";
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

/**
 * Runs `node {execArgv} {script} {args}` held to the CPU of a `memoryMb` Lambda, `input` on its
 * stdin; resolves its stdout. The shell joins the group first, then becomes node: the child never
 * runs outside the quota.
 */
export async function runWithLambdaCpu(memoryMb: number, script: string, args: string[], input = ""): Promise<string> {
  const group = cpuQuotaGroup(`lambda-cpu-${memoryMb}-${process.pid}`, memoryMb / ONE_VCPU_MB);
  try {
    const child = [process.execPath, ...process.execArgv, script, ...args];
    return await new Promise<string>((resolve, reject) => {
      const shell = spawn("sh", ["-c", `echo $$ > ${group.procsFile} && exec "$@"`, "sh", ...child], {
        stdio: ["pipe", "pipe", "inherit"],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      });
      let stdout = "";
      shell.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk;
      });
      shell.on("error", reject);
      shell.on("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child exited with ${code}`))));
      shell.stdin.end(input);
    });
  } finally {
    group.remove();
  }
}

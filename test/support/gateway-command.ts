/**
 * The gateway's command run as a user runs it, in a child process of its own (a process group, so a
 * test can signal it and everything it started): its output kept, waited on for a line it prints.
 */
import { spawn } from "node:child_process";
import path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
/** The package's `websocket-gateway` command, as `npx websocket-gateway` runs it. */
export const GATEWAY_BIN = path.join(ROOT, "bin", "websocket-gateway.cjs");

export function runCommand(command: string, args: string[], cwd = ROOT) {
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
  // "close" comes once every process holding the output pipes has exited, the gateway included.
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const printed = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
      };
      check();
      for (const stream of [child.stdout, child.stderr]) stream.on("data", check);
      void exited.then(() => reject(new Error(`exited before printing ${pattern}:\n${output}`)));
    });
  /** SIGTERM to the command and what it started; resolves once it has exited. */
  const stop = async () => {
    if (child.exitCode === null) process.kill(-(child.pid as number), "SIGTERM");
    await exited;
  };
  return { child, exited, printed, stop, output: () => output };
}

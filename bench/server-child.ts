/** Stopping a benchmark server run as a child process (`server.ts`, forked with IPC). */
import type { ChildProcess } from "node:child_process";

/**
 * Asks the child to stop (it closes every socket and runs their `$disconnect` first) and resolves
 * once it has exited; never waits more than 10 s before killing it.
 */
export function stopServerChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.send("stop");
  });
}

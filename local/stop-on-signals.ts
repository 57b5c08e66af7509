/**
 * A command's clean stop: on Ctrl-C, SIGTERM, SIGHUP, or when the process that started it is gone
 * (an IDE's stop button or a process manager signals npm, which exits without passing the signal
 * on), the gateway closes its connections, runs their `$disconnect` and exits.
 */

/** How often the server checks that its parent (npm) still runs. */
const PARENT_CHECK_MS = 500;

interface Closable {
  connectionCount(): number;
  close(): Promise<void>;
}

export function stopOnSignals(gateway: Closable): void {
  let stopping = false;
  const stop = (signal: string) => {
    // A second Ctrl-C while stopping: the user does not want to wait.
    if (stopping) {
      if (signal === "SIGINT" || signal === "SIGTERM") process.exit(1);
      return;
    }
    stopping = true;
    console.log(`${signal}: closing ${gateway.connectionCount()} connection(s)...`);
    gateway.close().then(
      () => {
        console.log("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error("Stopping failed:", error);
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => stop(signal));
  // Under `npm run` only (a server started in the background on purpose outlives its shell):
  // an orphan is adopted by another process, so its parent id changes.
  if (process.env.npm_lifecycle_event) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop(`parent process ${parent} exited`);
    }, PARENT_CHECK_MS).unref();
  }
}

/**
 * What every gateway this package starts shares in its life: listening on its address, the work in
 * flight (invocations, handshakes) that closing waits for, and the order it closes in.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ConnectionRegistry, GOING_AWAY } from "./api-gateway/connection-registry";

/** The gateway's work in flight (invocations, handshakes), so that closing waits for it. */
export class WorkInFlight {
  readonly running = new Set<Promise<unknown>>();
  closing: Promise<void> | undefined;
  readonly track = <T>(work: Promise<T>): Promise<T> => {
    this.running.add(work);
    const done = () => this.running.delete(work);
    work.then(done, done);
    return work;
  };
}

/** Listens on `host:port` (0: a free port); resolves with the port. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

interface ClosingSteps {
  /** Stops what starts work of its own (Lambda's asynchronous invocations). */
  stopNewWork?(): void;
  /** Once no connection and no work is left, before the last sockets are cut (table upkeep). */
  whenIdle?(): Promise<void>;
  /** After the server has closed (the embedded DynamoDB). */
  afterServer?(): Promise<void>;
}

/**
 * Closes a gateway once, however often it is asked: no new handshake, every connection closed with
 * 1001 and its `$disconnect` run, the work in flight waited for, then the server and what it used.
 */
export function closeGateway(
  server: Server,
  registry: ConnectionRegistry,
  work: WorkInFlight,
  steps: ClosingSteps,
): Promise<void> {
  work.closing ??= (async () => {
    server.close();
    steps.stopNewWork?.();
    // Handshakes whose $connect is still running are refused when it returns (`closing`);
    // until none is left, close what is open and wait for what runs.
    while (registry.size > 0 || work.running.size > 0) {
      await registry.closeAll(GOING_AWAY.code, GOING_AWAY.reason);
      await Promise.allSettled([...work.running]);
    }
    await steps.whenIdle?.();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await steps.afterServer?.();
  })();
  return work.closing;
}

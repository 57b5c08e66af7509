/**
 * The embedded DynamoDB (dynalite, in memory) that `npm run local` and the tests start when no
 * DynamoDB is named, on a free port of the loopback address.
 */
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import dynalite from "dynalite";

export interface EmbeddedDynamoDB {
  /** `http://127.0.0.1:{port}`, for `DYNAMODB_ENDPOINT_URL` or an SDK client's `endpoint`. */
  endpoint: string;
  /** Lets the requests under way finish, then stops the server and drops every table. */
  close(): Promise<void>;
}

/** How long `close` waits for requests under way before it cuts their connections. */
const DRAIN_MS = 5_000;

/**
 * dynalite 4 ends its read streams with `iterator.return()`, which abstract-level's iterators do
 * not have: every Scan and Query left its iterator open in the database, and with it a snapshot of
 * the table as it was, so every row deleted since stayed in memory (about 10 MB a minute under
 * the churn soak). Give the iterators the `return` that closes them.
 */
function closeIteratorsOnReturn(): void {
  const memoryLevel = require.resolve("memory-level", { paths: [path.dirname(require.resolve("dynalite"))] });
  const abstractLevel = require(require.resolve("abstract-level", { paths: [path.dirname(memoryLevel)] })) as Record<
    string,
    { prototype: { return?: () => Promise<void>; close(): Promise<void> } }
  >;
  for (const name of ["AbstractIterator", "AbstractKeyIterator", "AbstractValueIterator"]) {
    const prototype = abstractLevel[name]?.prototype;
    if (prototype && typeof prototype.return !== "function") {
      prototype.return = function (this: { close(): Promise<void> }) {
        return this.close();
      };
    }
  }
}

/**
 * An in-memory DynamoDB (dynalite) in this process on loopback; `port` 0 picks a free port.
 * Tables become ACTIVE at once, so tests need not wait.
 */
export async function startEmbeddedDynamoDB(port = 0): Promise<EmbeddedDynamoDB> {
  closeIteratorsOnReturn();
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Requests whose response has not been ended yet. dynalite finishes a request even when its
  // client has gone, and a database closed under it throws where nothing can catch it.
  let active = 0;
  let drained: (() => void) | undefined;
  server.prependListener("request", (_request, response: ServerResponse) => {
    active++;
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.end = ((...args: unknown[]) => {
      active--;
      if (active === 0) drained?.();
      return end(...args);
    }) as ServerResponse["end"];
  });
  // Node closes a connection idle for 5 s; a client that picks it from its pool at that moment gets
  // ECONNRESET, which no real DynamoDB would cause so often. Idle connections stay until `close`.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port: actualPort } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${actualPort}`,
    close: async () => {
      // dynalite closes its database as soon as the last connection is gone, even while a request
      // whose client has left is still at work: let those finish first.
      if (active > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, DRAIN_MS).unref();
        });
      }
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      // SDK clients keep connections alive; without this, close waits for them to time out.
      server.closeAllConnections();
      await closed;
    },
  };
}

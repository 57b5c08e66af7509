import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

export interface EmbeddedDynamoDB {
  /** `http://127.0.0.1:{port}`, for `DYNAMODB_ENDPOINT_URL` or an SDK client's `endpoint`. */
  endpoint: string;
  /** Stops the server and drops every table. */
  close(): Promise<void>;
}

/**
 * An in-memory DynamoDB (dynalite) in this process on loopback; `port` 0 picks a free port.
 * Tables become ACTIVE at once, so tests need not wait.
 */
export async function startEmbeddedDynamoDB(port = 0): Promise<EmbeddedDynamoDB> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
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
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

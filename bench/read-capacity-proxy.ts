/**
 * An HTTPS proxy in front of the embedded DynamoDB that counts the read units a function's package
 * consumes, without touching the package (which reaches it over TLS, as it reaches AWS's DynamoDB,
 * handshake included): each Query and GetItem is forwarded asking for its
 * consumed capacity (`ReturnConsumedCapacity: TOTAL`), and the answer's units are recorded with
 * when the request arrived. It runs in the benchmark's process, so its work is not charged to the
 * function's CPU share. A Query that finds nothing is billed half a unit on AWS; the embedded
 * DynamoDB says 0, so it counts 0.5.
 */
import { request as httpRequest, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface ReadCapacityProxy {
  /** Where the functions' DynamoDB client should send its requests. */
  endpoint: string;
  /** Read units of the requests that arrived in `[from, to]` (ms since the epoch). */
  readUnits(from: number, to: number): number;
  close(): Promise<void>;
}

const READS = /\.(Query|GetItem)$/;

const bodyOf = (message: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on("data", (chunk: Buffer) => chunks.push(chunk));
    message.on("end", () => resolve(Buffer.concat(chunks)));
    message.on("error", reject);
  });

/** Proxies to `target` (the embedded DynamoDB, over HTTP) on HTTPS with `tls`'s certificate. */
export async function startReadCapacityProxy(
  target: string,
  tls: { key: string; cert: string },
): Promise<ReadCapacityProxy> {
  const reads: [number, number][] = [];
  const upstream = new URL(target);
  const listener: RequestListener = async (incoming, outgoing) => {
    const arrived = performance.timeOrigin + performance.now();
    const operation = READS.exec(String(incoming.headers["x-amz-target"] ?? ""))?.[1];
    let body = await bodyOf(incoming);
    if (operation)
      body = Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), ReturnConsumedCapacity: "TOTAL" }));
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, "content-length": String(body.length) },
      },
      async (answer) => {
        const answered = await bodyOf(answer);
        if (operation && answer.statusCode === 200) {
          const units = (JSON.parse(answered.toString()) as { ConsumedCapacity?: { CapacityUnits?: number } })
            .ConsumedCapacity?.CapacityUnits;
          reads.push([arrived, units ? units : operation === "Query" ? 0.5 : 0]);
        }
        const { "transfer-encoding": _chunked, ...headers } = answer.headers;
        outgoing.writeHead(answer.statusCode ?? 500, { ...headers, "content-length": String(answered.length) });
        outgoing.end(answered);
      },
    );
    forwarded.on("error", (error) => outgoing.destroy(error));
    forwarded.end(body);
  };
  const server: Server = createServer(tls, listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}`,
    readUnits: (from, to) => reads.filter(([at]) => at >= from && at <= to).reduce((sum, [, units]) => sum + units, 0),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

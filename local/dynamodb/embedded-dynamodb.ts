/**
 * The embedded DynamoDB: dynalite in this process, on loopback. Before dynalite sees a request,
 * requests from web pages are refused (local safety: `../browser-guard.ts`; the AWS SDK never
 * sends an `Origin`), and a gate, when given, decides the rest as DynamoDB's front door would
 * (the gateway's: the signature and IAM, `./dynamodb-authorization.ts`).
 */

import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { crc32 } from "node:zlib";
import dynalite from "dynalite";
import { hostAllowed } from "../browser-guard";

export interface EmbeddedDynamoDB {
  /** `http://127.0.0.1:{port}`, for `DYNAMODB_ENDPOINT_URL` or an SDK client's `endpoint`. */
  endpoint: string;
  /** Lets the requests under way finish, then stops the server and drops every table. */
  close(): Promise<void>;
}

/** How long `close` waits for requests under way before it cuts their connections. */
const DRAIN_MS = 5_000;
/** dynalite's own limit on a request's body. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** A request, its body read, as a gate sees it. */
export interface BufferedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The connection it came on (the same object for every request of a keep-alive connection). */
  socket: object;
}

/** A gate's answer to a request it refuses: a status, DynamoDB's JSON error (`__type`, message). */
export interface GateAnswer {
  status: number;
  body: object;
}

/** Decides a request before DynamoDB sees it: an answer refuses it, `undefined` lets it through. */
export type RequestGate = (request: BufferedRequest) => Promise<GateAnswer | undefined>;

export interface EmbeddedDynamoDBOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  gate?: RequestGate;
  /** Host names taken besides `localhost` and addresses: AWS's own, which no page can rebind. */
  allowedHosts?: readonly string[];
  /** Where refused browser requests are told of. */
  log?: (line: string) => void;
}

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
 * An in-memory DynamoDB (dynalite) in this process on loopback. Tables become ACTIVE at once, so
 * tests need not wait.
 */
export async function startEmbeddedDynamoDB(options: EmbeddedDynamoDBOptions = {}): Promise<EmbeddedDynamoDB> {
  closeIteratorsOnReturn();
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const [dynaliteHandler] = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    guarded(request, response, dynaliteHandler as NonNullable<typeof dynaliteHandler>, options).catch(() => {
      // The client went away mid-body, or the gate failed: end the answer (so closing need not wait for it).
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
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
    server.listen(options.port ?? 0, "127.0.0.1", () => {
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

/**
 * Refuses a page's request, then reads the body and asks the gate, then hands the request to
 * dynalite with its body replayed.
 */
async function guarded(
  request: IncomingMessage,
  response: ServerResponse,
  dynaliteHandler: (req: IncomingMessage, res: ServerResponse) => void,
  { gate, log, allowedHosts }: EmbeddedDynamoDBOptions,
): Promise<void> {
  const { host, origin } = request.headers;
  const why = !hostAllowed(host, { allowedHosts })
    ? `Host ${JSON.stringify(host ?? "")} is not this machine's (a DNS-rebinding page?)`
    : origin !== undefined
      ? `a web page's request (Origin ${JSON.stringify(origin)}); the AWS SDK sends none`
      : undefined;
  if (why) {
    // No CORS headers, no preflight echoed: the page learns nothing, not even that this is DynamoDB.
    log?.(`embedded DynamoDB refused ${request.method} ${request.url}: ${why}`);
    request.resume();
    response.writeHead(403, { "content-type": "text/plain" }).end("Forbidden");
    return;
  }
  const body = await readBody(request);
  if (!body) {
    response.writeHead(413).end();
    return;
  }
  const refused =
    gate &&
    (await gate({
      method: request.method ?? "GET",
      url: request.url ?? "/",
      headers: request.headers,
      body,
      socket: request.socket,
    }));
  if (refused) {
    const json = JSON.stringify(refused.body);
    response.writeHead(refused.status, {
      "x-amzn-RequestId": randomRequestId(),
      "x-amz-crc32": String(crc32(json)),
      "content-type": "application/x-amz-json-1.0",
      "content-length": Buffer.byteLength(json),
    });
    response.end(json);
    return;
  }
  // dynalite reads the body from `data` and `end` events: the request's own, told again.
  dynaliteHandler(request, response);
  if (body.length > 0) request.emit("data", body);
  request.emit("end");
}

/** The request's body, or `undefined` past dynalite's limit. */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.once("end", () => resolve(size > MAX_REQUEST_BYTES ? undefined : Buffer.concat(chunks, size)));
    request.once("error", reject);
  });
}

/** DynamoDB's request ids: 52 characters of upper-case letters and digits. */
function randomRequestId(): string {
  return randomBytes(39).toString("base64").toUpperCase().replace(/[+/=]/g, "0");
}

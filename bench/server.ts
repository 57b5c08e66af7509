/**
 * The server side of the benchmarks, in a process of its own so its CPU time and memory are
 * measured apart from the clients'. Started by bench/broadcast.ts and bench/soak.ts over IPC:
 * `{ kind: "gateway" | "limit", postLatencyMs, broadcastConcurrency, realLimits }` in, `{ url }`
 * out; then "stats" answers `{ cpuMs, peakRssMb, handlerMs[] }`, "sample" answers a
 * {@link ServerSample} and "stop" ends it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { startLocalGateway } from "../local/express-server";

export interface ServerRequest {
  kind: "gateway" | "limit";
  postLatencyMs: number;
  broadcastConcurrency?: number;
  /** API Gateway's and Lambda's own limits and the handlers' default settings (the soak); else the benchmark's long timeouts. */
  realLimits?: boolean;
}

export interface ServerStats {
  cpuMs: number;
  peakRssMb: number;
  /** Duration of each sendmessage invocation (what Lambda would bill), gateway only. */
  handlerMs: number[];
}

/** What the soak asks for every few seconds. */
export interface ServerSample {
  rssMb: number;
  /** CPU time since the server started, user and system. */
  cpuMs: number;
  /** Connections open at the server right now. */
  connectionCount: number;
  /** The gateway's DynamoDB and connections table (empty for the limit), and the keys it takes there. */
  dynamodbEndpoint: string;
  tableName: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Invocations per route key, and those that did not answer 200, from the execution log. */
  invocations: Record<string, number>;
  failures: number;
  /** The failures by what the log says of them: `throttled`, `function-timeout`, `error`, ... */
  failureKinds: Record<string, number>;
  /** The last few failed invocations' log lines, to say what went wrong. */
  failureLines: string[];
}

interface RunningServer {
  url: string;
  connectionCount(): number;
  dynamodbEndpoint?: string;
  tableName?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

/** The limit: a bare `ws` server that parses the same request and sends one frame to every client. */
async function startLimitServer(): Promise<RunningServer> {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket) => {
    socket.on("message", (raw: Buffer) => {
      const request = JSON.parse(raw.toString()) as { data: string; name?: string };
      const frame = Buffer.from(
        JSON.stringify({
          type: "message",
          connectionId: "limit",
          name: request.name,
          data: request.data,
          sentAt: new Date().toISOString(),
        }),
      );
      for (const client of wss.clients) client.send(frame, { binary: false });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    connectionCount: () => wss.clients.size,
    close: () =>
      new Promise((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const request = await new Promise<ServerRequest>((resolve) => process.once("message", resolve));
  const handlerMs: number[] = [];
  const invocations: Record<string, number> = {};
  const failureLines: string[] = [];
  const failureKinds: Record<string, number> = {};
  let failures = 0;
  const started = process.cpuUsage();
  const server: RunningServer =
    request.kind === "limit"
      ? await startLimitServer()
      : await startLocalGateway({
          port: 0,
          managementLatencyMs: request.postLatencyMs,
          ...(!request.realLimits && {
            functionEnvironment: { BROADCAST_CONCURRENCY: request.broadcastConcurrency?.toString() },
            limits: { functionTimeoutMs: 900_000, integrationTimeoutMs: 900_000 },
          }),
          log: (line) => {
            const match = / sendmessage connection=\S+ status=\d+ ([\d.]+) ms/.exec(line);
            // The soak never asks for "stats": without this its memory would grow for nothing.
            if (match && !request.realLimits) handlerMs.push(Number(match[1]));
            // Invocation lines only: the gateway's other lines (rows removed, TTL) are no failures.
            const invocation = /\) (\S+) connection=\S+ status=(\d+)/.exec(line);
            if (!invocation) return;
            const route = invocation[1] as string;
            invocations[route] = (invocations[route] ?? 0) + 1;
            if (invocation[2] !== "200") {
              failures++;
              const kind = / ms(?: \(cold start\))? ([\w-]+)/.exec(line)?.[1] ?? "other";
              failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
              // Bounded: a soak may log thousands of these.
              failureLines.push(line);
              if (failureLines.length > 5) failureLines.shift();
            }
          },
        });
  process.on("message", async (message: string) => {
    if (message === "stats") {
      const cpu = process.cpuUsage(started);
      const stats: ServerStats = {
        cpuMs: (cpu.user + cpu.system) / 1000,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        handlerMs: handlerMs.splice(0),
      };
      process.send?.(stats);
    } else if (message === "sample") {
      const cpu = process.cpuUsage(started);
      const sample: ServerSample = {
        rssMb: process.memoryUsage.rss() / 2 ** 20,
        cpuMs: (cpu.user + cpu.system) / 1000,
        connectionCount: server.connectionCount(),
        dynamodbEndpoint: server.dynamodbEndpoint ?? "",
        tableName: server.tableName ?? "",
        ...(server.credentials && { credentials: server.credentials }),
        invocations,
        failures,
        failureKinds,
        failureLines,
      };
      process.send?.(sample);
    } else if (message === "stop") {
      await server.close();
      process.exit(0);
    }
  });
  process.send?.({ url: server.url });
}

void main();

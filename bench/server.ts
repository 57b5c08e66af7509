/**
 * The server side of the broadcast benchmark, in a process of its own so its CPU time and memory
 * are measured apart from the clients'. Started by bench/broadcast.ts over IPC:
 * `{ kind: "gateway" | "limit", postLatencyMs, broadcastConcurrency }` in, `{ url }` out; then
 * "stats" answers `{ cpuMs, peakRssMb, handlerMs[] }` and "stop" ends it.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { startLocalGateway } from "../local/express-server";

export interface ServerRequest {
  kind: "gateway" | "limit";
  postLatencyMs: number;
  broadcastConcurrency?: number;
}

export interface ServerStats {
  cpuMs: number;
  peakRssMb: number;
  /** Duration of each sendmessage invocation (what Lambda would bill), gateway only. */
  handlerMs: number[];
}

/** The limit: a bare `ws` server that parses the same request and sends one frame to every client. */
async function startLimitServer(): Promise<{ url: string; close(): Promise<void> }> {
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
  const started = process.cpuUsage();
  const server =
    request.kind === "limit"
      ? await startLimitServer()
      : await startLocalGateway({
          port: 0,
          managementLatencyMs: request.postLatencyMs,
          functionEnvironment: { BROADCAST_CONCURRENCY: request.broadcastConcurrency?.toString() },
          limits: { functionTimeoutMs: 900_000, integrationTimeoutMs: 900_000 },
          log: (line) => {
            const match = / sendmessage connection=\S+ status=\d+ ([\d.]+) ms/.exec(line);
            if (match) handlerMs.push(Number(match[1]));
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
    } else if (message === "stop") {
      await server.close();
      process.exit(0);
    }
  });
  process.send?.({ url: server.url });
}

void main();

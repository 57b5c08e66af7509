/**
 * The soak's view of the server (bench/soak.ts): the local gateway in a child process of its own
 * (bench/server.ts, with API Gateway's and Lambda's real limits), so its RSS and CPU are measured
 * apart from the clients', and its connections table, read with the real SDK client.
 */
import { fork } from "node:child_process";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { ServerRequest, ServerSample } from "./server";
import { stopServerChild } from "./server-child";

interface SoakServer {
  url: string;
  sample(): Promise<ServerSample>;
  /** Rows in the gateway's connections table right now. */
  rows(): Promise<number>;
  stop(): Promise<void>;
}

/** Only loopback: the soak must never reach anything off this machine. */
function assertLoopback(url: string): void {
  if (new URL(url).hostname !== "127.0.0.1") throw new Error(`refusing a server not on 127.0.0.1: ${url}`);
}

/** Starts the gateway; `onExit` runs if its process ends before `stop()` (a crash). */
export async function startSoakServer(onExit: (code: number | null, signal: string | null) => void) {
  const child = fork(path.join(__dirname, "server.ts"), [], {
    execArgv: ["--require", "tsx/cjs"],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    // Its stderr stays visible: a crash's stack trace, the handlers' warnings.
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  // Replies come in the order of the requests: a queue, not a listener per request.
  const waiting: Array<{ resolve: (reply: unknown) => void; reject: (error: Error) => void }> = [];
  let stopping = false;
  child.on("message", (reply) => waiting.shift()?.resolve(reply));
  child.once("exit", (code, signal) => {
    for (const request of waiting.splice(0)) request.reject(new Error(`gateway process exited with ${code ?? signal}`));
    if (!stopping) onExit(code, signal);
  });
  const ask = <T>(message: unknown) =>
    new Promise<T>((resolve, reject) => {
      waiting.push({ resolve: (reply) => resolve(reply as T), reject });
      child.send(message as string);
    });

  const request: ServerRequest = { kind: "gateway", postLatencyMs: 0, realLimits: true };
  const { url } = await ask<{ url: string }>(request);
  assertLoopback(url);
  const first = await ask<ServerSample>("sample");
  assertLoopback(first.dynamodbEndpoint);
  // The SDK warns about Node 20 once per process; the child already has this set.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const table = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: first.dynamodbEndpoint,
      region: "us-east-1",
      credentials: first.credentials,
    }),
  );

  const server: SoakServer = {
    url,
    sample: () => ask<ServerSample>("sample"),
    rows: async () => {
      let rows = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await table.send(
          // Connections' rows only: a membership's key is `{connectionId}#{room}`.
          new ScanCommand({
            TableName: first.tableName,
            Select: "COUNT",
            FilterExpression: "NOT contains(connectionId, :membership)",
            ExpressionAttributeValues: { ":membership": "#" },
            ExclusiveStartKey: start,
          }),
        );
        rows += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return rows;
    },
    stop: () => {
      stopping = true;
      table.destroy();
      return stopServerChild(child);
    },
  };
  return { server, kill: () => child.kill("SIGKILL") };
}

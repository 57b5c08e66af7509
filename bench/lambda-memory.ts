/**
 * What one broadcast costs in Lambda at each memory size: `npm run bench:memory [-- options]`.
 *
 * Lambda gives a function CPU in proportion to its memory (1,769 MB is one vCPU). This runs the real
 * `sendmessage` handler with the real SDK clients in a child process held to memory/1,769 of a core
 * by a Linux CPU quota (a cgroup, so it needs root), against the embedded DynamoDB in this process
 * holding N connection rows, with every PostToConnection answered after L ms as AWS's would be.
 * Prints each memory size's cold and warm broadcast times and the GB-seconds Lambda would bill.
 *
 * Options: --connections N (2000) --post-latency-ms L (20) --concurrency C (the handler's default)
 * --broadcasts B (6, the first cold) --memory 256,512,1024,1769
 */
import { parseArgs } from "node:util";
import { createSendMessageHandler } from "../functions/handlers/sendmessage";
import { readFunctionConfig } from "../functions/runtime/function-config";
import { createHandlerDependencies, createManagementApi } from "../functions/runtime/handler-dependencies";
import type { LambdaContext, WebSocketEvent } from "../functions/runtime/lambda-events";
import { prepareConnectionsTable } from "../local/chat/tables";
import { startEmbeddedDynamoDB } from "../local/dynamodb/embedded-dynamodb";
import { ONE_VCPU_MB, runWithLambdaCpu } from "./cpu-quota";
import { memberItems } from "./room-members";

const TABLE = "lambda-memory-bench";

const { values: args } = parseArgs({
  options: {
    connections: { type: "string", default: "2000" },
    "post-latency-ms": { type: "string", default: "20" },
    concurrency: { type: "string" },
    broadcasts: { type: "string", default: "6" },
    memory: { type: "string", default: "256,512,1024,1769" },
    child: { type: "string" },
  },
});

const int = (name: string, value: string | undefined): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name} must be a positive whole number, got ${value}`);
  return parsed;
};

function functionEnvironment(dynamodbEndpoint: string): Record<string, string | undefined> {
  return {
    TABLE_NAME: TABLE,
    MESSAGES_TABLE_NAME: `${TABLE}-messages`,
    DYNAMODB_ENDPOINT_URL: dynamodbEndpoint,
    MANAGEMENT_ENDPOINT_URL: "https://local.execute-api.us-east-1.amazonaws.com/dev",
    BROADCAST_CONCURRENCY: args.concurrency,
  };
}

/** The child: the handler as Lambda would build it, its posts answered after the latency. */
async function runBroadcasts(dynamodbEndpoint: string): Promise<void> {
  const latencyMs = int("post-latency-ms", args["post-latency-ms"]);
  const config = readFunctionConfig(functionEnvironment(dynamodbEndpoint));
  const awsLikeTransport = {
    metadata: { handlerProtocol: "http/1.1" },
    async handle() {
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      return { response: { statusCode: 200, headers: {}, body: new Uint8Array() } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  const handler = createSendMessageHandler({
    ...createHandlerDependencies(config),
    managementApi: createManagementApi(config, awsLikeTransport),
  });
  const event = {
    requestContext: { connectionId: "c0", requestId: "bench", apiId: "local", stage: "dev" },
    body: JSON.stringify({ action: "sendmessage", data: "hello" }),
    isBase64Encoded: false,
  } as WebSocketEvent;
  const context = { getRemainingTimeInMillis: () => 10_000 } as LambdaContext;
  const durations: number[] = [];
  for (let i = 0; i < int("broadcasts", args.broadcasts); i++) {
    const started = performance.now();
    const result = await handler(event, context);
    durations.push(performance.now() - started);
    const { delivered } = JSON.parse(result.body ?? "{}") as { delivered?: number };
    if (delivered !== int("connections", args.connections)) throw new Error(`delivered ${delivered}: ${result.body}`);
  }
  process.stdout.write(JSON.stringify(durations));
}

async function main(): Promise<void> {
  if (args.child) return runBroadcasts(args.child);

  const connections = int("connections", args.connections);
  const memorySizes = (args.memory ?? "").split(",").map((size) => int("memory", size));
  const db = await startEmbeddedDynamoDB();
  try {
    const deps = createHandlerDependencies(readFunctionConfig(functionEnvironment(db.endpoint)));
    await prepareConnectionsTable(deps.config, deps.connections, new Set());
    for (let i = 0; i < connections; i++) {
      const [row, membership] = memberItems({ apiId: "local", stage: "dev", room: "lobby" }, `c${i}`);
      await Promise.all([deps.connections.put(row), deps.memberships.put(membership)]);
      if ((i + 1) % 500 === 0 || i + 1 === connections) process.stderr.write(`\rtable: ${i + 1}/${connections} rows`);
    }
    process.stderr.write("\n");

    const rows: string[][] = [];
    for (const memorySize of memorySizes) {
      const cpus = memorySize / ONE_VCPU_MB;
      process.stderr.write(`${memorySize} MB (${cpus.toFixed(3)} vCPU): running\n`);
      const output = await runWithLambdaCpu(memorySize, __filename, [...process.argv.slice(2), "--child", db.endpoint]);
      const [cold, ...warm] = JSON.parse(output) as number[];
      warm.sort((a, b) => a - b);
      const median = warm[Math.floor((warm.length - 1) / 2)] ?? Number.NaN;
      rows.push([
        `${memorySize}`,
        cpus.toFixed(3),
        ((cold ?? Number.NaN) / 1000).toFixed(2),
        (median / 1000).toFixed(2),
        ((warm.at(-1) ?? Number.NaN) / 1000).toFixed(2),
        (((memorySize / 1024) * median) / 1000).toFixed(3),
      ]);
    }
    const header = ["memory MB", "vCPU", "cold s", "warm p50 s", "warm max s", "GB-s per warm broadcast"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
    const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] as number)).join("  ");
    console.log(`\n${connections} connections, ${args["post-latency-ms"]} ms per post`);
    console.log(line(header));
    for (const row of rows) console.log(line(row));
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

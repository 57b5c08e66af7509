/**
 * What one chat message costs in DynamoDB, measured: the real `sendmessage` handler behind its
 * budgets (the user's and the address's, as deployed) and the real SDK clients against the
 * embedded DynamoDB, every request asked for its ConsumedCapacity, for rooms of a few
 * sizes with and without thousands online in other rooms. The baseline, measured in the same run
 * on the same table, is the design before rooms: a Scan of every connection for each message.
 *
 * The embedded DynamoDB computes capacity by AWS's rules for items (a read unit per 4 KB, half for
 * an eventually consistent read; a write unit per KB), but returns 0 for a Query that finds
 * nothing, where AWS bills at least one unit (half, eventually consistent): the figures add that
 * minimum. Index writes are billed too, and not measured here: each `$connect` and `$disconnect`
 * writes the `byRoom` index once (under 1 KB: 1 write unit).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 *
 * npm run bench:cost [-- --json]
 */
import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { DynamoDBLimitsStore } from "../dal/limits-table";
import { createSendMessageHandler } from "../functions/handlers/sendmessage";
import { limitedHandler } from "../functions/limits/limited-route";
import { type RouteDefinition, routes } from "../functions/routes";
import type { ConnectionManager } from "../functions/runtime/connection-manager";
import { readFunctionConfig } from "../functions/runtime/function-config";
import { chatRepositories, tablesClient } from "../functions/runtime/handler-dependencies";
import type { WebSocketEvent } from "../functions/runtime/lambda-events";
import { ensureChatTables } from "../local/chat/tables";
import { startEmbeddedDynamoDB } from "../local/dynamodb/embedded-dynamodb";
import { memberItems } from "./room-members";

const ROOM_SIZES = [2, 10, 100, 1000];
const OTHERS_ONLINE = [0, 5000];
const API = { apiId: "costbench1", stage: "dev" };

interface Consumed {
  reads: number;
  writes: number;
  requests: number;
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const db = await startEmbeddedDynamoDB();
  try {
    const config = readFunctionConfig({
      TABLE_NAME: "cost-connections",
      MESSAGES_TABLE_NAME: "cost-messages",
      LIMITS_TABLE_NAME: "cost-limits",
      RATE_LIMITS: "{}",
      DYNAMODB_ENDPOINT_URL: db.endpoint,
      MANAGEMENT_ENDPOINT_URL: "http://127.0.0.1:9/dev",
    });
    await ensureChatTables(config);
    // The handler's own client and repositories, as `createHandlerDependencies` builds them.
    const client = tablesClient(config);
    const { connections, memberships, messages } = chatRepositories(client, config);
    // Every request asks for its capacity; each answer's is added to the running count.
    let consumed: Consumed = { reads: 0, writes: 0, requests: 0 };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        (args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL";
        const result = await next(args);
        const output = result.output as { ConsumedCapacity?: { CapacityUnits?: number } };
        const units = output.ConsumedCapacity?.CapacityUnits ?? 0;
        const name = context.commandName ?? "";
        consumed.requests++;
        if (/Get|Query|Scan/.test(name)) consumed.reads += name.includes("Query") ? Math.max(units, 0.5) : units;
        else consumed.writes += units;
        return result;
      },
      { step: "initialize", name: "consumedCapacity" },
    );
    let posts = 0;
    const manager: ConnectionManager = {
      post: async () => {
        posts++;
      },
      disconnect: async () => {},
    };
    const deps = {
      config,
      connections,
      memberships,
      messages,
      limits: new DynamoDBLimitsStore(client, "cost-limits"),
      managementApi: () => manager,
      now: Date.now,
      logger: console,
    };
    const route = routes.find((candidate) => candidate.routeKey === "sendmessage") as RouteDefinition;
    const handler = limitedHandler(route, createSendMessageHandler(deps), deps);

    const rows: string[][] = [];
    const results: object[] = [];
    for (const size of ROOM_SIZES) await fill(client, `room-${size}`, size);
    for (const others of OTHERS_ONLINE) {
      await fill(client, "elsewhere", others);
      for (const size of ROOM_SIZES) {
        const room = `room-${size}`;
        const sender = `${room}-0`;
        const event = {
          requestContext: {
            connectionId: sender,
            requestId: `r${size}${others}=`,
            apiId: API.apiId,
            stage: API.stage,
            identity: { sourceIp: "198.51.100.7" },
          },
          body: JSON.stringify({ action: "sendmessage", data: "Hello, room! This is a message of a usual length." }),
          isBase64Encoded: false,
        } as WebSocketEvent;
        await handler(event);
        consumed = { reads: 0, writes: 0, requests: 0 };
        posts = 0;
        await handler(event);
        const message = consumed;
        consumed = { reads: 0, writes: 0, requests: 0 };
        for await (const _ of scanAll(client, config.tableName)) {
          // The baseline's read: every row of the table, for one message.
        }
        const scan = consumed;
        rows.push([
          String(size),
          String(others + ROOM_SIZES.reduce((sum, s) => sum + s, 0)),
          String(posts),
          message.reads.toFixed(1),
          message.writes.toFixed(1),
          String(message.requests),
          scan.reads.toFixed(1),
        ]);
        results.push({
          roomSize: size,
          online: others,
          posts,
          reads: message.reads,
          writes: message.writes,
          scanReads: scan.reads,
        });
      }
    }
    const header = ["room", "online", "posts", "reads (RRU)", "writes (WRU)", "requests", "Scan baseline (RRU)"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
    const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] as number)).join("  ");
    console.log("DynamoDB capacity of one sendmessage (measured; a Query bills at least 0.5 RRU)");
    console.log(line(header));
    for (const row of rows) console.log(line(row));
    if (json) console.log(JSON.stringify({ rows: results }));
  } finally {
    await db.close();
  }
}

/** Makes `room` hold `count` connection rows (ids `{room}-{i}`). */
async function fill(client: DynamoDBDocumentClient, room: string, count: number): Promise<void> {
  const items: object[] = [];
  for (let i = 0; i < count; i++) {
    items.push(
      ...memberItems({ ...API, room }, `${room}-${i}`, {
        name: `Member ${i}`,
        sourceIp: "198.51.100.7",
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        expiresAt: Math.floor(Date.now() / 1000) + 7200,
      }),
    );
  }
  for (let i = 0; i < items.length; i += 25) {
    await client.send(
      new BatchWriteCommand({
        RequestItems: { "cost-connections": items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    if (items.length > 1000 && i % 1000 === 0) process.stderr.write(`\r${room}: ${i}/${items.length} rows`);
  }
  if (items.length > 1000) process.stderr.write("\n");
}

async function* scanAll(client: DynamoDBDocumentClient, table: string) {
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: "connectionId",
        FilterExpression: "apiId = :a AND stage = :s",
        ExpressionAttributeValues: { ":a": API.apiId, ":s": API.stage },
        ExclusiveStartKey: start,
      }),
    );
    start = page.LastEvaluatedKey;
    yield page.Items ?? [];
  } while (start);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

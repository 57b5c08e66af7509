/**
 * The rooms the fan-out model broadcasts to: the embedded DynamoDB holding a room of each size,
 * behind the proxy that counts read units (over TLS, with a certificate made for the run), and
 * the environment the functions' packages get.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type FunctionConfig, readFunctionConfig } from "../functions/runtime/function-config";
import { tablesClient } from "../functions/runtime/handler-dependencies";
import { apiGatewayId } from "../local/api-gateway/ids";
import { ensureChatTables } from "../local/chat/tables";
import { startEmbeddedDynamoDB } from "../local/dynamodb/embedded-dynamodb";
import { API } from "./fanout-timeline";
import { type ReadCapacityProxy, startReadCapacityProxy } from "./read-capacity-proxy";
import { memberItems } from "./room-members";

const TABLES = { TABLE_NAME: "fanout-connections", MESSAGES_TABLE_NAME: "fanout-messages" };

export interface Rooms {
  /** Each room's connection ids, by size; the first is the sender. */
  rooms: Map<number, string[]>;
  proxy: ReadCapacityProxy;
  /** What every function's package gets in its environment. */
  env: Record<string, string>;
  /** Writes `items` to the table `env` names so (`TABLE_NAME`, `MESSAGES_TABLE_NAME`). */
  put(table: keyof typeof TABLES, items: Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the embedded DynamoDB holding a room of each of `sizes` (loading 111,000 rows takes a
 * minute or two); with `RATE_LIMITS` and `LIMITS_TABLE_NAME` in `settings`, the limits table too.
 */
export async function startRooms(sizes: number[], settings: Record<string, string> = {}): Promise<Rooms> {
  const db = await startEmbeddedDynamoDB();
  try {
    const config = readFunctionConfig({ ...settings, ...TABLES, DYNAMODB_ENDPOINT_URL: db.endpoint });
    await ensureChatTables(config);
    const rooms = await loadRooms(config, sizes);
    const certificate = selfSignedCertificate();
    const proxy = await startReadCapacityProxy(db.endpoint, certificate);
    return {
      rooms,
      proxy,
      env: {
        ...settings,
        ...TABLES,
        DYNAMODB_ENDPOINT_URL: proxy.endpoint,
        // The functions trust the proxy's certificate, as they trust AWS's.
        NODE_EXTRA_CA_CERTS: certificate.file,
        MANAGEMENT_ENDPOINT_URL: "https://bench.local/dev",
        AWS_REGION: "us-east-1",
      },
      put: async (table, items) => {
        const client = tablesClient(config);
        try {
          await writeItems(client, TABLES[table], [...items]);
        } finally {
          client.destroy();
        }
      },
      close: async () => {
        await proxy.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

/** A certificate for 127.0.0.1, made by `openssl` (RSA 2048, as AWS's endpoints present). */
function selfSignedCertificate(): { key: string; cert: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "bench-tls-"));
  const [key, file] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key, "-out", file],
      ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(key, "utf8"), cert: readFileSync(file, "utf8"), file };
}

async function loadRooms(config: FunctionConfig, sizes: number[]): Promise<Map<number, string[]>> {
  const client = tablesClient(config);
  const rooms = new Map<number, string[]>();
  const total = sizes.reduce((sum, size) => sum + size, 0);
  let written = 0;
  for (const size of sizes) {
    const address = { ...API, room: `room-${size}` };
    const ids = Array.from({ length: size }, apiGatewayId);
    rooms.set(size, ids);
    await writeItems(
      client,
      config.tableName,
      ids.flatMap((connectionId) => memberItems(address, connectionId)),
      (items) => {
        written += items / 2;
        if (written % 5000 < 25 || written === total) process.stderr.write(`\rtable: ${written}/${total} rows`);
      },
    );
  }
  process.stderr.write("\n");
  client.destroy();
  return rooms;
}

/** Writes `items` to `tableName` in DynamoDB batches, eight in flight; `onBatch` hears each batch's count. */
async function writeItems(
  client: DynamoDBDocumentClient,
  tableName: string,
  items: object[],
  onBatch: (count: number) => void = () => {},
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  // 24 items a batch (DynamoDB takes 25 at most): a member's row and membership stay together.
  for (let i = 0; i < items.length; i += 24) {
    batches.push(items.slice(i, i + 24).map((Item) => ({ PutRequest: { Item } })));
  }
  // Eight batches in flight: the embedded DynamoDB takes them one at a time anyway.
  const next = async (): Promise<void> => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let unprocessed: Record<string, unknown[]> | undefined = { [tableName]: batch };
      while (unprocessed && Object.keys(unprocessed).length > 0) {
        unprocessed = (await client.send(new BatchWriteCommand({ RequestItems: unprocessed as never })))
          .UnprocessedItems as never;
      }
      onBatch(batch.length);
    }
  };
  await Promise.all(Array.from({ length: 8 }, next));
}

/**
 * The chat's tables as the local gateway needs them, made as `infra/` declares them unless they
 * exist: the connections table with its `byRoom` index (added to a table made before it), the
 * messages table, both on-demand with TTL turned on where the DynamoDB implements it (AWS,
 * LocalStack). And the connections table rid of rows no live gateway owns.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { Repository } from "../../dal/repository";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE, type Connection } from "../../functions/chat/connection";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, MESSAGES_TTL_ATTRIBUTE } from "../../functions/chat/message";
import { ROOM_INDEX, ROOM_INDEX_ATTRIBUTES, ROOM_INDEX_KEY } from "../../functions/chat/room";
import type { FunctionConfig } from "../../functions/runtime/function-config";

/** A table's keys (string attributes), its index if any, and its TTL attribute. */
export interface TableShape {
  hashKey: string;
  rangeKey?: string;
  index?: { name: string; hashKey: string; rangeKey: string; attributes: readonly string[] };
  ttlAttribute?: string;
}

/** The connections table and its `byRoom` index, as `infra/chat-api.ts` declares them. */
export const CONNECTIONS_TABLE: TableShape = {
  hashKey: CONNECTION_KEY,
  index: { name: ROOM_INDEX, hashKey: ROOM_INDEX_KEY, rangeKey: CONNECTION_KEY, attributes: ROOM_INDEX_ATTRIBUTES },
  ttlAttribute: CONNECTION_TTL_ATTRIBUTE,
};

/** The messages table, as `infra/chat-api.ts` declares it. */
export const MESSAGES_TABLE: TableShape = {
  hashKey: MESSAGES_PARTITION_KEY,
  rangeKey: MESSAGES_RANGE_KEY,
  ttlAttribute: MESSAGES_TTL_ATTRIBUTE,
};

const keySchema = (hashKey: string, rangeKey?: string): KeySchemaElement[] => [
  { AttributeName: hashKey, KeyType: "HASH" },
  ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" as const }] : []),
];

function indexDefinition(index: NonNullable<TableShape["index"]>): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: keySchema(index.hashKey, index.rangeKey),
    Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.attributes] },
  };
}

/** Creates the connections table unless it exists already; returns whether it created it. */
export function ensureConnectionsTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  return ensureTable(client, tableName, CONNECTIONS_TABLE);
}

/**
 * Creates an on-demand table of `shape` (string keys) unless it exists, adds its index if the
 * table lacks it, and waits until both are ACTIVE (a DynamoDB may make them asynchronously);
 * returns whether it created the table. `shape` may be just a hash key's name.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  shape: TableShape | string,
): Promise<boolean> {
  const { hashKey, rangeKey, index } = typeof shape === "string" ? { hashKey: shape } : shape;
  const names = new Set([hashKey, rangeKey, index?.hashKey, index?.rangeKey].filter((name) => name !== undefined));
  const attributes: AttributeDefinition[] = [...names].map((name) => ({ AttributeName: name, AttributeType: "S" }));
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributes,
        KeySchema: keySchema(hashKey, rangeKey),
        ...(index && { GlobalSecondaryIndexes: [indexDefinition(index)] }),
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    if (index) await ensureIndex(client, tableName, attributes, index);
    return false;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  return true;
}

/** Adds `index` to a table made without it (by an earlier version), and waits until it is ACTIVE. */
async function ensureIndex(
  client: DynamoDBClient,
  tableName: string,
  attributes: AttributeDefinition[],
  index: NonNullable<TableShape["index"]>,
): Promise<void> {
  const status = async () =>
    (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.GlobalSecondaryIndexes?.find(
      (existing) => existing.IndexName === index.name,
    )?.IndexStatus;
  if ((await status()) === undefined) {
    const create = (extra: Partial<GlobalSecondaryIndex> = {}) =>
      client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: attributes,
          GlobalSecondaryIndexUpdates: [{ Create: { ...indexDefinition(index), ...extra } }],
        }),
      );
    try {
      await create();
    } catch (error) {
      // An on-demand table's index takes no throughput ("ProvisionedThroughput ... Required: No",
      // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalSecondaryIndexAction.html);
      // the embedded DynamoDB, modelled on an older API, requires it all the same.
      if (!(error instanceof Error && /provisionedThroughput/.test(error.message))) throw error;
      await create({ ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } });
    }
  }
  for (let waited = 0; (await status()) !== "ACTIVE"; waited += 1) {
    if (waited >= 120) throw new Error(`index ${index.name} of table ${tableName} is not ACTIVE after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/**
 * Turns TTL on for `attribute` unless it is on; resolves `false` where the DynamoDB does not
 * implement TTL (the embedded one answers DISABLED and knows no UpdateTimeToLive).
 */
export async function enableTimeToLive(
  client: DynamoDBClient,
  tableName: string,
  attribute: string = CONNECTION_TTL_ATTRIBUTE,
): Promise<boolean> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING") return true;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
    return true;
  } catch (error) {
    if (
      error instanceof Error &&
      /UnknownOperation|not supported|UnrecognizedClient/i.test(`${error.name} ${error.message}`)
    ) {
      return false;
    }
    throw error;
  }
}

export interface PreparedTable {
  /** Rows removed because no live gateway owns them. */
  removed: number;
  /** The DynamoDB deletes expired rows itself; when `false` the gateway replays it. */
  expiresItself: boolean;
}

/** The DynamoDB the gateway was pointed at does not answer, or refuses the connection. */
export class DynamoDBUnreachableError extends Error {
  constructor(endpoint: string | undefined, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `DynamoDB at ${endpoint ?? "AWS"} did not answer (${reason}). Start it (LocalStack: localstack start), ` +
        "point DYNAMODB_ENDPOINT_URL at a DynamoDB that runs, or unset it to use the embedded one.",
      { cause },
    );
    this.name = "DynamoDBUnreachableError";
  }
}

/**
 * A client for the table's own administration, with timeouts short enough that a DynamoDB that
 * accepts connections and never answers fails start-up in seconds, not minutes.
 */
export function adminClient(config: FunctionConfig): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
    credentials: config.credentials,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
  });
}

/** Creates both tables unless they exist and turns TTL on; resolves whether the DynamoDB expires rows itself. */
export async function ensureChatTables(config: FunctionConfig): Promise<boolean> {
  const client = adminClient(config);
  try {
    let expiresItself = true;
    for (const [tableName, shape] of [
      [config.tableName, CONNECTIONS_TABLE],
      [config.messagesTableName, MESSAGES_TABLE],
    ] as const) {
      await ensureTable(client, tableName, shape);
      expiresItself = (await enableTimeToLive(client, tableName, shape.ttlAttribute)) && expiresItself;
    }
    return expiresItself;
  } finally {
    client.destroy();
  }
}

/**
 * Makes the table ready for a gateway: creates it if missing, turns TTL on, then removes the rows
 * of connections whose gateway is no longer alive (`liveGateways` holds the API ids of those that
 * are): no connection survives its gateway, while another gateway's live connections stay.
 */
export async function prepareConnectionsTable(
  config: FunctionConfig,
  connections: Repository<Connection>,
  liveGateways: ReadonlySet<string>,
): Promise<PreparedTable> {
  const expiresItself = await ensureChatTables(config);
  let removed = 0;
  for await (const page of connections.scan({ attributes: [CONNECTION_KEY, "apiId"] })) {
    const orphans = page.filter((row) => !liveGateways.has(row.apiId));
    await Promise.all(orphans.map((row) => connections.delete({ [CONNECTION_KEY]: row.connectionId })));
    removed += orphans.length;
  }
  return { removed, expiresItself };
}

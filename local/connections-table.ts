/**
 * The connections table as the local gateway needs it: created as `infra/` declares it (hash key,
 * on-demand, TTL on `expiresAt`) unless it exists, with TTL turned on where the DynamoDB
 * implements it (AWS, LocalStack), and rid of rows no live gateway owns.
 */
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { Repository } from "../dal/repository";
import type { FunctionConfig } from "../functions/config";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE, type Connection } from "../functions/connection";

/** Creates the connections table unless it exists already; returns whether it created it. */
export function ensureConnectionsTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  return ensureTable(client, tableName, CONNECTION_KEY);
}

/**
 * Creates an on-demand table with a string hash key unless it exists, and waits until it is
 * ACTIVE (a DynamoDB may make it asynchronously); returns whether it created it.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string, hashKey: string): Promise<boolean> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: "S" }],
        KeySchema: [{ AttributeName: hashKey, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  return true;
}

/**
 * Turns TTL on for `expiresAt` unless it is on; resolves `false` where the DynamoDB does not
 * implement TTL (the embedded one answers DISABLED and knows no UpdateTimeToLive).
 */
export async function enableTimeToLive(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING") return true;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: CONNECTION_TTL_ATTRIBUTE, Enabled: true },
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

/** Creates the table unless it exists and turns TTL on; resolves whether the DynamoDB expires rows itself. */
export async function ensureConnectionsTableWithTtl(config: FunctionConfig): Promise<boolean> {
  const client = adminClient(config);
  try {
    await ensureConnectionsTable(client, config.tableName);
    return await enableTimeToLive(client, config.tableName);
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
  const expiresItself = await ensureConnectionsTableWithTtl(config);
  let removed = 0;
  for await (const page of connections.scan({ attributes: [CONNECTION_KEY, "apiId"] })) {
    const orphans = page.filter((row) => !liveGateways.has(row.apiId));
    await Promise.all(orphans.map((row) => connections.delete({ [CONNECTION_KEY]: row.connectionId })));
    removed += orphans.length;
  }
  return { removed, expiresItself };
}

/**
 * Tables made ready in whatever DynamoDB the gateway uses: created from their description unless
 * they exist, an index added to a table made before it, TTL turned on where the DynamoDB implements
 * it (AWS, LocalStack); and the errors that say the DynamoDB cannot be reached.
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
import type { TableDescription } from "../../dal/table-description";
import type { FunctionConfig } from "../../functions/runtime/function-config";

const keySchema = (hashKey: string, rangeKey?: string): KeySchemaElement[] => [
  { AttributeName: hashKey, KeyType: "HASH" },
  ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" as const }] : []),
];

function indexDefinition(index: NonNullable<TableDescription["index"]>): GlobalSecondaryIndex {
  return {
    IndexName: index.name,
    KeySchema: keySchema(index.hashKey, index.rangeKey),
    Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.attributes] },
  };
}

/**
 * Creates an on-demand table of `shape` (string keys) unless it exists, adds its index if the
 * table lacks it, and waits until both are ACTIVE (a DynamoDB may make them asynchronously);
 * returns whether it created the table. `shape` may be just a hash key's name.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  shape: TableDescription | string,
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
  index: NonNullable<TableDescription["index"]>,
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
export async function enableTimeToLive(client: DynamoDBClient, tableName: string, attribute: string): Promise<boolean> {
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
export function adminClient(
  config: Pick<FunctionConfig, "region" | "dynamodbEndpoint" | "credentials">,
): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
    credentials: config.credentials,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
  });
}

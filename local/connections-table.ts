import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { Repository } from "../dal/repository";
import type { FunctionConfig } from "../functions/config";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE, type Connection } from "../functions/connection";

/**
 * Creates the connections table as `infra/` declares it (hash key, on-demand, TTL) unless it
 * exists already; returns whether it created it.
 */
export async function ensureConnectionsTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: CONNECTION_KEY, AttributeType: "S" }],
        KeySchema: [{ AttributeName: CONNECTION_KEY, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  } catch (error) {
    if (error instanceof ResourceInUseException) return false;
    throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: CONNECTION_TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite does not implement UpdateTimeToLive; LocalStack and AWS do.
    if (
      !(
        error instanceof Error &&
        /UnknownOperation|not supported|UnrecognizedClient/i.test(`${error.name} ${error.message}`)
      )
    ) {
      throw error;
    }
  }
  return true;
}

/**
 * Makes the table ready for a fresh gateway: creates it if missing, then removes every row, since
 * no connection of an earlier run survives a restart. Returns how many rows it removed.
 */
export async function prepareConnectionsTable(
  config: FunctionConfig,
  connections: Repository<Connection>,
): Promise<number> {
  const client = new DynamoDBClient({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
    credentials: config.credentials,
    maxAttempts: 2,
  });
  try {
    await ensureConnectionsTable(client, config.tableName);
  } finally {
    client.destroy();
  }
  let removed = 0;
  for await (const page of connections.scan({ attributes: [CONNECTION_KEY] })) {
    await Promise.all(page.map((row) => connections.delete({ [CONNECTION_KEY]: row.connectionId })));
    removed += page.length;
  }
  return removed;
}

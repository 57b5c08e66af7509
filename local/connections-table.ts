import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE } from "../functions/connection";

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

/** Reading the connections table behind a local gateway, as a test sees it. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { Connection } from "../../functions/chat/connection";

export interface TableReader {
  /** Every row of the table, across all scan pages. */
  rows(): Promise<Connection[]>;
  close(): void;
}

/**
 * A reader for `tableName` at `endpoint`, without retries, signing with `credentials`: a
 * gateway's (its embedded DynamoDB checks them), or any for a DynamoDB that checks none.
 */
export function tableReader(
  endpoint: string,
  tableName: string,
  credentials = { accessKeyId: "local", secretAccessKey: "local" },
): TableReader {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: "us-east-1", credentials, maxAttempts: 1 }),
  );
  return {
    async rows() {
      const rows: Connection[] = [];
      for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true })) {
        rows.push(...((page.Items ?? []) as Connection[]));
      }
      return rows;
    },
    close: () => client.destroy(),
  };
}

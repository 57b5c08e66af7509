/** Reading the connections table behind a local gateway, as a test sees it. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { Connection } from "../../functions/chat/connection";

export interface TableReader {
  /** Every row of the table, across all scan pages. */
  rows(): Promise<Connection[]>;
  close(): void;
}

/** A reader for `tableName` at `endpoint`, with fixed local credentials and no retries. */
export function tableReader(endpoint: string, tableName: string): TableReader {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    }),
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

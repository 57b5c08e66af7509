/** Reading the connections table behind a local gateway, as a test sees it. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { Connection } from "../../functions/chat/connection";

export interface TableReader {
  /** Every row of the table, across all scan pages. */
  rows(): Promise<Connection[]>;
  /** Deletes a row behind the gateway's back, as a `$disconnect` that never ran leaves the table. */
  remove(connectionId: string): Promise<void>;
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
    async remove(connectionId) {
      await client.send(new DeleteCommand({ TableName: tableName, Key: { connectionId } }));
    },
    close: () => client.destroy(),
  };
}

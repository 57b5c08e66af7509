/** Reading the connections table behind a local gateway, as a test sees it. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import type { Connection } from "../../functions/chat/connection";
import type { Membership } from "../../functions/chat/membership";

export interface TableReader {
  /** Every connection's row, across all scan pages (its memberships in rooms left out). */
  rows(): Promise<Connection[]>;
  /** Every membership of a connection in a room: `{connectionId}#{room}`. */
  memberships(): Promise<Membership[]>;
  /** Deletes a row behind the gateway's back, as a `$disconnect` that never ran leaves the table. */
  remove(connectionId: string): Promise<void>;
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
  const scan = async () => {
    const items: { connectionId?: string }[] = [];
    for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true })) {
      items.push(...((page.Items ?? []) as { connectionId?: string }[]));
    }
    return items;
  };
  return {
    async rows() {
      // Another table's items (the gateways' leases) have no connection id: all of them are rows.
      return (await scan()).filter((item) => !item.connectionId?.includes("#")) as Connection[];
    },
    async memberships() {
      return (await scan()).filter((item) => item.connectionId?.includes("#")) as Membership[];
    },
    async remove(connectionId) {
      await client.send(new DeleteCommand({ TableName: tableName, Key: { connectionId } }));
    },
    close: () => client.destroy(),
  };
}

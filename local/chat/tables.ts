/**
 * The chat's tables in the gateway's DynamoDB: both made ready as `infra/` declares them (one
 * description, `functions/chat/tables.ts`), and the connections table rid of rows no live gateway
 * owns.
 */
import type { Repository } from "../../dal/repository";
import type { TableDescription } from "../../dal/table-description";
import { CONNECTION_KEY, type Connection } from "../../functions/chat/connection";
import { CONNECTIONS_TABLE, LIMITS_TABLE, MESSAGES_TABLE } from "../../functions/chat/tables";
import type { FunctionConfig } from "../../functions/runtime/function-config";
import { adminClient, enableTimeToLive, ensureTable } from "../dynamodb/tables";

interface PreparedTable {
  /** Rows removed because no live gateway owns them. */
  removed: number;
  /** The DynamoDB deletes expired rows itself; when `false` the gateway replays it. */
  expiresItself: boolean;
}

/** Creates the tables unless they exist and turns TTL on; resolves whether the DynamoDB expires rows itself. */
export async function ensureChatTables(config: FunctionConfig): Promise<boolean> {
  const client = adminClient(config);
  try {
    let expiresItself = true;
    const tables: [string, TableDescription][] = [
      [config.tableName, CONNECTIONS_TABLE],
      [config.messagesTableName, MESSAGES_TABLE],
      ...(config.limitsTableName ? [[config.limitsTableName, LIMITS_TABLE] as [string, TableDescription]] : []),
    ];
    for (const [tableName, description] of tables) {
      await ensureTable(client, tableName, description);
      if (description.ttlAttribute) {
        expiresItself = (await enableTimeToLive(client, tableName, description.ttlAttribute)) && expiresItself;
      }
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

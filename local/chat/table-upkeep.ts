/**
 * What the gateway keeps up in its DynamoDB while it runs: its lease (`../dynamodb/gateway-leases.ts`), the
 * chat's tables made ready at start with the connection rows of dead gateways removed
 * (`./tables.ts`), DynamoDB's TTL replayed where the DynamoDB has none
 * (`../dynamodb/ttl-replay.ts`), and the tables made again if the DynamoDB comes back without them.
 */

import { DynamoDBRepository } from "../../dal/dynamodb-repository";
import { LIMITS_KEY, LIMITS_TTL_ATTRIBUTE } from "../../dal/limits-table";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE } from "../../functions/chat/connection";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, MESSAGES_TTL_ATTRIBUTE } from "../../functions/chat/message";
import type { FunctionConfig } from "../../functions/runtime/function-config";
import { chatRepositories, tablesClient } from "../../functions/runtime/handler-dependencies";
import { takeGatewayLease } from "../dynamodb/gateway-leases";
import { startTtlReplay } from "../dynamodb/ttl-replay";
import { ensureChatTables, prepareConnectionsTable } from "./tables";

interface TableUpkeepOptions {
  config: FunctionConfig;
  gatewayId: string;
  leaseRenewMs: number;
  ttlSweepMs: number;
  /** The tables were made again: closes the connections whose rows were lost, so they reconnect; returns how many. */
  closeLostConnections: () => number;
  log: (line: string) => void;
}

export interface TableUpkeep {
  /** Connection rows removed at start because no live gateway owns them. */
  removed: number;
  stop(): Promise<void>;
}

/** Takes the lease and readies the table; resolves once the gateway may serve. */
export async function startTableUpkeep(options: TableUpkeepOptions): Promise<TableUpkeep> {
  const { config, gatewayId, log } = options;
  const lease = await takeGatewayLease(config, gatewayId, log, {
    renewEveryMs: options.leaseRenewMs,
    // An in-memory DynamoDB that restarted: make the tables again rather than fail every request.
    onTablesLost: async () => {
      // A new, empty table: nothing to clean up, and another gateway's clients may be back in it.
      await ensureChatTables(config);
      const closed = options.closeLostConnections();
      log(
        `DynamoDB at ${config.dynamodbEndpoint} came back without its tables (restarted?): created them again ` +
          `and closed the ${closed} connection(s) whose rows were lost, so they reconnect.`,
      );
    },
  });
  // One client for the start-up clean-up and the TTL sweeps.
  const client = tablesClient(config);
  const { connections, messages } = chatRepositories(client, config);
  try {
    const table = await prepareConnectionsTable(config, connections, await lease.liveGateways());
    const ttl = table.expiresItself
      ? undefined
      : startTtlReplay(
          [
            {
              label: "connection row(s)",
              repository: connections,
              keyAttributes: [CONNECTION_KEY],
              ttlAttribute: CONNECTION_TTL_ATTRIBUTE,
            },
            {
              label: "message(s)",
              repository: messages,
              keyAttributes: [MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY],
              ttlAttribute: MESSAGES_TTL_ATTRIBUTE,
            },
            ...(config.limitsTableName
              ? [
                  {
                    label: "limit(s)",
                    repository: new DynamoDBRepository({
                      client,
                      tableName: config.limitsTableName,
                      keyAttributes: [LIMITS_KEY],
                    }),
                    keyAttributes: [LIMITS_KEY],
                    ttlAttribute: LIMITS_TTL_ATTRIBUTE,
                  },
                ]
              : []),
          ],
          options.ttlSweepMs,
          log,
        );
    if (table.removed > 0) log(`removed ${table.removed} connection rows left by gateways no longer running`);
    return {
      removed: table.removed,
      stop: async () => {
        await ttl?.stop();
        client.destroy();
        await lease.release();
      },
    };
  } catch (error) {
    client.destroy();
    await lease.release();
    throw error;
  }
}

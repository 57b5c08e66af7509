/**
 * The chat's tables as Pulumi declares them, rendered from their one description
 * (`functions/chat/tables.ts`): on-demand billing for bursty chat traffic, TTL for rows
 * `$disconnect` missed and messages past their history.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { TableDescription } from "../dal/table-description";
import { CONNECTIONS_TABLE, LIMITS_TABLE, MESSAGES_TABLE } from "../functions/chat/tables";

/**
 * The chat's tables. `deletionProtection` guards the messages (a room's history is the data
 * that matters): DynamoDB then refuses to delete the table, whoever asks, until it is turned off.
 */
export function createChatTables(
  parent: pulumi.Resource,
  name: string,
  { deletionProtection }: { deletionProtection: boolean },
): { connections: aws.dynamodb.Table; messages: aws.dynamodb.Table; limits: aws.dynamodb.Table } {
  const connections = new aws.dynamodb.Table(`${name}-connections`, tableArgs(CONNECTIONS_TABLE), { parent });
  const messages = new aws.dynamodb.Table(
    `${name}-messages`,
    { ...tableArgs(MESSAGES_TABLE), deletionProtectionEnabled: deletionProtection },
    { parent },
  );
  const limits = new aws.dynamodb.Table(`${name}-limits`, tableArgs(LIMITS_TABLE), { parent });
  return { connections, messages, limits };
}

/** An on-demand table of `description`'s shape. */
function tableArgs({ hashKey, rangeKey, index, ttlAttribute }: TableDescription): aws.dynamodb.TableArgs {
  const keys = new Set([hashKey, rangeKey, index?.hashKey, index?.rangeKey].filter((key) => key !== undefined));
  return {
    attributes: [...keys].map((key) => ({ name: key, type: "S" })),
    hashKey,
    ...(rangeKey && { rangeKey }),
    billingMode: "PAY_PER_REQUEST",
    ...(ttlAttribute && { ttl: { attributeName: ttlAttribute, enabled: true } }),
    ...(index && {
      globalSecondaryIndexes: [
        {
          name: index.name,
          hashKey: index.hashKey,
          rangeKey: index.rangeKey,
          projectionType: "INCLUDE",
          nonKeyAttributes: [...index.attributes],
        },
      ],
    }),
  };
}

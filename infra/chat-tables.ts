import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE } from "../functions/chat/connection";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, MESSAGES_TTL_ATTRIBUTE } from "../functions/chat/message";
import { ROOM_INDEX, ROOM_INDEX_ATTRIBUTES, ROOM_INDEX_KEY } from "../functions/chat/room";

/**
 * The chat's two tables. `deletionProtection` guards the messages (a room's history is the data
 * that matters): DynamoDB then refuses to delete the table, whoever asks, until it is turned off.
 */
export function createChatTables(
  parent: pulumi.Resource,
  name: string,
  { deletionProtection }: { deletionProtection: boolean },
): { connections: aws.dynamodb.Table; messages: aws.dynamodb.Table } {
  // One row per open connection; on-demand billing for bursty chat traffic, TTL for rows
  // `$disconnect` missed. The `byRoom` index lists a room's connections, shard by shard, with
  // just what `who` shows and the TTL that hides lingering rows.
  const connections = new aws.dynamodb.Table(
    `${name}-connections`,
    {
      attributes: [
        { name: CONNECTION_KEY, type: "S" },
        { name: ROOM_INDEX_KEY, type: "S" },
      ],
      hashKey: CONNECTION_KEY,
      billingMode: "PAY_PER_REQUEST",
      ttl: { attributeName: CONNECTION_TTL_ATTRIBUTE, enabled: true },
      globalSecondaryIndexes: [
        {
          name: ROOM_INDEX,
          hashKey: ROOM_INDEX_KEY,
          rangeKey: CONNECTION_KEY,
          projectionType: "INCLUDE",
          nonKeyAttributes: [...ROOM_INDEX_ATTRIBUTES],
        },
      ],
    },
    { parent },
  );
  // A room's history: its partition, messages in the order they were handled, TTL to forget them.
  const messages = new aws.dynamodb.Table(
    `${name}-messages`,
    {
      attributes: [
        { name: MESSAGES_PARTITION_KEY, type: "S" },
        { name: MESSAGES_RANGE_KEY, type: "S" },
      ],
      hashKey: MESSAGES_PARTITION_KEY,
      rangeKey: MESSAGES_RANGE_KEY,
      billingMode: "PAY_PER_REQUEST",
      ttl: { attributeName: MESSAGES_TTL_ATTRIBUTE, enabled: true },
      deletionProtectionEnabled: deletionProtection,
    },
    { parent },
  );
  return { connections, messages };
}

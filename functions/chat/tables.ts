/**
 * The chat's tables: one row per open connection, with the `byRoom` index that lists a room's
 * connections shard by shard (just what `who` shows, and the TTL that hides lingering rows); and
 * each room's history; and what each identity may still do. `infra/chat-tables.ts` deploys them, the local gateway creates them.
 */
import { LIMITS_KEY, LIMITS_TTL_ATTRIBUTE } from "../../dal/limits-table";
import type { TableDescription } from "../../dal/table-description";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE } from "./connection";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, MESSAGES_TTL_ATTRIBUTE } from "./message";
import { ROOM_INDEX, ROOM_INDEX_ATTRIBUTES, ROOM_INDEX_KEY } from "./room";

export const CONNECTIONS_TABLE: TableDescription = {
  hashKey: CONNECTION_KEY,
  index: { name: ROOM_INDEX, hashKey: ROOM_INDEX_KEY, rangeKey: CONNECTION_KEY, attributes: ROOM_INDEX_ATTRIBUTES },
  ttlAttribute: CONNECTION_TTL_ATTRIBUTE,
};

/** What each user and source address may still do (`dal/limits-table.ts`), kept until TTL forgets it. */
export const LIMITS_TABLE: TableDescription = { hashKey: LIMITS_KEY, ttlAttribute: LIMITS_TTL_ATTRIBUTE };

export const MESSAGES_TABLE: TableDescription = {
  hashKey: MESSAGES_PARTITION_KEY,
  rangeKey: MESSAGES_RANGE_KEY,
  ttlAttribute: MESSAGES_TTL_ATTRIBUTE,
};

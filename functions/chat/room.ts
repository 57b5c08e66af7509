/**
 * Rooms: a connection belongs to one, chosen with `?room=` when it connects (`lobby` when none).
 *
 * Keys. A room's connections are written under `{apiId}#{stage}#{room}#{shard}` in the connections
 * table's `byRoom` index, the shard a hash of the connection id: a broadcast reads the room's
 * shards, in parallel, and nothing else (a Query per shard, never a Scan of everyone online). One
 * index partition takes about 1,000 writes a second (DynamoDB's per-partition limit,
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html), so
 * the shards let a crowd join a room that fast several times over, and let a fan-out split a large
 * room across workers, one shard (or a range of connection ids within one) each.
 */
import { createHash } from "node:crypto";
import type { Checked } from "../runtime/checked";

export const DEFAULT_ROOM = "lobby";
export const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Index partitions per room. Fixed: readers must know every shard writers may have used. */
export const ROOM_SHARDS = 4;
/** The connections table's index of connections by room shard, and its keys. */
export const ROOM_INDEX = "byRoom";
export const ROOM_INDEX_KEY = "roomKey";
/** What the index holds besides its keys: what `who` lists, and the TTL that hides lingering rows. */
export const ROOM_INDEX_ATTRIBUTES = ["userId", "name", "connectedAt", "expiresAt"] as const;

/** The room asked for, or why the handshake is refused. */
export function parseRoom(requested: string | undefined): Checked<string> {
  if (requested === undefined) return { value: DEFAULT_ROOM };
  if (requested.startsWith(DIRECT_ROOM_PREFIX)) {
    return { error: 'A direct room is joined with the other person\'s user id: {"action":"join","with":"..."}' };
  }
  if (ROOM_NAME.test(requested)) return { value: requested };
  return {
    error: `The room must be 1 to 64 letters, digits, - or _; got ${JSON.stringify(requested.slice(0, 80))}`,
  };
}

/** Direct rooms' names begin so; no other room's may. */
const DIRECT_ROOM_PREFIX = "dm-";

/**
 * The room of two users alone: named by a hash of both their ids, so each finds it from the
 * other's id, and no third user, whose own id goes into what they ask for, can reach it.
 */
export function directRoom(userId: string, otherUserId: string): string {
  const pair = [userId, otherUserId].sort().join("\n");
  return `${DIRECT_ROOM_PREFIX}${createHash("sha256").update(pair).digest("base64url")}`;
}

/** A room of one API's stage: rooms of two stages sharing a table never meet. */
export interface RoomAddress {
  apiId: string;
  stage: string;
  room: string;
}

/** The partition of a room's history in the messages table. */
export function roomKey({ apiId, stage, room }: RoomAddress): string {
  return `${apiId}#${stage}#${room}`;
}

/** The index partition of one shard of a room's connections. */
export function roomShardKey(address: RoomAddress, shard: number): string {
  return `${roomKey(address)}#${shard}`;
}

/** Every index partition a room's connections may be under. */
export function roomShardKeys(address: RoomAddress): string[] {
  return Array.from({ length: ROOM_SHARDS }, (_, shard) => roomShardKey(address, shard));
}

/** The 32-bit FNV-1a hash of `text`'s UTF-16 code units (ids are ASCII: its bytes). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The shard of a connection: FNV-1a of its id, so it is the same wherever it is computed. */
export function shardOf(connectionId: string): number {
  return fnv1a32(connectionId) % ROOM_SHARDS;
}

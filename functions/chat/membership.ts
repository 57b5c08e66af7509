/**
 * A connection in many rooms. Each room it is in is a membership: an item of the connections
 * table under `{connectionId}#{room}` (connection ids never hold a `#`), in the `byRoom` index
 * under the room's shard, so a broadcast reads a room's members as before, one Query per shard.
 * The connection's own row lists its rooms (`rooms`, at most `maxRoomsPerConnection`), so leaving
 * them all, at `$disconnect` or when a post finds the connection gone, takes no Query.
 */
import type { Repository } from "../../dal/repository";
import { CONNECTION_KEY, type Connection } from "./connection";
import { type RoomAddress, roomShardKey, shardOf } from "./room";

/** One connection's place in one room. */
export interface Membership {
  /** `{connectionId}#{room}`: the table's key. */
  connectionId: string;
  apiId: string;
  stage: string;
  room: string;
  /** The `byRoom` index's key: the room's shard the connection is in. */
  roomKey: string;
  /** Joined untold (a room too large for presence notices, or its user past the presence budget): leaves untold too. */
  quiet?: true;
  /** Epoch milliseconds: the connection's, so a post's 410 can tell a connection still connecting. */
  connectedAt: number;
  userId?: string;
  name?: string;
  /** Epoch seconds: the connection's TTL. */
  expiresAt: number;
}

export function membershipKey(connectionId: string, room: string): string {
  return `${connectionId}#${room}`;
}

/** The connection id of an index entry: a membership's key, or (rows written before rooms were many) the connection's own. */
export function memberConnectionId(indexKey: string): string {
  const hash = indexKey.indexOf("#");
  return hash === -1 ? indexKey : indexKey.slice(0, hash);
}

/** The membership of `connection` in `room`, as it is stored. */
export function membershipOf(connection: Connection, room: string, quiet: boolean): Membership {
  const address: RoomAddress = { apiId: connection.apiId, stage: connection.stage, room };
  return {
    [CONNECTION_KEY]: membershipKey(connection.connectionId, room),
    apiId: connection.apiId,
    stage: connection.stage,
    room,
    roomKey: roomShardKey(address, shardOf(connection.connectionId)),
    ...(quiet && { quiet: true as const }),
    connectedAt: connection.connectedAt,
    ...(connection.userId !== undefined && { userId: connection.userId }),
    ...(connection.name !== undefined && { name: connection.name }),
    expiresAt: connection.expiresAt,
  };
}

/**
 * Counts `room` among the connection's rooms unless it is in `max` already: resolves the row
 * after, or `undefined` when it is full or gone.
 */
export function addRoom(
  connections: Repository<Connection>,
  connectionId: string,
  room: string,
  max: number,
): Promise<Connection | undefined> {
  return connections.update(
    { [CONNECTION_KEY]: connectionId },
    {
      addToSet: { attribute: "rooms", members: [room] },
      condition: { exists: true, setSize: { attribute: "rooms", below: max, orContains: room } },
    },
  );
}

/** Takes the connection out of `room`: resolves its membership as it was, or `undefined` if it had none. */
export async function leaveRoom(
  deps: { connections: Repository<Connection>; memberships: Repository<Membership> },
  connectionId: string,
  room: string,
): Promise<Membership | undefined> {
  const [membership] = await Promise.all([
    deps.memberships.delete({ [CONNECTION_KEY]: membershipKey(connectionId, room) }),
    deps.connections.update(
      { [CONNECTION_KEY]: connectionId },
      { removeFromSet: { attribute: "rooms", members: [room] }, condition: { exists: true } },
    ),
  ]);
  return membership;
}

/**
 * Forgets a connection: its row, then each of its memberships. Resolves the memberships removed,
 * or `undefined` when another caller removed the row (the delete returns it to one caller only, so
 * each leave is told once) or `onlyIfConnectedBefore` kept it.
 */
export async function forgetConnection(
  deps: { connections: Repository<Connection>; memberships: Repository<Membership> },
  connectionId: string,
  onlyIfConnectedBefore?: number,
): Promise<Membership[] | undefined> {
  const key = { [CONNECTION_KEY]: connectionId };
  const row =
    onlyIfConnectedBefore === undefined
      ? await deps.connections.delete(key)
      : await deps.connections.delete(key, { onlyIfBelow: { attribute: "connectedAt", value: onlyIfConnectedBefore } });
  if (!row) return undefined;
  // A row from before rooms were many was its own membership, and is gone with it.
  if (!row.rooms) return row.roomKey ? [row as unknown as Membership] : [];
  const removed = await Promise.all(
    [...(row.rooms ?? [])].map((room) =>
      deps.memberships.delete({ [CONNECTION_KEY]: membershipKey(connectionId, room) }),
    ),
  );
  return removed.filter((membership) => membership !== undefined);
}

/** The room a membership is in. */
export function addressOfMembership(membership: Pick<Membership, "apiId" | "stage" | "room">): RoomAddress {
  return { apiId: membership.apiId, stage: membership.stage, room: membership.room };
}

/**
 * Rooms filled for the benchmarks, as `$connect` fills them: each member's connection row (its
 * rooms listed) and its membership in the room, written in DynamoDB batches.
 */
import type { Connection } from "../functions/chat/connection";
import { type Membership, membershipOf } from "../functions/chat/membership";
import type { RoomAddress } from "../functions/chat/room";

/** The two items of one member of `address`: its row and its membership (quiet: no notices). */
export function memberItems(
  address: RoomAddress,
  connectionId: string,
  fields: Partial<Connection> = {},
): [Connection, Membership] {
  const row: Connection = {
    connectionId,
    apiId: address.apiId,
    stage: address.stage,
    room: address.room,
    rooms: new Set([address.room]),
    connectedAt: Date.now() - 60_000,
    sourceIp: "127.0.0.1",
    expiresAt: 4_000_000_000,
    ...fields,
  };
  return [row, membershipOf(row, address.room, true)];
}

/**
 * A connection as a member of the room a request is for: its row found, and the room checked
 * against the rooms it has joined. A request names its room (`"room"`), or means the room the
 * connection joined first.
 */
import { ObjectNotFoundError } from "../../dal/errors";
import type { Repository } from "../../dal/repository";
import type { WebSocketEvent } from "../runtime/lambda-events";
import { CONNECTION_KEY, type Connection } from "./connection";
import type { RoomAddress } from "./room";

/** What a connection whose row is gone (purged, or never written) is told. */
export const NOT_IN_A_ROOM = "This connection is in no room (its record is gone): reconnect to join one";

/** The caller's row, and the room its request is for (one it is in). */
export interface RoomMember {
  row: Connection;
  room: string;
  address: RoomAddress;
}

/**
 * The caller's row, read consistently (`$connect` may have written it moments ago), and `room`
 * (else its first room) if it is one the connection is in; else why not, a sentence for the caller.
 */
export async function memberOfRoom(
  connections: Repository<Connection>,
  event: WebSocketEvent,
  room?: string,
): Promise<RoomMember | { error: string }> {
  let row: Connection;
  try {
    row = await connections.get({ [CONNECTION_KEY]: event.requestContext.connectionId });
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return { error: NOT_IN_A_ROOM };
    throw error;
  }
  const wanted = room ?? row.room;
  // Rows written before a connection could be in many rooms list none: their one room is `room`.
  const rooms = row.rooms ?? new Set([row.room]);
  if (!rooms.has(wanted)) {
    return { error: `This connection is not in room ${JSON.stringify(wanted)}: join it first` };
  }
  return { row, room: wanted, address: { apiId: row.apiId, stage: row.stage, room: wanted } };
}

/**
 * A connection as a member of its room: its row found (and its message counted against its limit)
 * for the routes a client calls.
 */
import { ObjectNotFoundError } from "../../dal/errors";
import type { Repository } from "../../dal/repository";
import type { WebSocketEvent } from "../runtime/lambda-events";
import { CONNECTION_KEY, type Connection } from "./connection";
import type { RoomAddress } from "./room";

/** What a connection whose row is gone (purged, or never written) is told. */
export const NOT_IN_A_ROOM = "This connection is in no room (its record is gone): reconnect to join one";

/**
 * The row of the connection that sent `event`, read consistently (it was written by `$connect`
 * moments ago, maybe), or `undefined` when it has none.
 */
export async function findMember(
  connections: Repository<Connection>,
  event: WebSocketEvent,
): Promise<(Connection & { room: string }) | undefined> {
  try {
    const row = await connections.get({ [CONNECTION_KEY]: event.requestContext.connectionId });
    return typeof row.room === "string" ? row : undefined;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

export function addressOf(connection: Pick<Connection, "apiId" | "stage" | "room">): RoomAddress {
  return { apiId: connection.apiId, stage: connection.stage, room: connection.room };
}

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

/** What a connection over its message limit is told; `retryAfterSeconds` is when its window ends. */
export function overLimitMessage(limit: number, windowSeconds: number, retryAfterSeconds: number): string {
  return `Too many messages: at most ${limit} every ${windowSeconds} s from one connection; try again in ${retryAfterSeconds} s`;
}

/**
 * As {@link findMember}, counting the message against the connection's limit in the same request
 * (a fixed window on its row, updated atomically: of messages sent at once, only `limit` pass).
 * Resolves `{ overLimit }`, the seconds until the window ends, when the connection is over it.
 */
export async function findCountedMember(
  connections: Repository<Connection>,
  event: WebSocketEvent,
  { limit, windowSeconds, nowMs }: { limit: number; windowSeconds: number; nowMs: number },
): Promise<(Connection & { room: string }) | { overLimit: number } | undefined> {
  const nowSeconds = Math.floor(nowMs / 1000);
  const windowStart = nowSeconds - (nowSeconds % windowSeconds);
  try {
    const row = await connections.countUse(
      { [CONNECTION_KEY]: event.requestContext.connectionId },
      { window: "messageWindow", count: "messageCount", windowStart, limit },
    );
    if (!row) return { overLimit: Math.max(1, windowStart + windowSeconds - nowSeconds) };
    return typeof row.room === "string" ? row : undefined;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

export function addressOf(connection: Pick<Connection, "apiId" | "stage" | "room">): RoomAddress {
  return { apiId: connection.apiId, stage: connection.stage, room: connection.room };
}

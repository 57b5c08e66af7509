/** One row of the connections table. */
export interface Connection {
  connectionId: string;
  /**
   * The API and stage the connection belongs to: a table shared by several (two stages, two local
   * gateways on one DynamoDB) keeps each one's connections apart.
   */
  apiId: string;
  stage: string;
  /** The room it joined when it connected (`./room.ts`). */
  room: string;
  /** The `byRoom` index's key: the room's shard this connection is in. */
  roomKey: string;
  /** Joined a room too large for presence notices (`PRESENCE_ROOM_LIMIT`): it leaves untold too. */
  quiet?: true;
  /** Epoch milliseconds, from API Gateway's `connectedAt`. */
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  /** With auth on: who the `$connect` authorizer let in (`guest-{uuid}` or the issuer's `sub`). */
  userId?: string;
  /** The display name: with auth on the verified one, else the one given with `?name=`, if any. */
  name?: string;
  /** Epoch seconds: DynamoDB's TTL deletes the row after this, in case `$disconnect` never ran. */
  expiresAt: number;
  /** The per-connection message limit's window: its start (epoch seconds) and messages counted in it. */
  messageWindow?: number;
  messageCount?: number;
}

/** The table's hash key and TTL attribute; `infra/` declares the table with these. */
export const CONNECTION_KEY = "connectionId" satisfies keyof Connection;
export const CONNECTION_TTL_ATTRIBUTE = "expiresAt" satisfies keyof Connection;

/**
 * How long after `connectedAt` a connection may still be connecting. API Gateway keeps the
 * handshake pending until `$connect` returns, at most its integration timeout, and until then
 * PostToConnection answers 410 (https://repost.aws/knowledge-center/410-gone-api-gateway: "A
 * message was posted to the WebSocket API before the connection was established"); a second more
 * covers the upgrade itself. A 410 within this window does not mean the connection is gone.
 */
export function connectingWindowMs(connectTimeoutMs: number): number {
  return connectTimeoutMs + 1_000;
}

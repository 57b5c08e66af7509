/** One row of the connections table: the connection itself (its rooms are memberships, `./membership.ts`). */
export interface Connection {
  connectionId: string;
  /**
   * The API and stage the connection belongs to: a table shared by several (two stages, two local
   * gateways on one DynamoDB) keeps each one's connections apart.
   */
  apiId: string;
  stage: string;
  /** The room it joined when it connected (`./room.ts`): where a request that names no room goes. */
  room: string;
  /** Every room it is in now, the first included unless it left it. */
  rooms?: Set<string>;
  /**
   * Rows written before a connection could be in many rooms (none since) are their room's
   * membership themselves: in the index under this key, `quiet` if they joined untold.
   */
  roomKey?: string;
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

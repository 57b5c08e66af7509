/** One row of the connections table. */
export interface Connection {
  connectionId: string;
  /** Epoch milliseconds, from API Gateway's `connectedAt`. */
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  /** Epoch seconds: DynamoDB's TTL deletes the row after this, in case `$disconnect` never ran. */
  expiresAt: number;
}

/** The table's hash key and TTL attribute; `infra/` declares the table with these. */
export const CONNECTION_KEY = "connectionId" satisfies keyof Connection;
export const CONNECTION_TTL_ATTRIBUTE = "expiresAt" satisfies keyof Connection;

/** Who a connection is, as its `$connect` authorizer verified it and API Gateway passes it on. */
import type { WebSocketRequestContext } from "../runtime/lambda-events";

/** Who a connection is, as its `$connect` authorizer verified. */
export interface VerifiedUser {
  userId: string;
  name: string;
}

/**
 * The verified user of the connection an event comes from: the authorizer's context, which API
 * Gateway attaches to every event of the connection; `undefined` when the API has no authorizer.
 */
export function verifiedUser(requestContext: WebSocketRequestContext): VerifiedUser | undefined {
  const { userId, name } = requestContext.authorizer ?? {};
  return typeof userId === "string" && typeof name === "string" ? { userId, name } : undefined;
}

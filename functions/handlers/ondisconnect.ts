/** The `$disconnect` route's handler: the connection leaves its rooms, and each is told. */
import { tellLeaves } from "../broadcast/presence";
import type { BroadcastDependencies } from "../broadcast/room-broadcast";
import { verifiedUser } from "../chat/identity";
import { forgetConnection } from "../chat/membership";
import { releaseConnection } from "../limits/connection-cap";
import type { LimitDependencies } from "../limits/limited-route";
import type { WebSocketHandler } from "../runtime/lambda-events";

type DisconnectHandlerDependencies = BroadcastDependencies & Pick<LimitDependencies, "limits" | "config">;

/**
 * `$disconnect`: forgets the connection and its memberships, and tells each room it left, unless
 * it joined quietly or the room has grown too large for presence notices since. API Gateway runs
 * it best effort; a connection it misses is forgotten (and its leaves told) by the first post that
 * finds it gone, or by TTL. The row's delete returns it to one caller only, so each leave is told once.
 */
export function createDisconnectHandler(deps: DisconnectHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId } = event.requestContext;
    const left = await forgetConnection(deps, connectionId);
    await releaseConnection(deps, event.requestContext, verifiedUser(event.requestContext)?.userId);
    await tellLeaves(deps, event, left ?? []);
    return { statusCode: 200 };
  };
}

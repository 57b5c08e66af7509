/** The `$disconnect` route's handler: the connection leaves its room, and the room is told. */
import {
  type BroadcastDependencies,
  broadcastToRoom,
  managerFor,
  presenceFrame,
  smallRoomMembers,
} from "../broadcast/room-broadcast";
import { CONNECTION_KEY } from "../chat/connection";
import { verifiedUser } from "../chat/identity";
import { addressOf } from "../chat/member";
import { releaseConnection } from "../limits/connection-cap";
import type { LimitDependencies } from "../limits/limited-route";
import type { WebSocketHandler } from "../runtime/lambda-events";

type DisconnectHandlerDependencies = BroadcastDependencies & Pick<LimitDependencies, "limits" | "config">;

/**
 * `$disconnect`: forgets the connection and tells its room it left, unless it joined quietly or
 * the room has grown too large for presence notices since. API Gateway runs it best
 * effort; a connection it misses is removed (and its leave told) by the first post that finds it
 * gone, or by TTL. The delete returns the row to one caller only, so a leave is told once.
 */
export function createDisconnectHandler(deps: DisconnectHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, requestId } = event.requestContext;
    const row = await deps.connections.delete({ [CONNECTION_KEY]: connectionId });
    await releaseConnection(deps, event.requestContext, verifiedUser(event.requestContext)?.userId);
    if (row && typeof row.room === "string" && !row.quiet) {
      const recipients = await smallRoomMembers(deps, addressOf(row), connectionId);
      if (recipients && recipients.length > 0) {
        await broadcastToRoom(deps, managerFor(deps, event), addressOf(row), presenceFrame("leave", row, deps.now()), {
          recipients,
          label: `leave ${requestId}`,
        });
      }
    }
    return { statusCode: 200 };
  };
}

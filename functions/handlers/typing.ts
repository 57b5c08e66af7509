/**
 * The `typing` route's handler: `{"action":"typing","room":"kitchen"}` tells the room's others
 * `{"type":"typing","room","userId","name"}`. Ephemeral (nothing stored), small rooms only (as
 * presence notices: in a larger room each would be a post to everyone), and taken from its own
 * budget (`rateLimits.typing`) like every route a client calls.
 */
import {
  type BroadcastDependencies,
  broadcastToRoom,
  describe,
  managerFor,
  smallRoomMembers,
} from "../broadcast/room-broadcast";
import { errorFrame } from "../chat/frames";
import { verifiedUser } from "../chat/identity";
import { memberOfRoom } from "../chat/member";
import { parseRoomRequest } from "../chat/requests";
import { ConnectionGoneError } from "../runtime/connection-manager";
import type { WebSocketHandler } from "../runtime/lambda-events";

export interface TypingFrame {
  type: "typing";
  room: string;
  connectionId: string;
  userId?: string;
  name?: string;
}

/** A one-way route: what it refuses is posted to the caller, as an error frame. */
export function createTypingHandler(deps: BroadcastDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, requestId } = event.requestContext;
    const manager = managerFor(deps, event);
    const refuse = async (message: string, ref?: string) => {
      await manager.post(connectionId, errorFrame(message, requestId, { ref })).catch((error: unknown) => {
        if (!(error instanceof ConnectionGoneError))
          deps.logger.warn(`error frame to ${connectionId}: ${describe(error)}`);
      });
      return { statusCode: 400, body: message };
    };
    const request = parseRoomRequest(event.body);
    if ("error" in request) return refuse(request.error);
    const member = await memberOfRoom(deps.connections, event, request.value.room);
    if ("error" in member) return refuse(member.error, request.value.ref);
    const recipients = await smallRoomMembers(deps, member.address, connectionId);
    if (recipients && recipients.length > 0) {
      const user = verifiedUser(event.requestContext);
      const name = user?.name ?? member.row.name;
      const frame: TypingFrame = {
        type: "typing",
        room: member.room,
        connectionId,
        ...(user && { userId: user.userId }),
        ...(name !== undefined && { name }),
      };
      await broadcastToRoom(deps, manager, member.address, frame, { recipients, label: `typing ${requestId}` });
    }
    return { statusCode: 200 };
  };
}

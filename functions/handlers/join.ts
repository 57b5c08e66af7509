/**
 * The `join` and `leave` routes' handlers (two-way): a connection enters or leaves one more room
 * without reconnecting, and the room is told. A direct room, of two users alone, is joined with the
 * other user's id rather than a name; the other user's open connections are invited to it.
 */
import { ObjectNotFoundError } from "../../dal/errors";
import { enterRoom, type PresenceDependencies, tellLeaves } from "../broadcast/presence";
import { describe, endpointFor } from "../broadcast/room-broadcast";
import { CONNECTION_KEY, type Connection } from "../chat/connection";
import { refusal } from "../chat/frames";
import { verifiedUser } from "../chat/identity";
import { NOT_IN_A_ROOM } from "../chat/member";
import { addRoom, leaveRoom } from "../chat/membership";
import { parseRoomRequest } from "../chat/requests";
import { directRoom, parseRoom } from "../chat/room";
import { userConnectionsKey } from "../limits/rate-limits";
import type { Checked } from "../runtime/checked";
import type { FunctionConfig } from "../runtime/function-config";
import type { WebSocketEvent, WebSocketHandler } from "../runtime/lambda-events";

interface JoinHandlerDependencies extends PresenceDependencies {
  config: PresenceDependencies["config"] & Pick<FunctionConfig, "roomsPerConnection">;
}

/** `{"type":"joined",...}` and `{"type":"left",...}`: the room to use from now on; `with` for a direct room. */
export interface RoomAnswerFrame {
  type: "joined" | "left";
  ref?: string;
  room: string;
  with?: string;
}

/** `{"type":"invite",...}`: someone opened a direct room with this user; join it with `with`. */
export interface InviteFrame {
  type: "invite";
  room: string;
  from: { userId: string; name?: string };
}

/** `{"action":"join","room":"kitchen"}`, or `{"action":"join","with":"<user id>"}` for a direct room. */
export function createJoinHandler(deps: JoinHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { requestId } = event.requestContext;
    const request = parseRoomRequest(event.body);
    if ("error" in request) return refusal(request.error, requestId);
    const { ref, fields } = request.value;
    const target = roomToJoin(event, fields.with, request.value.room);
    if ("error" in target) return refusal(target.error, requestId, ref);
    const { room, withUser } = target.value;
    const row = await rowOf(deps, event);
    if (!row) return refusal(NOT_IN_A_ROOM, requestId, ref);
    const answer = (): { statusCode: number; body: string } => {
      const frame: RoomAnswerFrame = {
        type: "joined",
        ...(ref !== undefined && { ref }),
        room,
        ...(withUser && { with: withUser }),
      };
      return { statusCode: 200, body: JSON.stringify(frame) };
    };
    if (row.rooms?.has(room)) return answer();
    const added = await addRoom(deps.connections, row.connectionId, room, deps.config.roomsPerConnection);
    if (!added) {
      const most = deps.config.roomsPerConnection;
      return refusal(`A connection may be in at most ${most} rooms at once: leave one first`, requestId, ref);
    }
    await enterRoom(deps, event, added, room);
    if (withUser) await invite(deps, event, added, room, withUser);
    return answer();
  };
}

/** `{"action":"leave","room":"kitchen"}`: the room no longer sends this connection anything. */
export function createLeaveHandler(deps: PresenceDependencies): WebSocketHandler {
  return async (event) => {
    const { requestId, connectionId } = event.requestContext;
    const request = parseRoomRequest(event.body);
    if ("error" in request) return refusal(request.error, requestId);
    const { ref, room } = request.value;
    if (room === undefined) return refusal('"room" must name the room to leave', requestId, ref);
    const membership = await leaveRoom(deps, connectionId, room);
    if (!membership) return refusal(`This connection is not in room ${JSON.stringify(room)}`, requestId, ref);
    await tellLeaves(deps, event, [membership]);
    const frame: RoomAnswerFrame = { type: "left", ...(ref !== undefined && { ref }), room };
    return { statusCode: 200, body: JSON.stringify(frame) };
  };
}

/** The room a join asks for: a named one, or the direct room of the caller and `with`. */
function roomToJoin(
  event: WebSocketEvent,
  withUser: unknown,
  named: string | undefined,
): Checked<{ room: string; withUser?: string }> {
  if (withUser === undefined) {
    if (named === undefined) return { error: 'Name the room to join ("room"), or the user to talk to alone ("with")' };
    const room = parseRoom(named);
    return "error" in room ? room : { value: { room: room.value } };
  }
  const user = verifiedUser(event.requestContext);
  if (!user) return { error: "Direct rooms need signed-in users: this chat has no sign-in" };
  if (typeof withUser !== "string" || withUser === "" || withUser.length > 256) {
    return { error: '"with" must be the other person\'s user id' };
  }
  if (withUser === user.userId) return { error: "A direct room is with someone else" };
  return { value: { room: directRoom(user.userId, withUser), withUser } };
}

async function rowOf(deps: JoinHandlerDependencies, event: WebSocketEvent): Promise<Connection | undefined> {
  try {
    return await deps.connections.get({ [CONNECTION_KEY]: event.requestContext.connectionId });
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Invites the other user's open connections (the set the connection cap keeps, so none without
 * it); one that cannot be told only misses the invitation.
 */
async function invite(
  deps: JoinHandlerDependencies,
  event: WebSocketEvent,
  from: Connection,
  room: string,
  userId: string,
) {
  if (!deps.limits || !from.userId) return;
  const theirs = await deps.limits.members(userConnectionsKey(event.requestContext, userId));
  const frame: InviteFrame = {
    type: "invite",
    room,
    from: { userId: from.userId, ...(from.name !== undefined && { name: from.name }) },
  };
  const manager = deps.managementApi(endpointFor(deps, event));
  await Promise.all(
    theirs.map((connectionId) =>
      manager.post(connectionId, JSON.stringify(frame)).catch((error: unknown) => {
        deps.logger.warn(`invite ${event.requestContext.requestId} to ${connectionId}: ${describe(error)}`);
      }),
    ),
  );
}

/**
 * Joins and leaves, told to the room: a connection entering a room is announced to its members
 * when the room is small enough (`PRESENCE_ROOM_LIMIT`) and its user within the presence budget;
 * otherwise it enters quietly, and leaves quietly too, at no cost: no one was told it came.
 */
import type { Connection } from "../chat/connection";
import { addressOfMembership, type Membership, membershipOf } from "../chat/membership";
import { type LimitDependencies, takeFromBudget } from "../limits/limited-route";
import type { WebSocketEvent } from "../runtime/lambda-events";
import {
  type BroadcastDependencies,
  broadcastToRoom,
  describe,
  managerFor,
  presenceFrame,
  smallRoomMembers,
} from "./room-broadcast";

export type PresenceDependencies = BroadcastDependencies & LimitDependencies;

/**
 * Puts `connection` in `room` (its membership item) and tells the room. A failed read of the room
 * or a failed notice only costs the notice: the connection is in the room, and `who` shows it.
 */
export async function enterRoom(
  deps: PresenceDependencies,
  event: WebSocketEvent,
  connection: Connection,
  room: string,
): Promise<Membership> {
  const { connectionId, requestId } = event.requestContext;
  const address = { apiId: connection.apiId, stage: connection.stage, room };
  const announced = !(await takeFromBudget(deps, "presence", event.requestContext));
  const recipients = announced
    ? await smallRoomMembers(deps, address, connectionId).catch((error: unknown) => {
        deps.logger.warn(`join ${requestId}: the room was not read, so not told: ${describe(error)}`);
        return undefined;
      })
    : undefined;
  const membership = membershipOf(connection, room, !recipients);
  await deps.memberships.put(membership);
  if (recipients && recipients.length > 0) {
    try {
      await broadcastToRoom(deps, managerFor(deps, event), address, presenceFrame("join", membership, deps.now()), {
        recipients,
        label: `join ${requestId}`,
      });
    } catch (error) {
      deps.logger.warn(`join ${requestId}: the room was not told: ${describe(error)}`);
    }
  }
  return membership;
}

/** Tells each room a connection left (all but the rooms it entered quietly). */
export async function tellLeaves(
  deps: BroadcastDependencies,
  event: WebSocketEvent,
  left: Membership[],
): Promise<void> {
  const { connectionId, requestId } = event.requestContext;
  for (const membership of left) {
    if (membership.quiet) continue;
    const address = addressOfMembership(membership);
    const recipients = await smallRoomMembers(deps, address, connectionId);
    if (recipients && recipients.length > 0) {
      await broadcastToRoom(deps, managerFor(deps, event), address, presenceFrame("leave", membership, deps.now()), {
        recipients,
        label: `leave ${requestId}`,
      });
    }
  }
}

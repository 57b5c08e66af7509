/**
 * The `edit` and `delete` routes' handlers (two-way): an author changes or takes back their own
 * message. Whose it is is the user id the authorizer verified (with no sign-in, the connection that
 * sent it), checked in the same write that changes it. The stored message changes (a delete leaves
 * a tombstone in its place: its number stays, so no one takes it for a gap), `history` answers it
 * as it is now, and the room gets `{"type":"edit",...}` or `{"type":"delete",...}`.
 */
import type { Repository } from "../../dal/repository";
import { broadcastMessage, type FanoutDependencies } from "../broadcast/fanout";
import { endpointFor } from "../broadcast/room-broadcast";
import { type AckFrame, refusal } from "../chat/frames";
import { verifiedUser } from "../chat/identity";
import { memberOfRoom } from "../chat/member";
import { MESSAGE_ID, type StoredMessage } from "../chat/message";
import { parseRoomRequest } from "../chat/requests";
import { roomKey } from "../chat/room";
import type { FunctionConfig } from "../runtime/function-config";
import type { WebSocketEvent, WebSocketHandler } from "../runtime/lambda-events";

interface ChangeDependencies extends FanoutDependencies {
  messages: Repository<StoredMessage>;
  config: FanoutDependencies["config"] & Pick<FunctionConfig, "maxMessageBytes">;
}

/** `{"type":"edit"|"delete",...}`: a message of the room changed. */
export interface ChangeFrame {
  type: "edit" | "delete";
  room: string;
  id: string;
  seq?: number;
  /** edit: the new text. */
  data?: string;
  editedAt?: string;
  deletedAt?: string;
}

/** `{"action":"edit","room":"kitchen","id":"<message id>","data":"new text"}`. */
export function createEditHandler(deps: ChangeDependencies): WebSocketHandler {
  return changeHandler(deps, "edit", (fields, now) => {
    const { data } = fields;
    if (typeof data !== "string" || data.trim() === "") return '"data" must be the new text';
    const bytes = Buffer.byteLength(data);
    if (bytes > deps.config.maxMessageBytes)
      return `"data" is ${bytes} bytes; the limit is ${deps.config.maxMessageBytes}`;
    return { data, editedAt: now };
  });
}

/** `{"action":"delete","room":"kitchen","id":"<message id>"}`. */
export function createDeleteHandler(deps: ChangeDependencies): WebSocketHandler {
  return changeHandler(deps, "delete", (_fields, now) => ({ data: "", deleted: true as const, deletedAt: now }));
}

function changeHandler(
  deps: ChangeDependencies,
  type: ChangeFrame["type"],
  change: (fields: Record<string, unknown>, now: string) => Partial<StoredMessage> | string,
): WebSocketHandler {
  return async (event) => {
    const { requestId } = event.requestContext;
    const request = parseRoomRequest(event.body);
    if ("error" in request) return refusal(request.error, requestId);
    const { ref, fields } = request.value;
    if (typeof fields.id !== "string" || !MESSAGE_ID.test(fields.id))
      return refusal('"id" must be a message\'s id', requestId, ref);
    const changes = change(fields, new Date(deps.now()).toISOString());
    if (typeof changes === "string") return refusal(changes, requestId, ref);
    const member = await memberOfRoom(deps.connections, event, request.value.room);
    if ("error" in member) return refusal(member.error, requestId, ref);
    const changed = await deps.messages.update(
      { roomKey: roomKey(member.address), id: fields.id },
      { set: changes, condition: { exists: true, equals: authorOf(event), absent: ["deleted"] } },
    );
    if (!changed) return refusal(`Only its author may ${type} a message, while it is there`, requestId, ref);
    const frame: ChangeFrame = {
      type,
      room: member.room,
      id: changed.id,
      ...(changed.seq !== undefined && { seq: changed.seq }),
      ...(type === "edit" ? { data: changed.data, editedAt: changed.editedAt } : { deletedAt: changed.deletedAt }),
    };
    const endpoint = endpointFor(deps, event);
    const started = deps.now();
    const manager = deps.managementApi(endpoint);
    const label = `${type} ${requestId}`;
    const outcome = await broadcastMessage(deps, manager, endpoint, member.address, frame, label, requestId);
    deps.metrics?.record("inline", outcome, deps.now() - started);
    const ack: AckFrame = { type: "ack", ...(ref !== undefined && { ref }), room: member.room, id: changed.id };
    return { statusCode: 200, body: JSON.stringify(ack) };
  };
}

/** Whose a message must be for this caller to change it: their user id, or with no sign-in their connection. */
function authorOf(event: WebSocketEvent): Partial<StoredMessage> {
  const user = verifiedUser(event.requestContext);
  return user ? { userId: user.userId } : { connectionId: event.requestContext.connectionId };
}

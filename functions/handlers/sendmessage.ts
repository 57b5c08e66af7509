/**
 * The `sendmessage` route's handler: a chat message checked, numbered in its room, stored in its
 * room's history and posted to the room; the sender's answer (a two-way route) is the message's
 * id and number, or why it was refused.
 */
import type { Repository } from "../../dal/repository";
import { broadcastMessage, type FanoutDependencies } from "../broadcast/fanout";
import { endpointFor } from "../broadcast/room-broadcast";
import { validateDisplayName } from "../chat/display-name";
import { type AckFrame, refusal } from "../chat/frames";
import { verifiedUser } from "../chat/identity";
import { memberOfRoom } from "../chat/member";
import { type ChatMessageFrame, messageId, SEQUENCE_ITEM_ID, type StoredMessage } from "../chat/message";
import { parseRoomRequest, type RoomRequest } from "../chat/requests";
import { roomKey } from "../chat/room";
import type { Checked } from "../runtime/checked";
import { API_GATEWAY_MAX_MESSAGE_BYTES, type FunctionConfig } from "../runtime/function-config";
import type { WebSocketHandler } from "../runtime/lambda-events";

/**
 * The largest message frame: a `history` answer (its envelope under 1 KB) can always carry one,
 * and API Gateway's 128 KB limit on a message holds for every post of it.
 */
const MAX_MESSAGE_FRAME_BYTES = API_GATEWAY_MAX_MESSAGE_BYTES - 1024;

export interface SendMessageHandlerDependencies extends FanoutDependencies {
  messages: Repository<StoredMessage>;
  config: FanoutDependencies["config"] & Pick<FunctionConfig, "maxMessageBytes" | "historyTtlSeconds">;
}

/**
 * `{"action":"sendmessage","room":"kitchen","data":"hello","ref":"c1"}` (`room` and `ref` optional).
 * With auth off it may add `"name":"Ada"` (else the name it connected with); with auth on the name
 * is the one the authorizer verified, and a `name` in the message is ignored, so no one can speak
 * under another's. A message that cannot be stored is not sent: the handler fails, and API Gateway
 * tells the sender so. Large rooms' posting goes through broadcast workers (`../broadcast/fanout.ts`).
 */
export function createSendMessageHandler(deps: SendMessageHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, requestId } = event.requestContext;
    const user = verifiedUser(event.requestContext);
    const request = parseRoomRequest(event.body);
    if ("error" in request) return refusal(request.error, requestId);
    const { ref } = request.value;
    const message = readMessage(request.value, deps.config.maxMessageBytes, user === undefined);
    if ("error" in message) return refusal(message.error, requestId, ref);
    const sender = await memberOfRoom(deps.connections, event, request.value.room);
    if ("error" in sender) return refusal(sender.error, requestId, ref);

    const sentAt = new Date(deps.now()).toISOString();
    const name = user?.name ?? message.value.name ?? sender.row.name;
    const frame: ChatMessageFrame = {
      type: "message",
      id: messageId(0),
      seq: 0,
      room: sender.room,
      connectionId,
      ...(user && { userId: user.userId }),
      ...(name !== undefined && { name }),
      data: message.value.data,
      sentAt,
    };
    // The id and number are of fixed width: the size is known before the room counts the message.
    const bytes = Buffer.byteLength(JSON.stringify(frame)) + 10;
    if (bytes > MAX_MESSAGE_FRAME_BYTES) {
      // JSON escapes a control character as six bytes: a message under the limit can grow past it.
      return refusal(
        `The message is ${bytes} bytes once encoded; the limit is ${MAX_MESSAGE_FRAME_BYTES}`,
        requestId,
        ref,
      );
    }
    const partition = roomKey(sender.address);
    frame.seq = await nextSequence(deps.messages, partition);
    frame.id = messageId(frame.seq);
    const { type: _type, ...stored } = frame;
    await deps.messages.put({
      ...stored,
      roomKey: partition,
      expiresAt: Math.floor(deps.now() / 1000) + deps.config.historyTtlSeconds,
    });
    const started = deps.now();
    const endpoint = endpointFor(deps, event);
    const manager = deps.managementApi(endpoint);
    const outcome = await broadcastMessage(
      deps,
      manager,
      endpoint,
      sender.address,
      frame,
      `broadcast ${requestId}`,
      requestId,
    );
    deps.metrics?.record("inline", outcome, deps.now() - started);
    const ack: AckFrame = {
      type: "ack",
      ...(ref !== undefined && { ref }),
      room: sender.room,
      id: frame.id,
      seq: frame.seq,
    };
    return { statusCode: 200, body: JSON.stringify(ack) };
  };
}

/** The room's next sequence number: its counter, moved on by one in one atomic write. */
export async function nextSequence(messages: Repository<StoredMessage>, partition: string): Promise<number> {
  const counter = (await messages.update({ roomKey: partition, id: SEQUENCE_ITEM_ID }, { add: { seq: 1 } })) as
    | (StoredMessage & { seq: number })
    | undefined;
  return counter?.seq ?? 0;
}

/** The message's text and name, or why they are refused; `name` is read only if `readName`. */
function readMessage(
  request: RoomRequest,
  maxMessageBytes: number,
  readName: boolean,
): Checked<{ data: string; name?: string }> {
  const { data, name } = request.fields;
  if (typeof data !== "string") return { error: '"data" must be a string' };
  if (data.trim() === "") return { error: '"data" must not be empty' };
  const bytes = Buffer.byteLength(data);
  if (bytes > maxMessageBytes) return { error: `"data" is ${bytes} bytes; the limit is ${maxMessageBytes}` };
  if (!readName || name === undefined || (typeof name === "string" && name.trim() === "")) return { value: { data } };
  const displayName = validateDisplayName(name);
  if ("error" in displayName) return displayName;
  return { value: { data, name: displayName.value } };
}

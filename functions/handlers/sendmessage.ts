/**
 * The `sendmessage` route's handler: a chat message checked, stored in its room's history and
 * posted to the room.
 */
import type { Repository } from "../../dal/repository";
import { broadcastMessage, type FanoutDependencies, type FanoutOutcome } from "../broadcast/fanout";
import { describe } from "../broadcast/room-broadcast";
import { validateDisplayName } from "../chat/display-name";
import { errorFrame } from "../chat/frames";
import { verifiedUser } from "../chat/identity";
import { addressOf, findMember, NOT_IN_A_ROOM } from "../chat/member";
import { type ChatMessageFrame, messageId, type StoredMessage } from "../chat/message";
import { roomKey } from "../chat/room";
import { type Checked, parseJsonObject } from "../runtime/checked";
import { ConnectionGoneError, managementEndpoint } from "../runtime/connection-manager";
import { API_GATEWAY_MAX_MESSAGE_BYTES, type FunctionConfig } from "../runtime/function-config";
import type { WebSocketEvent, WebSocketHandler } from "../runtime/lambda-events";

/**
 * The largest message frame: a `history` answer (its envelope under 1 KB) can always carry one,
 * and API Gateway's 128 KB limit on a message holds for every post of it.
 */
const MAX_MESSAGE_FRAME_BYTES = API_GATEWAY_MAX_MESSAGE_BYTES - 1024;

/**
 * What a client sends: `{"action":"sendmessage","data":"hello"}`. With auth off it may add
 * `"name":"Ada"` (else the name it connected with is used); with auth on the name is the one the
 * authorizer verified, and a `name` in the message is ignored, so no one can speak under another's.
 */
interface SendMessageRequest {
  action: "sendmessage";
  data: string;
  /** Display name, optional. */
  name?: string;
}

export interface SendMessageHandlerDependencies extends FanoutDependencies {
  messages: Repository<StoredMessage>;
  config: FanoutDependencies["config"] & Pick<FunctionConfig, "maxMessageBytes" | "historyTtlSeconds">;
}

/**
 * `sendmessage`: validates the request, finds the sender's room, stores the message (history) and
 * posts it to everyone in the room, inline or, in a large room, through broadcast workers
 * (`../broadcast/fanout.ts`). A message that cannot be stored is not sent:
 * the handler fails, and API Gateway tells the sender so.
 */
export function createSendMessageHandler(deps: SendMessageHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, requestId } = event.requestContext;
    const endpoint = deps.config.managementEndpoint ?? managementEndpoint(event.requestContext, deps.config.region);
    const manager = deps.managementApi(endpoint);
    const refuse = async (message: string, statusCode = 400) => {
      await manager.post(connectionId, errorFrame(message, requestId)).catch((error: unknown) => {
        if (!(error instanceof ConnectionGoneError))
          deps.logger.warn(`error frame to ${connectionId} failed: ${describe(error)}`);
      });
      return { statusCode, body: message };
    };

    const user = verifiedUser(event.requestContext);
    const checked = parseRequest(event, deps.config.maxMessageBytes, user === undefined);
    if ("error" in checked) return refuse(checked.error);
    const parsed = checked.value;
    const sender = await findMember(deps.connections, event);
    if (!sender) return refuse(NOT_IN_A_ROOM);

    const sentAt = new Date(deps.now()).toISOString();
    const name = user?.name ?? parsed.name ?? sender.name;
    const frame: ChatMessageFrame = {
      type: "message",
      id: messageId(sentAt, requestId),
      room: sender.room,
      connectionId,
      ...(user && { userId: user.userId }),
      ...(name !== undefined && { name }),
      data: parsed.data,
      sentAt,
    };
    const bytes = Buffer.byteLength(JSON.stringify(frame));
    if (bytes > MAX_MESSAGE_FRAME_BYTES) {
      // JSON escapes a control character as six bytes: a message under the limit can grow past it.
      return refuse(`The message is ${bytes} bytes once encoded; the limit is ${MAX_MESSAGE_FRAME_BYTES}`);
    }
    const { type: _type, ...message } = frame;
    await deps.messages.put({
      ...message,
      roomKey: roomKey(addressOf(sender)),
      expiresAt: Math.floor(deps.now() / 1000) + deps.config.historyTtlSeconds,
    });
    const started = deps.now();
    const outcome: FanoutOutcome = await broadcastMessage(
      deps,
      manager,
      endpoint,
      addressOf(sender),
      frame,
      `broadcast ${requestId}`,
    );
    deps.metrics?.record("inline", outcome, deps.now() - started);
    return { statusCode: 200, body: JSON.stringify(outcome) };
  };
}

/** The request, or why it is refused; `name` is read only if `readName`. */
function parseRequest(event: WebSocketEvent, maxMessageBytes: number, readName = true): Checked<SendMessageRequest> {
  const request = parseJsonObject(event.body, "message");
  if ("error" in request) return request;
  const { data, name } = request.value;
  if (typeof data !== "string") return { error: '"data" must be a string' };
  if (data.trim() === "") return { error: '"data" must not be empty' };
  const bytes = Buffer.byteLength(data);
  if (bytes > maxMessageBytes) return { error: `"data" is ${bytes} bytes; the limit is ${maxMessageBytes}` };
  if (!readName || name === undefined || (typeof name === "string" && name.trim() === "")) {
    return { value: { action: "sendmessage", data } };
  }
  const displayName = validateDisplayName(name);
  if ("error" in displayName) return displayName;
  return { value: { action: "sendmessage", data, name: displayName.value } };
}

/**
 * The chat's protocol as the client library sees it (docs/protocol.md): the frames a client receives,
 * declared once by the functions that send them and only re-exported here (type imports, which
 * vanish from the built module), and the one function the client shares with them: a message's id
 * from its number.
 */
import type { PresenceFrame } from "../functions/broadcast/room-broadcast";
import type { AckFrame, ErrorFrame } from "../functions/chat/frames";
import type { ChatMessageFrame } from "../functions/chat/message";
import type { HistoryFrame } from "../functions/handlers/history";
import type { InviteFrame, RoomAnswerFrame } from "../functions/handlers/join";
import type { ChangeFrame } from "../functions/handlers/message-changes";
import type { TypingFrame } from "../functions/handlers/typing";
import type { WhoFrame } from "../functions/handlers/who";

export { messageId } from "../functions/chat/message";
export type {
  AckFrame,
  ChangeFrame,
  ChatMessageFrame,
  ErrorFrame,
  HistoryFrame,
  InviteFrame,
  PresenceFrame,
  RoomAnswerFrame,
  TypingFrame,
  WhoFrame,
};

/** API Gateway's own frames: `{"message": "Forbidden" | "Internal server error" | ..., "connectionId", "requestId"}`. */
export interface GatewayFrame {
  type?: undefined;
  message: string;
  connectionId?: string;
  requestId?: string;
}

/** Every frame the server sends. */
export type ServerFrame =
  | ChatMessageFrame
  | ChangeFrame
  | PresenceFrame
  | TypingFrame
  | InviteFrame
  | ErrorFrame
  | AckFrame
  | RoomAnswerFrame
  | HistoryFrame
  | WhoFrame;

/** The frames that answer a request (they carry its `ref`). */
export type AnswerFrame = AckFrame | RoomAnswerFrame | HistoryFrame | WhoFrame;

/** The id before every numbered message's: `history` after it answers a room from its first message. */
export const BEFORE_FIRST_MESSAGE = "s000000000000";

/** A frame's JSON, if it is a JSON object; anything else is `undefined`. */
export function parseFrame(raw: unknown): ServerFrame | GatewayFrame | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const frame: unknown = JSON.parse(raw);
    return frame !== null && typeof frame === "object" && !Array.isArray(frame)
      ? (frame as ServerFrame | GatewayFrame)
      : undefined;
  } catch {
    return undefined;
  }
}

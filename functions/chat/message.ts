/**
 * A chat message as it is sent and stored. Its own module, apart from the handlers: a function
 * that reads one of these names captures this module whole when Pulumi serializes it.
 */

/** The frame everyone in the room receives for a message; `history` answers with the same. */
export interface ChatMessageFrame {
  type: "message";
  /** `s{seq}`, twelve digits: unique, and sorts as `seq` does. (`{sentAt}#{requestId}` before rooms counted.) */
  id: string;
  /** The room's count of messages, this one included: one more than the last, so a gap shows. */
  seq?: number;
  room: string;
  /** The sender's connection id. */
  connectionId: string;
  /** With auth on: the sender's verified user id (`guest-{uuid}`, or the issuer's `sub`). */
  userId?: string;
  name?: string;
  data: string;
  /** ISO-8601, when the message was handled. */
  sentAt: string;
  /** ISO-8601, when its author last changed it. */
  editedAt?: string;
  /** Its author took it back: `data` is empty, the message keeps its place. */
  deleted?: true;
  /** ISO-8601, when it was taken back. */
  deletedAt?: string;
}

/** One item of the messages table: the frame as sent, under its room's partition. */
export type StoredMessage = Omit<ChatMessageFrame, "type"> & {
  /** The room's partition (`{apiId}#{stage}#{room}`). */
  roomKey: string;
  /** Epoch seconds: DynamoDB's TTL deletes the message after this. */
  expiresAt: number;
};

/** The messages table's keys and TTL attribute; `infra/` declares the table with these. */
export const MESSAGES_PARTITION_KEY = "roomKey" satisfies keyof StoredMessage;
export const MESSAGES_RANGE_KEY = "id" satisfies keyof StoredMessage;
export const MESSAGES_TTL_ATTRIBUTE = "expiresAt" satisfies keyof StoredMessage;

/**
 * A message id: `s` and the room's sequence number in twelve digits; or, stored before rooms
 * counted their messages, an ISO-8601 instant in milliseconds, `#`, an API Gateway request id
 * (those sort before every `s` id, as they came before).
 */
export const MESSAGE_ID = /^(s\d{12}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9+/=_-]{1,128})$/;

export function messageId(seq: number): string {
  return `s${String(seq).padStart(12, "0")}`;
}

/** The sequence number of an id (`undefined` for an id from before rooms counted). */
export function sequenceOf(id: string): number | undefined {
  return id.startsWith("s") ? Number(id.slice(1)) : undefined;
}

/**
 * The room's counter, an item of its own history partition: its range key sorts before every
 * message's and it has no TTL attribute, so history's TTL filter never answers it.
 */
export const SEQUENCE_ITEM_ID = "#seq";

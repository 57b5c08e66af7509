/**
 * A chat message as it is sent and stored. Its own module, apart from the handlers: a function
 * that reads one of these names captures this module whole when Pulumi serializes it.
 */

/** The frame everyone in the room receives for a message; `history` answers with the same. */
export interface ChatMessageFrame {
  type: "message";
  /** `{sentAt}#{requestId}`: unique, and sorts as the messages were handled. */
  id: string;
  room: string;
  /** The sender's connection id. */
  connectionId: string;
  /** With auth on: the sender's verified user id (`guest-{uuid}`, or the issuer's `sub`). */
  userId?: string;
  name?: string;
  data: string;
  /** ISO-8601, when the message was handled. */
  sentAt: string;
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

/** A message id: an ISO-8601 instant in milliseconds, `#`, an API Gateway request id. */
export const MESSAGE_ID = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9+/=_-]{1,128}$/;

export function messageId(sentAt: string, requestId: string): string {
  return `${sentAt}#${requestId}`;
}

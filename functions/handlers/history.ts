/**
 * A room's recent messages: each message is stored when it is sent, kept `historyTtlSeconds`
 * (DynamoDB's TTL deletes it), and `{"action":"history"}` pages back through them, newest page
 * first, each page oldest message first. Ordering is by the server's time with the request id as a
 * tie-break: both are in the message's id, the table's range key.
 */

import type { Repository } from "../../dal/repository";
import type { Connection } from "../chat/connection";
import { FrameBudget, refusal } from "../chat/frames";
import { addressOf, findMember, NOT_IN_A_ROOM } from "../chat/member";
import {
  type ChatMessageFrame,
  MESSAGE_ID,
  MESSAGES_PARTITION_KEY,
  MESSAGES_RANGE_KEY,
  MESSAGES_TTL_ATTRIBUTE,
  type StoredMessage,
} from "../chat/message";
import { roomKey } from "../chat/room";
import { type Checked, parseJsonObject } from "../runtime/checked";
import type { WebSocketHandler } from "../runtime/lambda-events";

const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 100;
/** `{"type":"history",...}`: `before` is the cursor of the next (older) page, `null` at the start. */
export interface HistoryFrame {
  type: "history";
  room: string;
  messages: ChatMessageFrame[];
  before: string | null;
}

interface HistoryHandlerDependencies {
  connections: Repository<Connection>;
  messages: Repository<StoredMessage>;
  now: () => number;
}

/** What a client sends: `{"action":"history","limit":50,"before":"<cursor>"}`, both optional. */
function parseHistoryRequest(body: string | undefined): Checked<{ limit: number; before?: string }> {
  const request = parseJsonObject(body, "message");
  if ("error" in request) return request;
  const { limit = DEFAULT_HISTORY_LIMIT, before = null } = request.value;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    return { error: `"limit" must be a whole number from 1 to ${MAX_HISTORY_LIMIT}` };
  }
  if (before === null) return { value: { limit } };
  if (typeof before !== "string" || !MESSAGE_ID.test(before)) {
    return { error: '"before" must be null or the "before" of an earlier history answer' };
  }
  return { value: { limit, before } };
}

/**
 * `history` (a two-way route): the latest `limit` messages of the caller's room before the cursor,
 * as many as fit in one frame. One Query, newest first, of at most `limit + 1` items: the extra
 * one only tells whether there is an older page.
 */
export function createHistoryHandler(deps: HistoryHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { requestId } = event.requestContext;
    const parsed = parseHistoryRequest(event.body);
    if ("error" in parsed) return refusal(parsed.error, requestId);
    const request = parsed.value;
    const member = await findMember(deps.connections, event);
    if (!member) return refusal(NOT_IN_A_ROOM, requestId);

    const frame: HistoryFrame = { type: "history", room: member.room, messages: [], before: null };
    // The envelope at its longest: a cursor in `before`.
    const budget = new FrameBudget({ ...frame, before: "x".repeat(180) });
    const newestFirst: ChatMessageFrame[] = [];
    const pages = deps.messages.query({
      partition: { attribute: MESSAGES_PARTITION_KEY, value: roomKey(addressOf(member)) },
      ...(request.before && { range: { attribute: MESSAGES_RANGE_KEY, below: request.before } }),
      descending: true,
      pageSize: request.limit + 1,
      // Expired messages may linger until DynamoDB deletes them: they are no longer history.
      above: { attribute: MESSAGES_TTL_ATTRIBUTE, value: Math.floor(deps.now() / 1000) },
    });
    // Whether older messages are left (no labelled break: Pulumi's serializer cannot read one).
    const fill = async (): Promise<boolean> => {
      for await (const page of pages) {
        for (const stored of page) {
          const { roomKey: _partition, expiresAt: _expiry, ...message } = stored;
          const item: ChatMessageFrame = { type: "message", ...message };
          // A message always fits alone: sendmessage refuses one whose frame would not.
          if (newestFirst.length === request.limit || !budget.take(item)) return true;
          newestFirst.push(item);
        }
      }
      return false;
    };
    const more = await fill();
    frame.messages = newestFirst.reverse();
    frame.before = more ? (frame.messages[0]?.id ?? null) : null;
    return { statusCode: 200, body: JSON.stringify(frame) };
  };
}

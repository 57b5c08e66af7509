/**
 * A room's recent messages: each message is stored when it is sent, kept `historyTtlSeconds`
 * (DynamoDB's TTL deletes it), and `{"action":"history"}` pages back through them, newest page
 * first, each page oldest message first. Ordering is by the server's time with the request id as a
 * tie-break: both are in the message's id, the table's range key.
 */

import type { Key, Repository } from "../../dal/repository";
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
import { API_GATEWAY_MAX_MESSAGE_BYTES, type FunctionConfig } from "../runtime/function-config";
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
  config: Pick<FunctionConfig, "maxMessageBytes">;
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
 * as many as fit in one frame. Queries newest first, each page no larger than the frame's room
 * left could take (the first: as many of the largest messages as fill a frame, and one more), so a
 * room of large messages costs about a frame's worth of reads, not `limit` messages' worth.
 */
export function createHistoryHandler(deps: HistoryHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { requestId } = event.requestContext;
    const parsed = parseHistoryRequest(event.body);
    if ("error" in parsed) return refusal(parsed.error, requestId);
    const member = await findMember(deps.connections, event);
    if (!member) return refusal(NOT_IN_A_ROOM, requestId);

    const frame: HistoryFrame = { type: "history", room: member.room, messages: [], before: null };
    const { newestFirst, more } = await readHistory(deps, roomKey(addressOf(member)), parsed.value, frame);
    frame.messages = newestFirst.reverse();
    frame.before = more ? (frame.messages[0]?.id ?? null) : null;
    return { statusCode: 200, body: JSON.stringify(frame) };
  };
}

/** The frame's messages, newest first, and whether older ones are left. */
async function readHistory(
  deps: HistoryHandlerDependencies,
  partition: string,
  request: { limit: number; before?: string },
  envelope: HistoryFrame,
): Promise<{ newestFirst: ChatMessageFrame[]; more: boolean }> {
  // The envelope at its longest: a cursor in `before`.
  const budget = new FrameBudget({ ...envelope, before: "x".repeat(180) });
  const newestFirst: ChatMessageFrame[] = [];
  let startKey: Key | undefined;
  let bytesRead = 0;
  let pageSize = Math.min(
    request.limit + 1,
    Math.floor(API_GATEWAY_MAX_MESSAGE_BYTES / deps.config.maxMessageBytes) + 1,
  );
  for (;;) {
    const page = await deps.messages.queryPage({
      partition: { attribute: MESSAGES_PARTITION_KEY, value: partition },
      ...(request.before && { range: { attribute: MESSAGES_RANGE_KEY, below: request.before } }),
      descending: true,
      pageSize,
      // Expired messages may linger until DynamoDB deletes them: they are no longer history.
      above: { attribute: MESSAGES_TTL_ATTRIBUTE, value: Math.floor(deps.now() / 1000) },
      ...(startKey && { startKey }),
    });
    for (const stored of page.items) {
      const { roomKey: _partition, expiresAt: _expiry, ...message } = stored;
      const item: ChatMessageFrame = { type: "message", ...message };
      // A message always fits alone: sendmessage refuses one whose frame would not.
      if (newestFirst.length === request.limit || !budget.take(item)) return { newestFirst, more: true };
      newestFirst.push(item);
      bytesRead += Buffer.byteLength(JSON.stringify(item));
    }
    if (!page.lastKey) return { newestFirst, more: false };
    startKey = page.lastKey;
    // As many more as the frame's room left would take at the sizes read so far, and one more.
    const averageBytes = newestFirst.length > 0 ? bytesRead / newestFirst.length : deps.config.maxMessageBytes;
    pageSize = Math.max(1, Math.min(request.limit + 1 - newestFirst.length, Math.ceil(budget.left / averageBytes) + 1));
  }
}

/**
 * A room's messages: each message is stored when it is sent, kept `historyTtlSeconds` (DynamoDB's
 * TTL deletes it), and `{"action":"history"}` pages through them, as they are now (edited text,
 * deleted ones as tombstones). Back from the newest with `before`, or forward from a message a
 * client last saw with `after`, to fill what it missed; each page oldest message first. Ordering is
 * the room's sequence number, which the message's id (the table's range key) carries.
 */
import type { Key, Repository } from "../../dal/repository";
import type { Connection } from "../chat/connection";
import { FrameBudget, refusal } from "../chat/frames";
import { memberOfRoom } from "../chat/member";
import {
  type ChatMessageFrame,
  MESSAGE_ID,
  MESSAGES_PARTITION_KEY,
  MESSAGES_RANGE_KEY,
  MESSAGES_TTL_ATTRIBUTE,
  type StoredMessage,
  sequenceOf,
} from "../chat/message";
import { parseRoomRequest, type RoomRequest } from "../chat/requests";
import { roomKey } from "../chat/room";
import type { Checked } from "../runtime/checked";
import { API_GATEWAY_MAX_MESSAGE_BYTES, type FunctionConfig } from "../runtime/function-config";
import type { WebSocketHandler } from "../runtime/lambda-events";

const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 100;

/**
 * `{"type":"history",...}`. Paging back: `before` is the cursor of the next (older) page, `null`
 * at the start. Paging forward: `after` is the cursor of the next (newer) page, `null` once the
 * page reaches the newest; `missed` counts messages after the client's that history no longer
 * holds (expired), so it can say so.
 */
export interface HistoryFrame {
  type: "history";
  ref?: string;
  room: string;
  messages: ChatMessageFrame[];
  before?: string | null;
  after?: string | null;
  missed?: number;
}

interface HistoryHandlerDependencies {
  connections: Repository<Connection>;
  messages: Repository<StoredMessage>;
  config: Pick<FunctionConfig, "maxMessageBytes">;
  now: () => number;
}

interface HistoryRequest {
  limit: number;
  /** Where to start: before this id (newest first), or after it (oldest first). */
  cursor?: { before: string } | { after: string };
}

/** `{"action":"history","room":"kitchen","limit":50,"before":"<id>"}`, or `"after"` instead; all optional. */
function readHistoryRequest({ fields }: RoomRequest): Checked<HistoryRequest> {
  const { limit = DEFAULT_HISTORY_LIMIT, before = null, after = null } = fields;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    return { error: `"limit" must be a whole number from 1 to ${MAX_HISTORY_LIMIT}` };
  }
  if (before !== null && after !== null) return { error: 'Give "before" or "after", not both' };
  if (before !== null && (typeof before !== "string" || !MESSAGE_ID.test(before))) {
    return { error: '"before" must be null or the "before" of an earlier history answer' };
  }
  if (after !== null && (typeof after !== "string" || !MESSAGE_ID.test(after))) {
    return { error: '"after" must be null or the id of a message of the room' };
  }
  if (typeof before === "string") return { value: { limit, cursor: { before } } };
  if (typeof after === "string") return { value: { limit, cursor: { after } } };
  return { value: { limit } };
}

/**
 * `history` (a two-way route): up to `limit` messages of one of the caller's rooms from the cursor,
 * as many as fit in one frame.
 */
export function createHistoryHandler(deps: HistoryHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { requestId } = event.requestContext;
    const parsed = parseRoomRequest(event.body);
    if ("error" in parsed) return refusal(parsed.error, requestId);
    const { ref } = parsed.value;
    const request = readHistoryRequest(parsed.value);
    if ("error" in request) return refusal(request.error, requestId, ref);
    const member = await memberOfRoom(deps.connections, event, parsed.value.room);
    if ("error" in member) return refusal(member.error, requestId, ref);

    const frame: HistoryFrame = { type: "history", ...(ref !== undefined && { ref }), room: member.room, messages: [] };
    const forward = request.value.cursor !== undefined && "after" in request.value.cursor;
    const { read, more } = await readHistory(deps, roomKey(member.address), request.value, frame);
    if (forward) {
      frame.messages = read;
      frame.after = more ? (read.at(-1)?.id ?? null) : null;
      const from = sequenceOf((request.value.cursor as { after: string }).after);
      const first = read[0]?.seq;
      if (from !== undefined && first !== undefined && first > from + 1) frame.missed = first - from - 1;
    } else {
      frame.messages = read.reverse();
      frame.before = more ? (frame.messages[0]?.id ?? null) : null;
    }
    return { statusCode: 200, body: JSON.stringify(frame) };
  };
}

/**
 * The page's messages in reading order (newest first back from `before`, oldest first after
 * `after`), and whether more are left. Each Query page is no larger than the frame's room left
 * could take (the first: as many of the largest messages as fill a frame, and one more), so a
 * room of large messages costs about a frame of reads, not `limit` messages' worth.
 */
async function readHistory(
  deps: HistoryHandlerDependencies,
  partition: string,
  request: HistoryRequest,
  envelope: HistoryFrame,
): Promise<{ read: ChatMessageFrame[]; more: boolean }> {
  // The envelope at its longest: both cursors and a count of missed messages.
  const budget = new FrameBudget({ ...envelope, before: "x".repeat(180), after: "x".repeat(180), missed: 1e12 });
  const read: ChatMessageFrame[] = [];
  const { cursor } = request;
  const forward = cursor !== undefined && "after" in cursor;
  let startKey: Key | undefined;
  let bytesRead = 0;
  let pageSize = Math.min(
    request.limit + 1,
    Math.floor(API_GATEWAY_MAX_MESSAGE_BYTES / deps.config.maxMessageBytes) + 1,
  );
  for (;;) {
    const page = await deps.messages.queryPage({
      partition: { attribute: MESSAGES_PARTITION_KEY, value: partition },
      ...(cursor && {
        range: {
          attribute: MESSAGES_RANGE_KEY,
          ...("after" in cursor ? { above: cursor.after } : { below: cursor.before }),
        },
      }),
      descending: !forward,
      pageSize,
      // Expired messages may linger until DynamoDB deletes them: they are no longer history. The
      // room's counter has no expiry, so it is never answered either.
      above: { attribute: MESSAGES_TTL_ATTRIBUTE, value: Math.floor(deps.now() / 1000) },
      ...(startKey && { startKey }),
    });
    for (const stored of page.items) {
      const { roomKey: _partition, expiresAt: _expiry, ...message } = stored;
      const item: ChatMessageFrame = { type: "message", ...message };
      // A message always fits alone: sendmessage refuses one whose frame would not.
      if (read.length === request.limit || !budget.take(item)) return { read, more: true };
      read.push(item);
      bytesRead += Buffer.byteLength(JSON.stringify(item));
    }
    if (!page.lastKey) return { read, more: false };
    startKey = page.lastKey;
    // As many more as the frame's room left would take at the sizes read so far, and one more.
    const averageBytes = read.length > 0 ? bytesRead / read.length : deps.config.maxMessageBytes;
    pageSize = Math.max(1, Math.min(request.limit + 1 - read.length, Math.ceil(budget.left / averageBytes) + 1));
  }
}

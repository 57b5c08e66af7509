/** `{"action":"who","room":"kitchen"}` (a two-way route): who is in one of the caller's rooms. */
import type { Repository } from "../../dal/repository";
import { CONNECTION_KEY, type Connection } from "../chat/connection";
import { FrameBudget, refusal } from "../chat/frames";
import { memberOfRoom } from "../chat/member";
import { type Membership, memberConnectionId } from "../chat/membership";
import { parseRoomRequest } from "../chat/requests";
import { ROOM_INDEX, ROOM_INDEX_KEY, roomShardKeys } from "../chat/room";
import type { WebSocketHandler } from "../runtime/lambda-events";

/** Members listed at most, whatever fits in the frame: a huge room's answer stays one frame. */
export const MAX_WHO_MEMBERS = 1_000;

interface WhoMember {
  connectionId: string;
  userId?: string;
  name?: string;
  /** ISO-8601. */
  connectedAt: string;
}

/** `truncated`: the room has more members than the answer lists. */
export interface WhoFrame {
  type: "who";
  ref?: string;
  room: string;
  members: WhoMember[];
  truncated: boolean;
}

interface WhoHandlerDependencies {
  connections: Repository<Connection>;
  memberships: Repository<Membership>;
  now: () => number;
}

/**
 * Reads the room's shards from the `byRoom` index until the answer is full, so a room of 100,000
 * costs what a room of a thousand does; members are listed oldest connection first.
 */
export function createWhoHandler(deps: WhoHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { requestId } = event.requestContext;
    const request = parseRoomRequest(event.body);
    if ("error" in request) return refusal(request.error, requestId);
    const { ref } = request.value;
    const member = await memberOfRoom(deps.connections, event, request.value.room);
    if ("error" in member) return refusal(member.error, requestId, ref);
    const frame: WhoFrame = {
      type: "who",
      ...(ref !== undefined && { ref }),
      room: member.room,
      members: [],
      truncated: false,
    };
    const budget = new FrameBudget({ ...frame, truncated: true });
    const nowSeconds = Math.floor(deps.now() / 1000);
    const members: WhoMember[] = [];
    // Whether the shard's members all fit (no labelled break: Pulumi's serializer cannot read one).
    const listShard = async (shardKey: string): Promise<boolean> => {
      const pages = deps.memberships.query({
        index: ROOM_INDEX,
        partition: { attribute: ROOM_INDEX_KEY, value: shardKey },
        attributes: [CONNECTION_KEY, "userId", "name", "connectedAt"],
        // Rows past their TTL may linger until DynamoDB deletes them: those connections are gone.
        above: { attribute: "expiresAt", value: nowSeconds },
      });
      for await (const page of pages) {
        for (const row of page) {
          const listed: WhoMember = {
            connectionId: memberConnectionId(row.connectionId),
            ...(row.userId !== undefined && { userId: row.userId }),
            ...(row.name !== undefined && { name: row.name }),
            connectedAt: new Date(row.connectedAt).toISOString(),
          };
          if (members.length === MAX_WHO_MEMBERS || !budget.take(listed)) return false;
          members.push(listed);
        }
      }
      return true;
    };
    for (const shardKey of roomShardKeys(member.address)) {
      if (!(await listShard(shardKey))) {
        frame.truncated = true;
        break;
      }
    }
    frame.members = members.sort(
      (a, b) => a.connectedAt.localeCompare(b.connectedAt) || a.connectionId.localeCompare(b.connectionId),
    );
    return { statusCode: 200, body: JSON.stringify(frame) };
  };
}

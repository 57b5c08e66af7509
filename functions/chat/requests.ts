/**
 * What every request a client sends may carry besides its action: the room it is for (`"room"`:
 * without it, the room the connection joined first) and the client's own reference (`"ref"`),
 * echoed in the answer or the error frame, so a client can tell which of its requests each answers.
 */
import { type Checked, parseJsonObject } from "../runtime/checked";
import { ROOM_NAME } from "./room";

/** A client's reference: up to 64 printable ASCII characters. */
const REF = /^[\x20-\x7e]{1,64}$/;

export interface RoomRequest {
  /** The rest of the request's fields. */
  fields: Record<string, unknown>;
  room?: string;
  ref?: string;
}

/** The request's JSON object, its room and reference checked. */
export function parseRoomRequest(body: string | undefined): Checked<RoomRequest> {
  const parsed = parseJsonObject(body, "message");
  if ("error" in parsed) return parsed;
  const { room, ref } = parsed.value;
  if (ref !== undefined && (typeof ref !== "string" || !REF.test(ref))) {
    return { error: '"ref" must be 1 to 64 printable characters' };
  }
  if (room !== undefined && (typeof room !== "string" || !ROOM_NAME.test(room))) {
    return { error: '"room" must be 1 to 64 letters, digits, - or _' };
  }
  return { value: { fields: parsed.value, ...(room !== undefined && { room }), ...(ref !== undefined && { ref }) } };
}

/** The request's reference, if it has a good one: for refusals made before the request is read. */
export function refOf(body: string | undefined): string | undefined {
  const parsed = parseRoomRequest(body);
  return "value" in parsed ? parsed.value.ref : undefined;
}

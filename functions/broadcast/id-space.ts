/**
 * Connection ids as points of an id space from 0 to 1, so a large shard can be cut into slices
 * of about the same number of members without reading it: connection ids are random, so how far
 * into the space a shard's first page reached tells how many members the shard holds.
 */
import type { IdRange } from "./room-reader";

/**
 * The characters of API Gateway's connection ids (base64url and `=`) in DynamoDB's order (by
 * UTF-8 bytes). Slice bounds are made of them; any other character still sorts, by its neighbours.
 */
export const ID_ALPHABET = "-0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
/** Characters of a slice bound: 65³ (274,625) places to cut. */
const BOUND_LENGTH = 3;

/** Where `id` falls in the id space, from 0 to 1, by its first characters. */
export function idPosition(id: string): number {
  let position = 0;
  let scale = 1;
  for (let i = 0; i < BOUND_LENGTH; i++) {
    scale /= ID_ALPHABET.length;
    const char = id[i];
    if (char === undefined) break;
    let rank = 0;
    while (rank < ID_ALPHABET.length && (ID_ALPHABET[rank] as string) < char) rank++;
    position += rank * scale;
  }
  return position;
}

/** The bound at `position` (0 to 1) of the id space. */
export function idAt(position: number): string {
  const base = ID_ALPHABET.length;
  let n = Math.min(base ** BOUND_LENGTH - 1, Math.floor(position * base ** BOUND_LENGTH));
  let bound = "";
  for (let i = 0; i < BOUND_LENGTH; i++) {
    bound = (ID_ALPHABET[n % base] as string) + bound;
    n = Math.floor(n / base);
  }
  return bound;
}

/**
 * Cuts a shard whose first `read` members (in id order) end at `lastId` into ranges of about
 * `sliceSize` members each, estimating the shard's size from how far `lastId` is into the id space.
 */
export function sliceRanges(read: number, lastId: string, sliceSize: number, maxSlices: number): IdRange[] {
  const reached = Math.max(idPosition(lastId), ID_ALPHABET.length ** -BOUND_LENGTH);
  const count = Math.min(maxSlices, Math.max(1, Math.ceil(read / reached / sliceSize)));
  const bounds = [...new Set(Array.from({ length: count - 1 }, (_, i) => idAt((i + 1) / count)))];
  return Array.from({ length: bounds.length + 1 }, (_, i) => ({
    ...(i > 0 && { from: bounds[i - 1] }),
    ...(i < bounds.length && { to: bounds[i] }),
  }));
}

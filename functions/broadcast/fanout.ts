/**
 * Fan-out: a large room's broadcast split across parallel invocations of the broadcast worker
 * (`./broadcast-worker.ts`), each posting to one slice of the room, a range of connection ids
 * within one shard (the `byRoom` index's range key is the connection id, so a slice is one Query).
 *
 * `sendmessage` reads the first `fanoutShardThreshold + 1` members of each shard, all four at once,
 * as a broadcast reads them anyway. A room whose shards all end within that is posted to inline,
 * as before: small rooms pay nothing more. A shard that goes on is handed to workers: how far into
 * the id space its first page reached tells how many members it holds (connection ids are
 * random), so it is cut into slices of about `fanoutSliceSize`, each invoked asynchronously.
 *
 * Semantics, on AWS's own rules:
 * - An asynchronous invocation is queued by Lambda, answered 202, and run by a separate process
 *   in an execution environment of the worker's own.
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 * - A worker that fails is not retried (`maximumRetryAttempts: 0`): a retry would post again to
 *   the members its first attempt reached. Its slice's remaining members miss the message, as one
 *   PostToConnection that fails misses its client: at most once, like API Gateway itself.
 * - Lambda may run one event twice ("the queue itself is eventually consistent",
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a worker
 *   first claims its slice with a conditional put, and a second copy posts nothing.
 */

import type { ChatMessageFrame } from "../chat/message";
import { ROOM_SHARDS, type RoomAddress } from "../chat/room";
import type { ConnectionManager } from "../runtime/connection-manager";
import type { FunctionConfig } from "../runtime/function-config";
import type { BroadcastDependencies, BroadcastOutcome } from "./room-broadcast";
import { broadcastToRoom, describe } from "./room-broadcast";
import { type IdRange, type Member, roomReader } from "./room-reader";

/** What `sendmessage` hands a broadcast worker: one slice of a room, and the frame to post. */
export interface BroadcastJob {
  /** The `@connections` endpoint of the API and stage the message came in on. */
  endpoint: string;
  address: RoomAddress;
  frame: ChatMessageFrame;
  shard: number;
  range: IdRange;
  /** `{shard}.{index}`: with the message id, the slice's claim. */
  slice: string;
}

/** Invokes the broadcast worker asynchronously (Lambda's `Invoke`, `InvocationType: Event`). */
export interface BroadcastWorkerClient {
  invoke(job: BroadcastJob): Promise<void>;
}

export interface FanoutDependencies extends BroadcastDependencies {
  /** Absent: every broadcast is inline (no worker deployed, as in unit tests of other routes). */
  broadcastWorker?: BroadcastWorkerClient;
  config: BroadcastDependencies["config"] &
    Pick<FunctionConfig, "fanoutShardThreshold" | "fanoutSliceSize" | "accountConcurrency">;
}

export interface FanoutOutcome extends BroadcastOutcome {
  /** Slices handed to workers (0: inline); their deliveries are counted by the workers. */
  slices: number;
  /** Slices Lambda did not accept: their members miss the message. */
  handOffsFailed: number;
}

/**
 * At most this many slices per message: a fifth of the account's concurrent executions (200 of
 * AWS's default 1,000), so a message's workers leave room for the routes and for other messages;
 * one per shard at least. A new account's quota is lower (AWS's Lambda quotas page), which the
 * stack's `lambdaConcurrency` says.
 */
export function maxSlices(accountConcurrency: number): number {
  return Math.max(ROOM_SHARDS, Math.floor(accountConcurrency / 5));
}

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

/**
 * Posts `frame` to its room: inline when the room is small, else through broadcast workers for
 * its large shards (and inline to its small ones).
 */
export async function broadcastMessage(
  deps: FanoutDependencies,
  manager: ConnectionManager,
  endpoint: string,
  address: RoomAddress,
  frame: ChatMessageFrame,
  label: string,
): Promise<FanoutOutcome> {
  const { broadcastWorker } = deps;
  if (!broadcastWorker)
    return { ...(await broadcastToRoom(deps, manager, address, frame, { label })), slices: 0, handOffsFailed: 0 };
  const threshold = deps.config.fanoutShardThreshold;
  const firstMembers = await Promise.all(
    Array.from({ length: ROOM_SHARDS }, (_, shard) => readUpTo(deps, address, shard, threshold + 1)),
  );
  const jobs: BroadcastJob[] = [];
  const inline: Member[] = [];
  firstMembers.forEach((members, shard) => {
    if (members.length <= threshold) {
      inline.push(...members);
      return;
    }
    const last = members.at(-1) as Member;
    const perShard = Math.floor(maxSlices(deps.config.accountConcurrency) / ROOM_SHARDS);
    sliceRanges(members.length, last.connectionId, deps.config.fanoutSliceSize, perShard).forEach((range, i) => {
      jobs.push({ endpoint, address, frame, shard, range, slice: `${shard}.${i}` });
    });
  });
  const [handOffs, outcome] = await Promise.all([
    Promise.allSettled(jobs.map((job) => broadcastWorker.invoke(job))),
    broadcastToRoom(deps, manager, address, frame, { label, recipients: inline }),
  ]);
  const refused = handOffs.filter((handOff) => handOff.status === "rejected");
  if (refused.length > 0) {
    deps.logger.warn(
      `${label}: ${refused.length} of ${jobs.length} slices not handed off; first failure: ${describe((refused[0] as PromiseRejectedResult).reason)}`,
    );
  }
  return { ...outcome, slices: jobs.length, handOffsFailed: refused.length };
}

/** The first `limit` live members of one shard, in id order. */
async function readUpTo(
  deps: FanoutDependencies,
  address: RoomAddress,
  shard: number,
  limit: number,
): Promise<Member[]> {
  const reader = roomReader(deps, address, undefined, { pageSize: limit, shards: [shard] });
  const members: Member[] = [];
  try {
    while (members.length < limit) {
      const member = await reader.take();
      if (member === undefined) break;
      members.push(member);
    }
  } finally {
    await reader.close();
  }
  return members;
}

/** A slice claimed by the worker posting it: an item of the messages table, off every room's history. */
export interface FanoutClaim {
  /** `{room's history partition}#fanout`: no room's own (a room name has no `#`). */
  roomKey: string;
  /** `{message id}#{slice}`. */
  id: string;
  /** Epoch seconds: kept past any retry Lambda could make (events live at most 6 hours). */
  expiresAt: number;
}

export const FANOUT_CLAIM_SUFFIX = "#fanout";
export const FANOUT_CLAIM_TTL_SECONDS = 6 * 60 * 60 + 60;

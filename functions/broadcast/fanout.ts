/**
 * Fan-out: a large room's broadcast split across parallel invocations of the broadcast worker
 * (`../handlers/broadcast-worker.ts`), each posting to one slice of the room, a range of connection ids
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

import { ROOM_SHARDS, type RoomAddress } from "../chat/room";
import type { ConnectionManager } from "../runtime/connection-manager";
import type { FunctionConfig } from "../runtime/function-config";
import { sliceRanges } from "./id-space";
import type { BroadcastDependencies, BroadcastOutcome } from "./room-broadcast";
import { broadcastToRoom, describe } from "./room-broadcast";
import { type IdRange, type Member, roomReader } from "./room-reader";

/** A frame for everyone in a room: a message, or a change to one. */
export interface RoomFrame {
  type: string;
  room: string;
  id?: string;
}

/** What `sendmessage` hands a broadcast worker: one slice of a room, and the frame to post. */
export interface BroadcastJob {
  /** The `@connections` endpoint of the API and stage the message came in on. */
  endpoint: string;
  address: RoomAddress;
  frame: RoomFrame;
  /** The broadcast's own id (the request's): with the slice, the slice's claim. */
  delivery: string;
  shard: number;
  range: IdRange;
  /** `{shard}.{index}`: with the delivery, the slice's claim. */
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

interface FanoutOutcome extends BroadcastOutcome {
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
 * Posts `frame` to its room: inline when the room is small, else through broadcast workers for
 * its large shards (and inline to its small ones).
 */
export async function broadcastMessage(
  deps: FanoutDependencies,
  manager: ConnectionManager,
  endpoint: string,
  address: RoomAddress,
  frame: RoomFrame,
  label: string,
  delivery: string,
): Promise<FanoutOutcome> {
  const { broadcastWorker } = deps;
  if (!broadcastWorker)
    return { ...(await broadcastToRoom(deps, manager, address, frame, { label })), slices: 0, handOffsFailed: 0 };
  // 1. Each shard's first members, all shards at once.
  const threshold = deps.config.fanoutShardThreshold;
  const firstMembers = await Promise.all(
    Array.from({ length: ROOM_SHARDS }, (_, shard) => readUpTo(deps, address, shard, threshold + 1)),
  );
  // 2. A shard that ended within them is posted to here; one that goes on is cut into slices.
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
      jobs.push({ endpoint, address, frame, delivery, shard, range, slice: `${shard}.${i}` });
    });
  });
  // 3. The slices handed to workers while this function posts to the rest.
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
  /**
   * `#fanout#{room's history partition}`: no room's own, since a room's partition begins with its
   * API's id, never with `#`; so a policy can grant the worker these partitions alone.
   */
  roomKey: string;
  /** `{delivery}#{slice}`: the broadcast's request id and the slice. */
  id: string;
  /** Epoch seconds: kept past any retry Lambda could make (events live at most 6 hours). */
  expiresAt: number;
}

export const FANOUT_CLAIM_PREFIX = "#fanout#";
export const FANOUT_CLAIM_TTL_SECONDS = 6 * 60 * 60 + 60;

/**
 * Posting a frame to everyone in a room: the room's connections read shard by shard from the
 * `byRoom` index (a Query each, the first page of every shard asked for at once), at most
 * `broadcastConcurrency` posts in flight. A connection that answers 410 is forgotten unless it may
 * still be connecting, and each room it was in is told it left; any other failure does not stop the rest.
 * Presence notices go to small rooms only (`PRESENCE_ROOM_LIMIT`).
 */
import type { Repository } from "../../dal/repository";
import { type Connection, connectingWindowMs } from "../chat/connection";
import { addressOfMembership, forgetConnection, type Membership, memberConnectionId } from "../chat/membership";
import type { RoomAddress } from "../chat/room";
import {
  ConnectionGoneError,
  type ConnectionManager,
  type ConnectionManagerFactory,
  managementEndpoint,
} from "../runtime/connection-manager";
import type { FunctionConfig } from "../runtime/function-config";
import type { WebSocketEvent } from "../runtime/lambda-events";
import type { BroadcastMetrics } from "./broadcast-metrics";
import { listSource, type Member, type MemberSource, type RoomReaderOptions, roomReader } from "./room-reader";

export interface BroadcastDependencies {
  connections: Repository<Connection>;
  /** The same table's membership items, read through the `byRoom` index. */
  memberships: Repository<Membership>;
  managementApi: ConnectionManagerFactory;
  config: Pick<FunctionConfig, "region" | "managementEndpoint" | "broadcastConcurrency" | "connectTimeoutMs">;
  now: () => number;
  logger: Pick<Console, "warn">;
  /** Each broadcast's figures, as CloudWatch metrics (deployed functions only). */
  metrics?: BroadcastMetrics;
}

/** Counts of one broadcast, returned for tests and logged when something failed. */
export interface BroadcastOutcome {
  delivered: number;
  /** Posts answered 410: the client has left, or is still connecting. */
  gone: number;
  failed: number;
  /** Leave notices posted for connections found gone (this broadcast's and theirs, in turn). */
  leaveNotices: number;
}

/** `{"type":"presence",...}`: someone joined or left the room. */
export interface PresenceFrame {
  type: "presence";
  event: "join" | "leave";
  room: string;
  connectionId: string;
  userId?: string;
  name?: string;
  /** ISO-8601. */
  at: string;
}

export function presenceFrame(event: PresenceFrame["event"], membership: Membership, at: number): PresenceFrame {
  return {
    type: "presence",
    event,
    room: membership.room,
    connectionId: memberConnectionId(membership.connectionId),
    ...(membership.userId !== undefined && { userId: membership.userId }),
    ...(membership.name !== undefined && { name: membership.name }),
    at: new Date(at).toISOString(),
  };
}

/** The `@connections` endpoint of the API and stage that sent `event`. */
export function endpointFor(deps: Pick<BroadcastDependencies, "config">, event: WebSocketEvent): string {
  return deps.config.managementEndpoint ?? managementEndpoint(event.requestContext, deps.config.region);
}

/** The `@connections` client for the API and stage that sent `event`. */
export function managerFor(deps: BroadcastDependencies, event: WebSocketEvent): ConnectionManager {
  return deps.managementApi(endpointFor(deps, event));
}

/** `name: message` of an error, without its stack. */
export function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Presence notices go to rooms of at most this many others. In a larger room a notice per join
 * and leave would cost each arrival a post to everyone (a room of n filling up costs n²/2 posts)
 * and drown its messages; its members ask `who` instead. A connection that joined quietly (its
 * row's `quiet`) leaves quietly, at no cost: no one was told it came.
 */
export const PRESENCE_ROOM_LIMIT = 100;

/**
 * The room's members but `except` when there are at most {@link PRESENCE_ROOM_LIMIT}, else
 * `undefined`.
 */
export async function smallRoomMembers(
  deps: Pick<BroadcastDependencies, "memberships" | "now">,
  address: RoomAddress,
  except?: string,
): Promise<Member[] | undefined> {
  // The first shard alone, then the others at once: a room of a few hundred is told large by one
  // request (requests, not items, are what a storm of 1,000 joins or leaves costs), and a small
  // room waits two round trips, not four.
  const reader = roomReader(deps, address, except, { pageSize: PRESENCE_ROOM_LIMIT + 1, prefetch: "after-first" });
  const members: Member[] = [];
  try {
    for (let member = await reader.take(); member !== undefined; member = await reader.take()) {
      if (members.length === PRESENCE_ROOM_LIMIT) return undefined;
      members.push(member);
    }
  } finally {
    await reader.close();
  }
  return members;
}

/**
 * Posts `frame` to every connection in the room (or to `recipients`, read before, or to the
 * members of `part`: some shards, some ids), then tells the room of each connection found gone.
 * Failures make one log line per broadcast, never one per connection: under load that would be
 * millions of lines, each paid for in CloudWatch.
 */
export async function broadcastToRoom(
  deps: BroadcastDependencies,
  manager: ConnectionManager,
  address: RoomAddress,
  frame: object,
  {
    label,
    recipients,
    part,
    postAfter,
  }: {
    label: string;
    recipients?: Member[];
    part?: Pick<RoomReaderOptions, "shards" | "range" | "pageSize">;
    /** Posting waits for this (the room is read meanwhile); if it rejects, nothing is posted. */
    postAfter?: Promise<unknown>;
  },
): Promise<BroadcastOutcome> {
  const outcome: BroadcastOutcome = { delivered: 0, gone: 0, failed: 0, leaveNotices: 0 };
  const failures: string[] = [];
  const source = recipients
    ? listSource(recipients)
    : roomReader(deps, address, undefined, { ...part, readAhead: true });
  if (postAfter) {
    try {
      await postAfter;
    } catch (error) {
      await source.close();
      throw error;
    }
  }
  const removed = await postAll(deps, manager, source, Buffer.from(JSON.stringify(frame)), { outcome, failures });
  // Each one gone is forgotten exactly once (the delete returns it to one caller), so this ends.
  for (let next = removed.shift(); next !== undefined; next = removed.shift()) {
    if (next.quiet) continue;
    const leave = Buffer.from(JSON.stringify(presenceFrame("leave", next, deps.now())));
    const others = await smallRoomMembers(deps, addressOfMembership(next));
    if (!others) continue;
    const counts: BroadcastOutcome = { delivered: 0, gone: 0, failed: 0, leaveNotices: 0 };
    removed.push(...(await postAll(deps, manager, listSource(others), leave, { outcome: counts, failures })));
    outcome.leaveNotices += counts.delivered;
  }
  if (failures.length > 0) {
    deps.logger.warn(
      `${label}: ${outcome.delivered} delivered, ${outcome.gone} gone, ${outcome.failed} failed, ${outcome.leaveNotices} leave notices; first failure: ${failures[0]}`,
    );
  }
  return outcome;
}

/**
 * Posts `frame` to every member of `source`, `broadcastConcurrency` workers each taking the next
 * when its post ends; resolves the memberships of the connections it forgot as gone.
 */
async function postAll(
  deps: BroadcastDependencies,
  manager: ConnectionManager,
  source: MemberSource,
  frame: Uint8Array,
  { outcome, failures }: { outcome: BroadcastOutcome; failures: string[] },
): Promise<Membership[]> {
  const removed: Membership[] = [];
  // A 410 from a connection whose `$connect` began within the window may mean it is still
  // connecting: deleting its row would leave it open and deaf for good.
  const connectingSince = deps.now() - connectingWindowMs(deps.config.connectTimeoutMs);
  const deliver = async ({ connectionId, connectedAt }: Member): Promise<void> => {
    try {
      await manager.post(connectionId, frame);
      outcome.delivered++;
    } catch (error) {
      if (!(error instanceof ConnectionGoneError)) {
        outcome.failed++;
        failures.push(`post to ${connectionId}: ${describe(error)}`);
        return;
      }
      outcome.gone++;
      // Still connecting, as far as anyone can tell: the conditional delete would fail, and cost a write.
      if (connectedAt >= connectingSince) return;
      try {
        removed.push(...((await forgetConnection(deps, connectionId, connectingSince)) ?? []));
      } catch (deleteError) {
        failures.push(`removing gone connection ${connectionId}: ${describe(deleteError)}`);
      }
    }
  };
  const worker = async (): Promise<void> => {
    for (let member = await source.take(); member !== undefined; member = await source.take()) await deliver(member);
  };
  try {
    await Promise.all(Array.from({ length: deps.config.broadcastConcurrency }, worker));
  } finally {
    await source.close();
  }
  return removed;
}

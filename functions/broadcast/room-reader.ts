/**
 * Reading a room's members from the `byRoom` index, shard by shard, one page at a time: what a
 * broadcast, a presence notice and a fan-out worker walk through.
 */
import type { Repository } from "../../dal/repository";
import { CONNECTION_KEY, type Connection } from "../chat/connection";
import { type Membership, memberConnectionId } from "../chat/membership";
import { ROOM_INDEX, ROOM_INDEX_KEY, ROOM_SHARDS, type RoomAddress, roomShardKey } from "../chat/room";

/** A member as a broadcast reads it from the index: the connection to post to. */
export type Member = Pick<Connection, "connectionId" | "connectedAt">;

/** Connection ids from `from` (inclusive) to `to` (exclusive); either end open when absent. */
export interface IdRange {
  from?: string;
  to?: string;
}

/** Hands out members one at a time (`undefined`: none left); `close` ends the reading. */
export interface MemberSource {
  take(): Promise<Member | undefined>;
  close(): Promise<void>;
}

export interface RoomReaderOptions {
  /** Items per Query page (default: DynamoDB's, up to 1 MB). */
  pageSize?: number;
  /** `after-first`: the first shard's page alone, then every other shard's at once. Default `all` at once. */
  prefetch?: "all" | "after-first";
  /** The shards to read, in order (default every shard of the room). */
  shards?: readonly number[];
  /** Only connection ids in this range. */
  range?: IdRange;
  /**
   * Ask for a shard's next page as soon as a page arrives, so that posting to one page hides the
   * reading of the next (for readers that read the whole room anyway, as a broadcast does).
   */
  readAhead?: boolean;
}

export function listSource(members: Member[]): MemberSource {
  let next = 0;
  return { take: async () => members[next++], close: async () => {} };
}

/**
 * Reads the room from the `byRoom` index, shard by shard: every shard's first page is asked for
 * at once (with `prefetch: "after-first"`, the others' once the first shard is read), later pages when
 * their shard's members run out. `except` is left out.
 */
export function roomReader(
  deps: { memberships: Repository<Membership>; now: () => number },
  address: RoomAddress,
  except: string | undefined,
  options: RoomReaderOptions = {},
): MemberSource {
  const { pageSize, prefetch = "all", range, readAhead = false } = options;
  const shardNumbers = options.shards ?? Array.from({ length: ROOM_SHARDS }, (_, shard) => shard);
  // Rows past their TTL may linger until DynamoDB deletes them ("within a few days"): skip them.
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
  const nowSeconds = Math.floor(deps.now() / 1000);
  const rangeCondition = keyCondition(range);
  // A paginator sends nothing until its first page is asked for.
  const shards = shardNumbers.map((shard) =>
    deps.memberships
      .query({
        index: ROOM_INDEX,
        partition: { attribute: ROOM_INDEX_KEY, value: roomShardKey(address, shard) },
        ...(rangeCondition && { range: { attribute: CONNECTION_KEY, ...rangeCondition } }),
        attributes: [CONNECTION_KEY, "connectedAt"],
        ...(pageSize !== undefined && { pageSize }),
        above: { attribute: "expiresAt", value: nowSeconds },
      })
      [Symbol.asyncIterator](),
  );
  // `between` takes the upper end in; it belongs to the next range.
  const keep = (row: Member) =>
    memberConnectionId(row.connectionId) !== except && (range?.to === undefined || row.connectionId !== range.to);
  const firstPages: Promise<IteratorResult<Membership[]>>[] = [];
  const askFirstPages = (from: number) => {
    for (let i = from; i < shards.length; i++) firstPages[i] ??= (shards[i] as AsyncIterator<Membership[]>).next();
  };
  if (prefetch === "all") askFirstPages(0);
  let shard = 0;
  let started = false;
  let members: Member[] = [];
  let next = 0;
  let reading: Promise<boolean> | undefined;
  let ahead: Promise<IteratorResult<Membership[]>> | undefined;
  const readPage = async (): Promise<boolean> => {
    while (shard < shards.length) {
      const iterator = shards[shard] as AsyncIterator<Membership[]>;
      // The first shard's page alone, or (past it) every later shard's at once.
      if (!started && shard === 0) firstPages[0] ??= iterator.next();
      else if (!started) askFirstPages(shard);
      const page = await (started ? (ahead ?? iterator.next()) : firstPages[shard]);
      ahead = undefined;
      started = true;
      if (page && !page.done) {
        if (readAhead) {
          ahead = iterator.next();
          // Awaited when its turn comes (or settled by `close`): no unhandled rejection meanwhile.
          ahead.catch(() => {});
        }
        members = page.value
          .filter(keep)
          .map((row) => ({ connectionId: memberConnectionId(row.connectionId), connectedAt: row.connectedAt }));
        next = 0;
        return true;
      }
      shard++;
      started = false;
    }
    return false;
  };
  return {
    take: async () => {
      while (next === members.length) {
        reading ??= readPage().finally(() => {
          reading = undefined;
        });
        if (!(await reading)) return undefined;
      }
      return members[next++];
    },
    // A failed read leaves the other shards' first pages pending: settle them, close the iterators.
    close: async () => {
      await Promise.allSettled([...firstPages, ...(ahead ? [ahead] : [])]);
      await Promise.allSettled(shards.map((iterator) => iterator.return?.()));
    },
  };
}

/** The Query's condition on the connection id for `range` (one condition: `to` is also filtered). */
function keyCondition(range: IdRange | undefined) {
  if (range?.from !== undefined && range.to !== undefined) return { between: [range.from, range.to] as const };
  if (range?.from !== undefined) return { atLeast: range.from };
  if (range?.to !== undefined) return { below: range.to };
  return undefined;
}

/**
 * What one identity (a user, a source address) may still do, kept in a DynamoDB table of its own
 * with atomic conditional updates, so every function and every execution environment shares it:
 *
 * - Rate limits as token buckets, kept as the generic cell rate algorithm's one number, the
 *   bucket's "theoretical arrival time" (`tat`): a bucket of `burst` requests, refilled one every
 *   `intervalMs`. A request at `now` is admitted when `tat - now <= (burst - 1) * intervalMs`, and
 *   moves `tat` on by one interval (from `now` when the bucket was full). Unlike a fixed window, a
 *   burst across a window's edge cannot double what passes: at most `burst` at once, then one per
 *   interval. https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm
 * - Capped sets (a user's open connections): an id is added only while the set is under its cap.
 *
 * Items expire by TTL once they no longer hold anything (a full bucket, an old set).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { RepositoryError } from "./errors";

/** A token bucket: `burst` requests at once, then one every `intervalMs`. */
export interface Rate {
  burst: number;
  intervalMs: number;
}

/** The limits table as the functions use it; tests stub it. */
export interface LimitsStore {
  /** Takes one request from the bucket `key`: resolves 0 when admitted, else the ms until one would be. */
  take(key: string, rate: Rate, nowMs: number): Promise<number>;
  /**
   * Adds `member` to the set `key` unless it holds `cap` already: resolves `undefined` when added,
   * else the members it holds. The set expires `ttlSeconds` after its last addition.
   */
  addCapped(key: string, member: string, cap: number, ttlSeconds: number, nowMs: number): Promise<string[] | undefined>;
  /** Removes `members` from the set `key` (missing ones are no error). */
  remove(key: string, members: readonly string[]): Promise<void>;
  /** The members of the set `key` (none when there is no set). */
  members(key: string): Promise<string[]>;
}

/** The table's key attribute, and its TTL attribute (epoch seconds). */
export const LIMITS_KEY = "key";
export const LIMITS_TTL_ATTRIBUTE = "expiresAt";

export class DynamoDBLimitsStore implements LimitsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async take(key: string, rate: Rate, nowMs: number): Promise<number> {
    const tolerance = (rate.burst - 1) * rate.intervalMs;
    // Past the newest `tat` a request can leave, the bucket is full again: the item may go.
    const expiresAt = Math.ceil((nowMs + tolerance + rate.intervalMs) / 1000) + 60;
    const values = { ":now": nowMs, ":interval": rate.intervalMs, ":expires": expiresAt };
    // A full bucket (or none yet): this request starts it again from now.
    const fromNow = () =>
      this.update(
        key,
        "SET tat = :now + :interval, #ttl = :expires",
        "attribute_not_exists(tat) OR tat <= :now",
        values,
      );
    // A bucket in use with room left: one interval more.
    const onwards = () =>
      this.update(key, "SET tat = tat + :interval, #ttl = :expires", "tat > :now AND tat <= :latest", {
        ...values,
        ":latest": nowMs + tolerance,
      });
    // A try fails only when another request took a token meanwhile (or the bucket is empty, which
    // ends it): so a race ends within a burst's worth of tries.
    for (let attempt = 0; attempt < rate.burst + 2; attempt++) {
      const refused = await fromNow();
      if (!refused) return 0;
      const tat = Number((refused.Item ?? (await this.read(key)))?.tat ?? 0);
      if (tat - nowMs > tolerance) return tat - tolerance - nowMs;
      if (tat > nowMs && !(await onwards())) return 0;
    }
    return rate.intervalMs;
  }

  async addCapped(
    key: string,
    member: string,
    cap: number,
    ttlSeconds: number,
    nowMs: number,
  ): Promise<string[] | undefined> {
    const refused = await this.update(
      key,
      "ADD members :member SET #ttl = :expires",
      "attribute_not_exists(members) OR size(members) < :cap OR contains(members, :id)",
      { ":member": new Set([member]), ":id": member, ":cap": cap, ":expires": Math.ceil(nowMs / 1000) + ttlSeconds },
    );
    if (!refused) return undefined;
    const members = (refused.Item ?? (await this.read(key)))?.members as Set<string> | undefined;
    return [...(members ?? [])];
  }

  async remove(key: string, members: readonly string[]): Promise<void> {
    if (members.length === 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [LIMITS_KEY]: key },
          UpdateExpression: "DELETE members :members",
          ConditionExpression: "attribute_exists(members)",
          ExpressionAttributeValues: { ":members": new Set(members) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.failure("remove", error);
    }
  }

  async members(key: string): Promise<string[]> {
    return [...(((await this.read(key))?.members as Set<string> | undefined) ?? [])];
  }

  /** One conditional update; resolves `undefined` when it was made, else what refused it. */
  private async update(
    key: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<{ Item?: Record<string, unknown> } | undefined> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [LIMITS_KEY]: key },
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#ttl": LIMITS_TTL_ATTRIBUTE },
          ExpressionAttributeValues: values,
          // DynamoDB hands the item back with the refusal; a DynamoDB that does not is read below.
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return undefined;
    } catch (error) {
      // The document client leaves an error's item in DynamoDB's own format.
      if (error instanceof ConditionalCheckFailedException) return { Item: error.Item && unmarshall(error.Item) };
      throw this.failure("update", error);
    }
  }

  private async read(key: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [LIMITS_KEY]: key }, ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      throw this.failure("read", error);
    }
  }

  private failure(operation: string, error: unknown): RepositoryError {
    return RepositoryError.of(this.tableName, operation, error);
  }
}

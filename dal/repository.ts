/**
 * The repository interface the handlers talk to: items by key, conditional writes, paginated
 * scans and queries. One implementation (DynamoDB); tests stub it.
 */
import type { ObjectExistsError, ObjectNotFoundError, RepositoryError } from "./errors";
import type { ItemUpdate } from "./update-expression";

/** An item's key: the hash key attribute (and the range key, if the table has one). */
export type Key = Record<string, string | number>;

export interface PutOptions {
  /** `false` refuses to replace an existing item: the put fails with {@link ObjectExistsError}. Default `true`. */
  overwrite?: boolean;
}

export interface DeleteOptions<T> {
  /**
   * Removes the item only while its numeric `attribute` is below `value` (a conditional delete);
   * otherwise, or when there is no such item, leaves the table as it is.
   */
  onlyIfBelow?: { attribute: keyof T & string; value: number };
}

/** A condition on the range key of a query (one at most). */
type RangeCondition =
  | { below: string | number }
  | { above: string | number }
  | { atLeast: string | number }
  | { between: readonly [string | number, string | number] };

export interface QueryOptions<T> {
  /** A global secondary index to read instead of the table. */
  index?: string;
  /** The partition to read: its key attribute and value. */
  partition: { attribute: string; value: string | number };
  /** Only items whose range key meets this (`below`/`above` are strict; `atLeast` and `between` are inclusive). */
  range?: { attribute: string } & RangeCondition;
  /** Newest (highest range key) first; default oldest first. */
  descending?: boolean;
  /** Items per page (DynamoDB's `Limit`, counted before `filter`); DynamoDB also ends a page at 1 MB. */
  pageSize?: number;
  /** Attributes to read; all (that the index projects) when omitted. */
  attributes?: ReadonlyArray<keyof T & string>;
  /** Only items whose numeric attribute is above the value (a filter, read and paid for all the same). */
  above?: { attribute: keyof T & string; value: number };
  /** A strongly consistent read (tables only; an index is always eventually consistent). */
  consistent?: boolean;
}

/** One page of a query: its items (after any filter) and, when more are left, where they start. */
export interface QueryPage<T> {
  items: T[];
  lastKey?: Key;
}

export interface ScanOptions<T> {
  /** Items per page (DynamoDB's `Limit`); DynamoDB also ends a page at 1 MB. */
  pageSize?: number;
  /** Attributes to read; all when omitted. */
  attributes?: ReadonlyArray<keyof T & string>;
}

/**
 * Storage of items of type `T`. Implementations throw {@link RepositoryError} for every storage
 * failure and {@link ObjectNotFoundError} from `get` of a missing key.
 */
export interface Repository<T extends object> {
  /** Stores the item and returns it as stored (with its key, when keys are auto-assigned). */
  put(item: T, options?: PutOptions): Promise<T>;
  /** The item under `key`; throws {@link ObjectNotFoundError} when there is none. */
  get(key: Key): Promise<T>;
  /**
   * Removes the item under `key`; removing a missing item is not an error. Resolves the item as it
   * was, or `undefined` when there was none or `options.onlyIfBelow` kept it: of two callers
   * removing the same item, exactly one gets it back.
   */
  delete(key: Key, options?: DeleteOptions<T>): Promise<T | undefined>;
  /**
   * Changes the item under `key` in one atomic request (creating it unless the condition asks
   * that it exist); resolves the item after, or `undefined` when the condition refused it.
   */
  update(key: Key, update: ItemUpdate<T>): Promise<T | undefined>;
  /**
   * One page of a query (one request): its items, and the key to start the next from when the
   * partition holds more. For readers that choose each page's size from what the last held.
   */
  queryPage(options: QueryOptions<T> & { startKey?: Key }): Promise<QueryPage<T>>;
  /** The items of one partition in range-key order, one page at a time (no Scan). */
  query(options: QueryOptions<T>): AsyncIterable<T[]>;
  /** Every item, one page at a time, however many pages the table takes. */
  scan(options?: ScanOptions<T>): AsyncIterable<T[]>;
}

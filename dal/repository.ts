import type { ObjectExistsError, ObjectNotFoundError, RepositoryError } from "./errors";

/** An item's key: the hash key attribute (and the range key, if the table has one). */
export type Key = Record<string, string | number>;

export interface PutOptions {
  /** `false` refuses to replace an existing item: the put fails with {@link ObjectExistsError}. Default `true`. */
  overwrite?: boolean;
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
  /** Removes the item under `key`; removing a missing item is not an error. */
  delete(key: Key): Promise<void>;
  /** Every item, one page at a time, however many pages the table takes. */
  scan(options?: ScanOptions<T>): AsyncIterable<T[]>;
}

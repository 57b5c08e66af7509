/** Every failure of the data layer; `cause` holds the SDK's original error. */
export class RepositoryError extends Error {
  constructor(
    message: string,
    readonly table: string,
    readonly operation: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "RepositoryError";
  }
}

/** A `get` found no item under the key. */
export class ObjectNotFoundError extends RepositoryError {
  constructor(
    table: string,
    readonly key: Record<string, unknown>,
  ) {
    super(`No item in table ${table} with key ${JSON.stringify(key)}`, table, "get");
    this.name = "ObjectNotFoundError";
  }
}

/** A `put` with `overwrite: false` met an item that already has the key. */
export class ObjectExistsError extends RepositoryError {
  constructor(
    table: string,
    readonly key: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(`Table ${table} already holds an item with key ${JSON.stringify(key)}`, table, "put", options);
    this.name = "ObjectExistsError";
  }
}

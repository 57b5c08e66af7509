/**
 * The base of this project's errors, so they stay errors in a deployed function. Pulumi's closure
 * serializer rewrites `super(...)` as `Error.call(this, ...)`, which sets nothing on `this`, and
 * drops the prototype of a class that declares no member (pulumi/pulumi#10974): there an error
 * had no message and was no `instanceof Error`. So this sets what Error's constructor would, and
 * each subclass declares its `name` as a getter, a member that keeps its prototype.
 */
export class ProjectError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, "message", { value: message, writable: true, configurable: true });
    if (options && "cause" in options) {
      Object.defineProperty(this, "cause", { value: options.cause, writable: true, configurable: true });
    }
    Error.captureStackTrace(this, new.target);
  }

  override get name(): string {
    return "ProjectError";
  }
}

/** Every failure of the data layer; `cause` holds the SDK's original error. */
export class RepositoryError extends ProjectError {
  constructor(
    message: string,
    readonly table: string,
    readonly operation: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  override get name(): string {
    return "RepositoryError";
  }

  /** The SDK's `error` of `operation` on `table`, as a RepositoryError (one already is kept). */
  static of(table: string, operation: string, error: unknown): RepositoryError {
    if (error instanceof RepositoryError) return error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new RepositoryError(`DynamoDB ${operation} on table ${table} failed: ${reason}`, table, operation, {
      cause: error,
    });
  }
}

/** A `get` found no item under the key. */
export class ObjectNotFoundError extends RepositoryError {
  constructor(
    table: string,
    readonly key: Record<string, unknown>,
  ) {
    super(`No item in table ${table} with key ${JSON.stringify(key)}`, table, "get");
  }

  override get name(): string {
    return "ObjectNotFoundError";
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
  }

  override get name(): string {
    return "ObjectExistsError";
  }
}

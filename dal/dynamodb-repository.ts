/**
 * The repository over one DynamoDB table with the AWS SDK v3: the SDK's errors become this
 * project's typed ones, scans and queries are paginated, conditions are DynamoDB's own.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { ObjectExistsError, ObjectNotFoundError, RepositoryError } from "./errors";
import type { DeleteOptions, Key, PutOptions, QueryOptions, QueryPage, Repository, ScanOptions } from "./repository";
import { type ItemUpdate, updateExpression } from "./update-expression";

interface DynamoDBRepositoryOptions {
  /** The document client (see `createDocumentClient`). */
  client: DynamoDBDocumentClient;
  tableName: string;
  /** Key attribute names: the hash key, then the range key if the table has one. */
  keyAttributes: readonly [string] | readonly [string, string];
}

/** {@link Repository} over one DynamoDB table. */
export class DynamoDBRepository<T extends object> implements Repository<T> {
  readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;
  private readonly keyAttributes: readonly string[];

  constructor(options: DynamoDBRepositoryOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.keyAttributes = options.keyAttributes;
  }

  async put(item: T, options: PutOptions = {}): Promise<T> {
    const hashKey = this.keyAttributes[0] as string;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(options.overwrite === false && {
            ConditionExpression: "attribute_not_exists(#hashKey)",
            ExpressionAttributeNames: { "#hashKey": hashKey },
          }),
        }),
      );
      return item;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ObjectExistsError(this.tableName, this.keyOf(item, "put"), { cause: error });
      }
      throw this.failure("put", error);
    }
  }

  async get(key: Key): Promise<T> {
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: this.keyOf(key, "get"), ConsistentRead: true }),
      ));
    } catch (error) {
      throw this.failure("get", error);
    }
    if (item === undefined) throw new ObjectNotFoundError(this.tableName, key);
    return item as T;
  }

  async delete(key: Key, options: DeleteOptions<T> = {}): Promise<T | undefined> {
    const condition = options.onlyIfBelow;
    try {
      // ALL_OLD costs no more capacity: a delete is charged for the item's size either way.
      const { Attributes: old } = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.keyOf(key, "delete"),
          ReturnValues: "ALL_OLD",
          ...(condition && {
            ConditionExpression: "#attribute < :value",
            ExpressionAttributeNames: { "#attribute": condition.attribute },
            ExpressionAttributeValues: { ":value": condition.value },
          }),
        }),
      );
      return old as T | undefined;
    } catch (error) {
      if (condition && error instanceof ConditionalCheckFailedException) return undefined;
      throw this.failure("delete", error);
    }
  }

  async update(key: Key, update: ItemUpdate<T>): Promise<T | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.keyOf(key, "update"),
          ...updateExpression(update, this.keyAttributes[0] as string),
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes as T;
    } catch (error) {
      if (update.condition && error instanceof ConditionalCheckFailedException) return undefined;
      throw this.failure("update", error);
    }
  }

  scan(options: ScanOptions<T> = {}): AsyncIterable<T[]> {
    const attributes = options.attributes ?? [];
    const pages = paginateScan(
      { client: this.client, pageSize: options.pageSize },
      {
        TableName: this.tableName,
        ...(attributes.length > 0 && {
          ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(", "),
          ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
        }),
      },
    );
    return itemPages<T>(pages, (error) => this.failure("scan", error));
  }

  query(options: QueryOptions<T>): AsyncIterable<T[]> {
    const pages = paginateQuery({ client: this.client, pageSize: options.pageSize }, this.queryInput(options));
    return itemPages<T>(pages, (error) => this.failure("query", error));
  }

  async queryPage(options: QueryOptions<T> & { startKey?: Key }): Promise<QueryPage<T>> {
    try {
      const { Items, LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          ...this.queryInput(options),
          Limit: options.pageSize,
          ExclusiveStartKey: options.startKey,
        }),
      );
      return { items: (Items ?? []) as T[], ...(LastEvaluatedKey && { lastKey: LastEvaluatedKey as Key }) };
    } catch (error) {
      throw this.failure("query", error);
    }
  }

  /** The Query's parameters but its page size and start. */
  private queryInput(options: QueryOptions<T>) {
    const names: Record<string, string> = { "#p": options.partition.attribute };
    const values: Record<string, unknown> = { ":p": options.partition.value };
    let keyCondition = "#p = :p";
    const range = options.range;
    if (range) {
      names["#r"] = range.attribute;
      if ("between" in range) {
        [values[":r0"], values[":r1"]] = range.between;
        keyCondition += " AND #r BETWEEN :r0 AND :r1";
      } else {
        const [operator, value] =
          "below" in range ? ["<", range.below] : "above" in range ? [">", range.above] : [">=", range.atLeast];
        values[":r"] = value;
        keyCondition += ` AND #r ${operator} :r`;
      }
    }
    const attributes = options.attributes ?? [];
    attributes.forEach((name, i) => {
      names[`#a${i}`] = name;
    });
    if (options.above) {
      names["#f"] = options.above.attribute;
      values[":f"] = options.above.value;
    }
    return {
      TableName: this.tableName,
      IndexName: options.index,
      KeyConditionExpression: keyCondition,
      ScanIndexForward: !options.descending,
      ConsistentRead: options.consistent,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(attributes.length > 0 && { ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(", ") }),
      ...(options.above && { FilterExpression: "#f > :f" }),
    };
  }

  private keyOf(item: object, operation: string): Key {
    const record = item as Record<string, unknown>;
    const key: Key = {};
    for (const name of this.keyAttributes) {
      const value = record[name];
      if (typeof value !== "string" && typeof value !== "number") {
        throw new RepositoryError(
          `Key attribute ${name} of table ${this.tableName} must be a string or a number`,
          this.tableName,
          operation,
        );
      }
      key[name] = value;
    }
    return key;
  }

  private failure(operation: string, error: unknown): RepositoryError {
    return RepositoryError.of(this.tableName, operation, error);
  }
}

/**
 * The items of each scan or query page, with SDK failures translated. A plain generator function, not an
 * `async *` method: Pulumi's closure serializer drops the `async *` of generator methods.
 */
async function* itemPages<T>(
  pages: AsyncIterable<{ Items?: Record<string, unknown>[] }>,
  translate: (error: unknown) => Error,
): AsyncGenerator<T[]> {
  const iterator = pages[Symbol.asyncIterator]();
  for (;;) {
    let page: IteratorResult<{ Items?: Record<string, unknown>[] }>;
    try {
      page = await iterator.next();
    } catch (error) {
      throw translate(error);
    }
    if (page.done) return;
    yield (page.value.Items ?? []) as T[];
  }
}

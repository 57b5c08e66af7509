/**
 * DynamoDB's front door, replayed before the embedded DynamoDB: the request's signature checked
 * (`../iam/sigv4.ts`), then the signer's policies asked whether `dynamodb:{Operation}` is allowed
 * on the table, or on `{table}/index/{name}` for a Query or Scan of an index, with the request's
 * `dynamodb:LeadingKeys` (its partition key values) for conditions on them. Refusals answer as
 * DynamoDB does: HTTP 400, `__type` `com.amazon.coral.service#AccessDeniedException` and `Message`
 * (captured from AWS: dynalite's tests, aws-sdk-php#1292; keys and resources per
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html and
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
 * A request the gate cannot read (not JSON, no table) goes on to DynamoDB, which refuses it.
 */
import { randomUUID } from "node:crypto";
import { executionLogLine } from "../execution-log";
import { deniedNote, LOCAL_ACCOUNT_ID, type LocalIam, notAuthorizedMessage } from "../iam/local-iam";
import type { RequestContext } from "../iam/policy";
import { authenticate, type SignatureRefusal, signedHttpRequest } from "../iam/sigv4";
import type { GateAnswer, RequestGate } from "./embedded-dynamodb";

type AttributeValue = { S?: string; N?: string; B?: string };
type Item = Record<string, AttributeValue>;

interface DynamoDBRequest {
  TableName?: string;
  IndexName?: string;
  Key?: Item;
  Item?: Item;
  KeySchema?: { AttributeName: string; KeyType: string }[];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: { AttributeName: string; KeyType: string }[] }[];
  GlobalSecondaryIndexUpdates?: {
    Create?: { IndexName: string; KeySchema: { AttributeName: string; KeyType: string }[] };
  }[];
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  RequestItems?: Record<string, unknown>;
  ResourceArn?: string;
}

const coral = (type: string) => `com.amazon.coral.service#${type}`;

/** The gate of a DynamoDB whose callers are `iam`'s principals; refusals are written to `log`. */
export function dynamodbAuthorization(iam: LocalIam, log: (line: string) => void): RequestGate {
  // Partition keys of each table and index, learnt as they are created: what LeadingKeys reads.
  const partitionKeys = new Map<string, string>();
  // The key each keep-alive connection has proved with a signature recomputed: the SDK's pools
  // reuse their connections, so most requests need no second computation.
  const proved = new WeakMap<object, string>();
  return async (request) => {
    const signed = await authenticate(signedHttpRequest(request.method, request.url, request.headers, request.body), {
      service: "dynamodb",
      region: iam.region,
      iam,
      maxSkewMinutes: 15,
      recompute: true,
      connection: { socket: request.socket, proved },
    });
    if ("refusal" in signed) return signatureRefusal(signed.refusal);
    const operation = /^DynamoDB_20120810\.(\w+)$/.exec(String(request.headers["x-amz-target"] ?? ""))?.[1];
    let body: DynamoDBRequest;
    try {
      body = JSON.parse(request.body.toString("utf8") || "{}") as DynamoDBRequest;
    } catch {
      return undefined;
    }
    if (!operation || typeof body !== "object" || body === null) return undefined;
    const action = `dynamodb:${operation}`;
    for (const { resource, context } of resourcesOf(operation, body, partitionKeys, iam.region)) {
      const decision = iam.decide(signed.principal, action, resource, context);
      if (decision === "allowed") continue;
      const requestId = randomUUID();
      log(
        executionLogLine({
          requestId,
          what: action,
          status: 400,
          note: deniedNote(signed.principal, action, resource),
        }),
      );
      return {
        status: 400,
        body: {
          __type: coral("AccessDeniedException"),
          Message: notAuthorizedMessage(signed.principal, action, resource, decision),
        },
      };
    }
    if (operation === "CreateTable" || operation === "UpdateTable") learnKeys(body, partitionKeys);
    return undefined;
  };
}

function signatureRefusal({ type, message }: SignatureRefusal): GateAnswer {
  const text = type === "MissingAuthenticationTokenException" ? "Request is missing Authentication Token" : message;
  return { status: 400, body: { __type: coral(type), message: text } };
}

const tableArn = (region: string, table: string) => `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${table}`;

/** The resources a request acts on, each with its condition keys. */
function resourcesOf(
  operation: string,
  body: DynamoDBRequest,
  partitionKeys: Map<string, string>,
  region: string,
): { resource: string; context?: RequestContext }[] {
  if (operation === "ListTables") return [{ resource: "*" }];
  if (body.ResourceArn) return [{ resource: body.ResourceArn }];
  if (body.RequestItems) {
    return Object.entries(body.RequestItems).map(([table, requests]) => ({
      resource: tableArn(region, table),
      context: leadingKeys(batchKeys(requests), partitionKeys.get(table)),
    }));
  }
  if (!body.TableName) return [];
  const target = body.IndexName ? `${body.TableName}/index/${body.IndexName}` : body.TableName;
  const keyName = partitionKeys.get(target);
  const item = body.Key ?? body.Item ?? (keyName ? equalityOf(body, keyName) : undefined);
  return [{ resource: tableArn(region, target), context: leadingKeys(item ? [item] : [], keyName) }];
}

/** `dynamodb:LeadingKeys`: the partition key values the request touches (none for a Scan). */
function leadingKeys(items: Item[], keyName: string | undefined): RequestContext | undefined {
  if (!keyName) return undefined;
  const values = items
    .map((item) => item[keyName])
    .flatMap((value) => (value ? [value.S ?? value.N ?? value.B ?? ""] : []));
  return values.length > 0 ? { "dynamodb:LeadingKeys": values } : undefined;
}

/** The partition key's value a Query's `KeyConditionExpression` fixes (`#k = :v` or `k = :v`). */
function equalityOf(body: DynamoDBRequest, keyName: string): Item | undefined {
  const names = body.ExpressionAttributeNames ?? {};
  for (const match of (body.KeyConditionExpression ?? "").matchAll(/([#\w.]+)\s*=\s*(:\w+)/g)) {
    const name = names[match[1] as string] ?? match[1];
    const value = body.ExpressionAttributeValues?.[match[2] as string];
    if (name === keyName && value) return { [keyName]: value };
  }
  return undefined;
}

/** The keys of a batch's requests: BatchGetItem's `Keys`, BatchWriteItem's puts and deletes. */
function batchKeys(requests: unknown): Item[] {
  if (Array.isArray(requests)) {
    return requests.flatMap((entry: { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }) => [
      ...(entry.PutRequest ? [entry.PutRequest.Item] : []),
      ...(entry.DeleteRequest ? [entry.DeleteRequest.Key] : []),
    ]);
  }
  return (requests as { Keys?: Item[] } | undefined)?.Keys ?? [];
}

/** Remembers the partition keys of a table made (and its indexes), or of an index added. */
function learnKeys(body: DynamoDBRequest, partitionKeys: Map<string, string>): void {
  const hash = (schema: { AttributeName: string; KeyType: string }[]) =>
    schema.find((key) => key.KeyType === "HASH")?.AttributeName;
  const table = body.TableName as string;
  const own = body.KeySchema && hash(body.KeySchema);
  if (own) partitionKeys.set(table, own);
  const indexes = [
    ...(body.GlobalSecondaryIndexes ?? []),
    ...(body.GlobalSecondaryIndexUpdates ?? []).flatMap((update) => (update.Create ? [update.Create] : [])),
  ];
  for (const index of indexes) {
    const key = hash(index.KeySchema);
    if (key) partitionKeys.set(`${table}/index/${index.IndexName}`, key);
  }
}

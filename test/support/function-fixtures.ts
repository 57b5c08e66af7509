import sinon, { type SinonStub } from "sinon";
import type {
  DeleteOptions,
  Key,
  PutOptions,
  QueryOptions,
  QueryPage,
  Repository,
  ScanOptions,
} from "../../dal/repository";
import type { ItemUpdate } from "../../dal/update-expression";
import type { Connection } from "../../functions/chat/connection";
import type { Membership } from "../../functions/chat/membership";
import type { ConnectionManager } from "../../functions/runtime/connection-manager";
import type {
  AuthorizerEvent,
  HttpRequestEvent,
  WebSocketEvent,
  WebSocketEventType,
  WebSocketRequestContext,
} from "../../functions/runtime/lambda-events";

/**
 * A repository whose every method is a sinon stub; `put` returns the item, `delete` finds nothing,
 * `scan` and `query` yield no pages until told otherwise.
 */
export interface RepositoryStub<T extends object = Connection> extends Repository<T> {
  put: SinonStub<[T, PutOptions?], Promise<T>>;
  get: SinonStub<[Key], Promise<T>>;
  delete: SinonStub<[Key, DeleteOptions<T>?], Promise<T | undefined>>;
  scan: SinonStub<[ScanOptions<T>?], AsyncIterable<T[]>>;
  query: SinonStub<[QueryOptions<T>], AsyncIterable<T[]>>;
  queryPage: SinonStub<[QueryOptions<T> & { startKey?: Key }], Promise<QueryPage<T>>>;
  update: SinonStub<[Key, ItemUpdate<T>], Promise<T | undefined>>;
}

export function stubRepository<T extends object = Connection>(): RepositoryStub<T> {
  const repository: RepositoryStub<T> = {
    put: sinon.stub<[T, PutOptions?], Promise<T>>(),
    get: sinon.stub<[Key], Promise<T>>(),
    delete: sinon.stub<[Key, DeleteOptions<T>?], Promise<T | undefined>>(),
    scan: sinon.stub<[ScanOptions<T>?], AsyncIterable<T[]>>(),
    query: sinon.stub<[QueryOptions<T>], AsyncIterable<T[]>>(),
    queryPage: sinon.stub<[QueryOptions<T> & { startKey?: Key }], Promise<QueryPage<T>>>(),
    update: sinon.stub<[Key, ItemUpdate<T>], Promise<T | undefined>>(),
  };
  repository.put.callsFake(async (item) => item);
  repository.delete.resolves(undefined);
  repository.scan.callsFake(() => pagesOf());
  repository.query.callsFake(() => pagesOf());
  repository.queryPage.resolves({ items: [] });
  return repository;
}

/**
 * Makes `connections.query` of the `byRoom` index answer with `pages` for `room`'s shard 0 (of
 * API `abc123defg`, stage `dev`) and nothing for its other shards or other rooms; resolves the
 * partitions whose pages were asked for.
 */
export function roomPages(connections: RepositoryStub, pages: Connection[][], room = "lobby"): Set<string> {
  const read = new Set<string>();
  connections.query.callsFake((options) => {
    const key = String(options.partition.value);
    const generator = key === `abc123defg#dev#${room}#0` ? pagesOf(...pages) : pagesOf<Connection>();
    return {
      // As a paginator: nothing is read until a page is asked for.
      [Symbol.asyncIterator]: () => ({
        next: () => {
          read.add(key);
          return generator.next();
        },
        return: () => generator.return(undefined),
      }),
    };
  });
  return read;
}

/** An async iterable of the given scan pages, as `Repository.scan` returns. */
export async function* pagesOf<T>(...pages: T[][]): AsyncGenerator<T[]> {
  for (const page of pages) yield page;
}

export interface ConnectionManagerStub extends ConnectionManager {
  post: SinonStub<[string, string | Uint8Array], Promise<void>>;
  disconnect: SinonStub<[string], Promise<void>>;
}

export function stubConnectionManager(): ConnectionManagerStub {
  const manager: ConnectionManagerStub = {
    post: sinon.stub<[string, string | Uint8Array], Promise<void>>(),
    disconnect: sinon.stub<[string], Promise<void>>(),
  };
  manager.post.resolves();
  manager.disconnect.resolves();
  return manager;
}

/**
 * A stored connection row with the given id, in `room` (shard 0, whatever its id hashes to), as
 * rows were when each connection had one room: its own membership, in the index.
 */
export function connection(connectionId: string, room = "lobby"): Connection {
  return {
    connectionId,
    apiId: "abc123defg",
    stage: "dev",
    room,
    roomKey: `abc123defg#dev#${room}#0`,
    connectedAt: 1_700_000_000_000,
    sourceIp: "203.0.113.9",
    expiresAt: 1_700_007_200,
  };
}

/** An API Gateway WebSocket event shaped like the ones AWS sends. */
export function webSocketEvent(
  eventType: WebSocketEventType,
  overrides: { requestContext?: Partial<WebSocketRequestContext>; body?: string; isBase64Encoded?: boolean } = {},
): WebSocketEvent {
  const routeKey = { CONNECT: "$connect", MESSAGE: "sendmessage", DISCONNECT: "$disconnect" }[eventType];
  return {
    requestContext: {
      routeKey,
      eventType,
      connectionId: "BFHPhfCWIAMCKlQ=",
      requestId: "BFHPjGzrIAMFfXw=",
      extendedRequestId: "BFHPjGzrIAMFfXw=",
      ...(eventType === "MESSAGE" && { messageId: "BFHPkcNMoAMCKlQ=" }),
      messageDirection: "IN",
      stage: "dev",
      domainName: "abc123defg.execute-api.eu-west-1.amazonaws.com",
      apiId: "abc123defg",
      connectedAt: 1_700_000_000_123,
      requestTime: "14/Nov/2023:22:13:20 +0000",
      requestTimeEpoch: 1_700_000_000_456,
      identity: { sourceIp: "198.51.100.7", userAgent: "Mozilla/5.0 (test)" },
      ...overrides.requestContext,
    },
    isBase64Encoded: overrides.isBase64Encoded ?? false,
    ...(overrides.body !== undefined && { body: overrides.body }),
  };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123defg/dev/$connect";

/** The event AWS sends a WebSocket REQUEST authorizer (developer guide, "Lambda REQUEST authorizers for WebSocket APIs"). */
export function authorizerEvent(query?: Record<string, string>): AuthorizerEvent {
  return {
    type: "REQUEST",
    methodArn: METHOD_ARN,
    headers: { Host: "abc123defg.execute-api.eu-west-1.amazonaws.com" },
    multiValueHeaders: { Host: ["abc123defg.execute-api.eu-west-1.amazonaws.com"] },
    ...(query && {
      queryStringParameters: query,
      multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    }),
    stageVariables: {},
    requestContext: webSocketEvent("CONNECT").requestContext,
  };
}

/**
 * A function URL's event (payload format 2.0), as
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html shows it.
 */
export function functionUrlEvent(
  body: string | undefined,
  { method = "POST", isBase64Encoded = false, timeEpoch = Date.now() } = {},
): HttpRequestEvent {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers: { "content-type": "application/json", host: "abc.lambda-url.eu-west-1.on.aws" },
    ...(body !== undefined && { body }),
    isBase64Encoded,
    requestContext: {
      accountId: "anonymous",
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      routeKey: "$default",
      stage: "$default",
      http: { method, path: "/", protocol: "HTTP/1.1", sourceIp: "198.51.100.7", userAgent: "test" },
      time: "15/Jan/2027:08:00:00 +0000",
      timeEpoch,
    },
  };
}

/** What a handler that posts to a room needs, every part a stub: rows come from `connections.query`. */
export function stubRoomDependencies(now: number, config: { broadcastConcurrency?: number } = {}) {
  const connections = stubRepository();
  const manager = stubConnectionManager();
  const managementApi = sinon.stub<[string], ConnectionManager>().returns(manager);
  const logger = { warn: sinon.stub() };
  return {
    connections,
    // The same table: its membership items are read and written through the same stub.
    memberships: connections as unknown as RepositoryStub<Membership>,
    manager,
    managementApi,
    logger,
    now: () => now,
    config: { region: "eu-west-1", broadcastConcurrency: 10, connectTimeoutMs: 29_000, ...config },
  };
}

/** The frames `manager` posted, parsed, with their recipients. */
export function postedFrames(manager: ConnectionManagerStub): { to: string; frame: Record<string, unknown> }[] {
  return manager.post.getCalls().map((call) => ({
    to: call.args[0],
    frame: JSON.parse(
      typeof call.args[1] === "string" ? call.args[1] : Buffer.from(call.args[1]).toString("utf8"),
    ) as Record<string, unknown>,
  }));
}

/**
 * The map of the chat's functions: every WebSocket route, the authorizer, the token endpoint and the
 * broadcast worker, each with its handler and exactly the permissions it needs. The Pulumi program
 * deploys from it and the local gateway dispatches with it, so cloud and local cannot drift.
 */
import { FANOUT_CLAIM_PREFIX } from "./broadcast/fanout";
import { createAuthorizerHandler, IDENTITY_SOURCE } from "./handlers/authorizer";
import { createBroadcastWorkerHandler } from "./handlers/broadcast-worker";
import { createHistoryHandler } from "./handlers/history";
import { createJoinHandler, createLeaveHandler } from "./handlers/join";
import { createDeleteHandler, createEditHandler } from "./handlers/message-changes";
import { createConnectHandler } from "./handlers/onconnect";
import { createDisconnectHandler } from "./handlers/ondisconnect";
import { createSendMessageHandler } from "./handlers/sendmessage";
import { createTokenHandler } from "./handlers/token-endpoint";
import { createTypingHandler } from "./handlers/typing";
import { createWhoHandler } from "./handlers/who";
import type { RateLimitClass } from "./limits/limited-route";
import type { HandlerDependencies } from "./runtime/handler-dependencies";
import type { WebSocketHandler } from "./runtime/lambda-events";

/** DynamoDB actions a handler may need; `infra/` grants exactly these. */
export type TableAction =
  | "dynamodb:PutItem"
  | "dynamodb:UpdateItem"
  | "dynamodb:DeleteItem"
  | "dynamodb:GetItem"
  | "dynamodb:Query";

/**
 * What the handlers read and write: the connections table, its `byRoom` index, the messages table,
 * and the limits table (each identity's budgets).
 */
export type DataResource = "connections" | "roomIndex" | "messages" | "limits";

/**
 * What a function's role allows besides writing its logs: the cloud's policy grants exactly this,
 * and the local gateway refuses anything else (`./permissions.ts` renders it for both).
 */
export interface FunctionPermissions {
  /** The DynamoDB actions the function performs, on each table or index it uses. */
  tableActions?: Partial<Record<DataResource, readonly TableAction[]>>;
  /** Of the messages table, only items whose partition key begins with this (`dynamodb:LeadingKeys`). */
  messagesKeyPrefix?: string;
  /** Posts to connections (`execute-api:ManageConnections` on the stage's `POST/@connections/*`). */
  manageConnections?: boolean;
  /**
   * Hands a large room's broadcast to {@link broadcastWorker}: may invoke it
   * (`lambda:InvokeFunction`), and finds it in `BROADCAST_FUNCTION_NAME`.
   */
  fansOut?: boolean;
  /** Signs guest tokens with the stack's KMS key (`kms:Sign`). */
  signsTokens?: boolean;
}

/** One route of the WebSocket API: `infra/` deploys it, `local/` dispatches to it. */
export interface RouteDefinition extends FunctionPermissions {
  /** API Gateway's route key: `$connect`, `$disconnect`, `$default` or a value of `action`. */
  routeKey: string;
  /** Resource and function name suffix (letters, digits, dashes). */
  name: string;
  tableActions: Partial<Record<DataResource, readonly TableAction[]>>;
  manageConnections: boolean;
  /**
   * The budget each request is taken from before the handler runs (`limitedHandler` of
   * `./limits/limited-route.ts`, wherever the route is run): every route a client can call has
   * one. Needs `UpdateItem` and `GetItem` on the limits table.
   */
  rateLimit: RateLimitClass;
  /** Two-way route: the handler's `body` goes back to the caller as a frame. */
  routeResponse?: boolean;
  /**
   * Memory of the route's function in MB, where it needs other than the stack's default. Lambda
   * gives CPU in proportion to memory (1,769 MB is one vCPU).
   */
  memorySize?: number;
  createHandler(deps: HandlerDependencies): WebSocketHandler;
}

/**
 * Memory of the functions a person waits on when opening the chat after a quiet spell, each then a
 * cold start: the token, the authorizer and `onconnect` before the socket opens, `who` and
 * `history` before the room shows. With `onconnect` at 256 MB (a seventh of a vCPU) the first
 * connect took 4.7 s; bundled, at 512, 1,024 and 1,769 MB, 1.7, 1.5 and 1.3 s at the median, for
 * 0.14, 0.24 and 0.30 GB-s per warm connect (`npm run bench:cold -- --connect-memory 512,1769`).
 */
const WAITED_ON_MB = 1024;

/** What taking from a budget does to the limits table. */
const LIMIT_ACTIONS = ["dynamodb:UpdateItem", "dynamodb:GetItem"] as const;

/** The API's routes: one line each, read by both the cloud program and the local server. */
export const routes: readonly RouteDefinition[] = [
  {
    routeKey: "$connect",
    name: "onconnect",
    // Its row and first room written, the room told (members found gone forgotten); its user's
    // open connections checked against their rows.
    tableActions: {
      connections: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
      roomIndex: ["dynamodb:Query"],
      limits: LIMIT_ACTIONS,
    },
    manageConnections: true,
    memorySize: WAITED_ON_MB,
    rateLimit: "connects",
    createHandler: createConnectHandler,
  },
  {
    routeKey: "$disconnect",
    name: "ondisconnect",
    // Forgets its row and rooms, tells each room; and its user's open connections.
    tableActions: {
      connections: ["dynamodb:DeleteItem"],
      roomIndex: ["dynamodb:Query"],
      limits: ["dynamodb:UpdateItem"],
    },
    manageConnections: true,
    rateLimit: "none",
    createHandler: createDisconnectHandler,
  },
  {
    routeKey: "sendmessage",
    name: "sendmessage",
    // The sender's rooms, the room's count moved on, the message stored, the room read and posted
    // to, gone members forgotten.
    tableActions: {
      connections: ["dynamodb:GetItem", "dynamodb:DeleteItem"],
      roomIndex: ["dynamodb:Query"],
      messages: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
      limits: LIMIT_ACTIONS,
    },
    manageConnections: true,
    routeResponse: true,
    rateLimit: "messages",
    // A broadcast is CPU-bound, one SDK command per connection (`npm run bench:lambda`): to 2,000
    // connections, 3.3 s warm and 9.2 to 9.6 s cold at 256 MB, near the 10 s timeout; 0.8 s warm
    // and 2.2 s cold at 1,024 MB, for the same GB-seconds.
    memorySize: 1024,
    fansOut: true,
    createHandler: createSendMessageHandler,
  },
  {
    routeKey: "who",
    name: "who",
    tableActions: { connections: ["dynamodb:GetItem"], roomIndex: ["dynamodb:Query"], limits: LIMIT_ACTIONS },
    manageConnections: false,
    routeResponse: true,
    memorySize: WAITED_ON_MB,
    rateLimit: "reads",
    createHandler: createWhoHandler,
  },
  {
    routeKey: "history",
    name: "history",
    tableActions: { connections: ["dynamodb:GetItem"], messages: ["dynamodb:Query"], limits: LIMIT_ACTIONS },
    manageConnections: false,
    routeResponse: true,
    memorySize: WAITED_ON_MB,
    rateLimit: "reads",
    createHandler: createHistoryHandler,
  },
  {
    routeKey: "join",
    name: "join",
    // Its rooms counted, its membership written, the room told, a direct room's other user invited.
    tableActions: {
      connections: ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      roomIndex: ["dynamodb:Query"],
      limits: LIMIT_ACTIONS,
    },
    manageConnections: true,
    routeResponse: true,
    rateLimit: "messages",
    createHandler: createJoinHandler,
  },
  {
    routeKey: "leave",
    name: "leave",
    tableActions: {
      connections: ["dynamodb:UpdateItem", "dynamodb:DeleteItem"],
      roomIndex: ["dynamodb:Query"],
      limits: LIMIT_ACTIONS,
    },
    manageConnections: true,
    routeResponse: true,
    rateLimit: "messages",
    createHandler: createLeaveHandler,
  },
  {
    routeKey: "typing",
    name: "typing",
    tableActions: {
      connections: ["dynamodb:GetItem", "dynamodb:DeleteItem"],
      roomIndex: ["dynamodb:Query"],
      limits: LIMIT_ACTIONS,
    },
    manageConnections: true,
    rateLimit: "typing",
    createHandler: createTypingHandler,
  },
  ...(["edit", "delete"] as const).map(
    (routeKey): RouteDefinition => ({
      routeKey,
      name: routeKey,
      // The author's message changed in one conditional write, and the room told, as a message is.
      tableActions: {
        connections: ["dynamodb:GetItem", "dynamodb:DeleteItem"],
        roomIndex: ["dynamodb:Query"],
        messages: ["dynamodb:UpdateItem"],
        limits: LIMIT_ACTIONS,
      },
      manageConnections: true,
      routeResponse: true,
      rateLimit: "messages",
      fansOut: true,
      createHandler: routeKey === "edit" ? createEditHandler : createDeleteHandler,
    }),
  ),
];

/**
 * The broadcast worker: posts a message to one slice of a large room, invoked asynchronously by
 * `sendmessage` (`./broadcast/fanout.ts`), deployed with the routes and replayed by the local gateway.
 */
export const broadcastWorker = {
  name: "broadcast",
  // Its slice read and posted to, gone members removed, its claim written.
  tableActions: {
    connections: ["dynamodb:DeleteItem"],
    roomIndex: ["dynamodb:Query"],
    messages: ["dynamodb:PutItem"],
  } satisfies RouteDefinition["tableActions"],
  /** Of the messages table, it may write claims only: partition keys beginning with this. */
  messagesKeyPrefix: FANOUT_CLAIM_PREFIX,
  manageConnections: true,
  // As `sendmessage`: at one vCPU a worker's posts were bound by the posts in flight, not its CPU,
  // and cost 41% more per delivery than the single function; at 1,024 MB 17% less (`npm run bench:lambda`).
  memorySize: 1024,
  /** Lambda's asynchronous invocation settings: no retry (it would post twice), events live a minute. */
  maximumRetryAttempts: 0,
  maximumEventAgeSeconds: 60,
  createHandler: createBroadcastWorkerHandler,
} as const;

/** The `$connect` route's Lambda REQUEST authorizer, deployed unless the stack's auth is `none`. */
export const connectAuthorizer = {
  name: "authorizer",
  /** Where API Gateway finds the identity; missing or empty, it answers 401 without invoking. */
  identitySource: IDENTITY_SOURCE,
  memorySize: WAITED_ON_MB,
  // Nothing but its logs: the public key is in its environment, an issuer's keys are public.
  tableActions: {},
  createHandler: createAuthorizerHandler,
} as const;

/** The token endpoint for guests: a function URL in the cloud, `POST /auth/token` locally. */
export const tokenEndpoint = {
  name: "token",
  /** The local gateway's path; the deployed function URL answers on any path. */
  localPath: "/auth/token",
  memorySize: WAITED_ON_MB,
  /** The function URL's CORS, besides the origins allowed (the page's, or `tokenAllowedOrigins`). */
  cors: { allowMethods: ["POST"], allowHeaders: ["content-type"], maxAge: 3600 },
  // Each source address's budget of tokens.
  tableActions: { limits: LIMIT_ACTIONS },
  signsTokens: true,
  createHandler: createTokenHandler,
} as const;

/**
 * The stage's throttling when the stack sets none, per route, in the cloud and locally: the
 * cost table's busiest load (docs/operating.md) (20 messages a second) 25 times over, and 10,000 clients
 * reconnecting within 20 s. One identity's share is limited apart (`rateLimits`).
 */
export const STAGE_THROTTLING_DEFAULTS = { burstLimit: 1000, rateLimit: 500 } as const;

/** API Gateway's route selection expression for this API. */
export const ROUTE_SELECTION_EXPRESSION = "$request.body.action";

/**
 * What the local gateway can be told (its options and API Gateway's and Lambda's limits), the
 * settings it runs with (the options and their defaults, the functions' environment), and what it
 * hands back. The limits are AWS's by default; each can be lowered so tests run them in milliseconds.
 */

import { isIP } from "node:net";
import { limitedHandler } from "../functions/limits/limited-route";
import {
  broadcastWorker,
  routes as defaultRoutes,
  type FunctionPermissions,
  type RouteDefinition,
} from "../functions/routes";
import {
  API_GATEWAY_INTEGRATION_TIMEOUT_MS,
  API_GATEWAY_MAX_MESSAGE_BYTES,
  FUNCTION_TIMEOUT_SECONDS,
  type FunctionConfig,
} from "../functions/runtime/function-config";
import type { HandlerDependencies } from "../functions/runtime/handler-dependencies";
import type { StageThrottling } from "./api-gateway/stage-throttling";
import type { LocalAuthOptions } from "./chat/sign-in";
import type { Credentials } from "./iam/local-iam";

/** API Gateway's quotas; each can be lowered so tests run them in milliseconds. */
export interface LocalGatewayLimits {
  /** Largest message, its frames added up (128 KB); larger closes with 1009. */
  maxMessageBytes: number;
  /** Largest single frame (32 KB); larger closes with 1009. */
  maxFrameBytes: number;
  /** Closes a connection with 1001 after this long without a message from the client (10 min). */
  idleTimeoutMs: number;
  /** Closes every connection with 1001 after this long (2 h). */
  maxConnectionMs: number;
  /** The Lambda function's timeout: past it the invocation fails (the deployed functions use 10 s). */
  functionTimeoutMs: number;
  /** API Gateway's integration timeout (29 s): past it the client gets "Endpoint request timed out". */
  integrationTimeoutMs: number;
  /** Largest `@connections` POST body (128 KB); larger answers 413. */
  managementMaxPayloadBytes: number;
  /**
   * The account's new connections a second, all WebSocket APIs together (500, a token bucket with
   * as many tokens); a handshake past it answers 429. 0: no limit.
   */
  newConnectionsPerSecond: number;
  /**
   * Bytes waiting for a client that does not read beyond which `@connections` POST answers 429
   * LimitExceededException ("the WebSocket client side buffer is full"). AWS names no figure:
   * 1 MiB is this gateway's choice.
   */
  maxClientBufferBytes: number;
  /** Lambda's concurrent executions, all routes together (1,000); past it invocations are throttled. */
  concurrentExecutions: number;
  /**
   * Local only: once 20 or more executions are busy and the oldest has run this long, or 100 or
   * more would take two thirds of it at the rate this machine has been measured to finish them, new
   * ones are throttled until it catches up (default half the function timeout; 0: never).
   */
  behindAfterMs: number;
  /** How often expired rows are deleted where the DynamoDB has no TTL of its own (the embedded one). */
  ttlSweepMs: number;
  /** How often the gateway renews its lease, which also finds a DynamoDB that lost its tables (10 s). */
  leaseRenewMs: number;
}

export const API_GATEWAY_LIMITS: LocalGatewayLimits = {
  maxMessageBytes: API_GATEWAY_MAX_MESSAGE_BYTES,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  functionTimeoutMs: FUNCTION_TIMEOUT_SECONDS * 1000,
  integrationTimeoutMs: API_GATEWAY_INTEGRATION_TIMEOUT_MS,
  managementMaxPayloadBytes: API_GATEWAY_MAX_MESSAGE_BYTES,
  newConnectionsPerSecond: 500,
  maxClientBufferBytes: 1024 * 1024,
  concurrentExecutions: 1000,
  behindAfterMs: (FUNCTION_TIMEOUT_SECONDS * 1000) / 2,
  ttlSweepMs: 60_000,
  leaseRenewMs: 10_000,
};

export interface LocalGatewayOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1 (nothing outside this machine can connect). */
  host?: string;
  /** Stage name: the WebSocket API is at `/{stage}` (and `/ws`). Default `dev`. */
  stage?: string;
  region?: string;
  /** The connections table. Default `websocket-chat-connections`. */
  tableName?: string;
  /** The messages table (rooms' history). Default `websocket-chat-messages`. */
  messagesTableName?: string;
  /** The limits table (each user's and address's budgets). Default `websocket-chat-limits`. */
  limitsTableName?: string;
  /** Use this DynamoDB (LocalStack: `http://localhost:4566`) instead of starting an embedded one. */
  dynamodbEndpoint?: string;
  /** Routes to serve. Default: the project's route table. */
  routes?: readonly RouteDefinition[];
  /** The broadcast worker the routes that fan out invoke. Default: the project's. */
  broadcastWorker?: typeof broadcastWorker;
  routeSelectionExpression?: string;
  limits?: Partial<LocalGatewayLimits>;
  /** Extra handler settings, as Lambda's environment would hold them (`BROADCAST_CONCURRENCY`, ...). */
  functionEnvironment?: Record<string, string | undefined>;
  /** Builds the handlers' dependencies from their config, once for all. Default: the real ones, as in Lambda. */
  createDependencies?: (config: FunctionConfig) => HandlerDependencies;
  /**
   * The stage's throttling, per route key (`npm run local`: the dev stack's). Default: none, so
   * tests and benchmarks measure the gateway, not the stage's limits.
   */
  throttling?: StageThrottling;
  /**
   * Who may connect (`./chat/sign-in.ts`): `guest` tokens from `POST /auth/token`, an `oidc` issuer's ID
   * tokens, or `none`. Default `none`, so a library user opts in; `npm run local` takes the stack's.
   */
  auth?: LocalAuthOptions;
  /** Let non-loopback callers use the management API. Default `false`. */
  allowRemoteManagement?: boolean;
  /**
   * Host names a request may name besides `localhost`, IP addresses and `host` (`ALLOWED_HOSTS`);
   * any other is refused, as a DNS-rebinding page's would be.
   */
  allowedHosts?: readonly string[];
  /**
   * Origins whose pages may connect and get tokens besides the gateway's own page
   * (`ALLOWED_ORIGINS`); a page of any other origin is refused.
   */
  allowedOrigins?: readonly string[];
  /**
   * The operator's credentials: the gateway's own calls and the user's tools (`@connections`, the
   * embedded DynamoDB) sign with these, and may do anything. Default: made at start.
   */
  credentials?: Credentials;
  /**
   * What a function's role allows, by function name, in place of what the route table declares:
   * take a permission away to see its function fail as it would in AWS. Default: the declarations.
   */
  permissions?: Readonly<Record<string, FunctionPermissions>>;
  /** Extra milliseconds each `@connections` call takes, to model AWS's round trip (benchmarks). Default 0. */
  managementLatencyMs?: number;
  /** Serve the chat page at `/`. Default `true`. */
  servePage?: boolean;
  /** Where the execution log goes, a line per route invocation. Default `console.log`. */
  log?: (line: string) => void;
}

export interface LocalGateway {
  /** `ws://127.0.0.1:{port}/{stage}` */
  url: string;
  /** `http://127.0.0.1:{port}/{stage}`: the management endpoint (`@connections` lives under it). */
  managementUrl: string;
  port: number;
  /** The API id this gateway reports in its events (its own, like a deployed API's). */
  apiId: string;
  region: string;
  /**
   * The operator's credentials: sign your own `@connections` calls and DynamoDB requests with
   * these, for `execute-api` or `dynamodb` in `region`.
   */
  credentials: Credentials;
  /** The DynamoDB the handlers use. */
  dynamodbEndpoint: string;
  tableName: string;
  messagesTableName: string;
  /** Connections open right now. */
  connectionCount(): number;
  /** Closes every connection with 1001, runs their `$disconnect`, stops the server (and the embedded DynamoDB). */
  close(): Promise<void>;
}

export type GatewaySettings = ReturnType<typeof gatewaySettings>;

/** The options with their defaults: AWS's limits, the project's routes and tables. */
export function gatewaySettings(options: LocalGatewayOptions) {
  const host = options.host ?? "127.0.0.1";
  return {
    options,
    stage: options.stage ?? "dev",
    host,
    limits: {
      ...API_GATEWAY_LIMITS,
      // The guard follows a function timeout set by the caller unless set too.
      behindAfterMs: (options.limits?.functionTimeoutMs ?? API_GATEWAY_LIMITS.functionTimeoutMs) / 2,
      ...options.limits,
    },
    // Each route behind its budget, as Lambda runs it in the cloud.
    routes: (options.routes ?? defaultRoutes).map((route) => ({
      ...route,
      createHandler: (deps: HandlerDependencies) => limitedHandler(route, route.createHandler(deps), deps),
    })),
    log: options.log ?? ((line: string) => console.log(line)),
    tableName: options.tableName ?? "websocket-chat-connections",
    messagesTableName: options.messagesTableName ?? "websocket-chat-messages",
    limitsTableName: options.limitsTableName ?? "websocket-chat-limits",
    region: options.region ?? "us-east-1",
    browserGuard: {
      // The address it listens on, when that is a name (`HOST=devbox.local`), is the machine's too.
      allowedHosts: [...(options.allowedHosts ?? []), ...(isIP(host) ? [] : [host])].map((name) => name.toLowerCase()),
      allowedOrigins: options.allowedOrigins ?? [],
    },
  };
}

/** The functions' settings, as Lambda's environment variables hold them. */
export function lambdaEnvironment(
  settings: GatewaySettings,
  dynamodbEndpoint: string,
): Record<string, string | undefined> {
  return {
    ...settings.options.functionEnvironment,
    TABLE_NAME: settings.tableName,
    MESSAGES_TABLE_NAME: settings.messagesTableName,
    LIMITS_TABLE_NAME: settings.limitsTableName,
    AWS_REGION: settings.region,
    DYNAMODB_ENDPOINT_URL: dynamodbEndpoint,
    CONNECT_TIMEOUT_MS: String(settings.limits.integrationTimeoutMs),
    // As the stack sets them for the routes that fan out: the worker, and Lambda's concurrency bounding its slices.
    ...(settings.routes.some((route) => route.fansOut) && {
      BROADCAST_FUNCTION_NAME: broadcastWorker.name,
      ACCOUNT_CONCURRENCY: String(settings.limits.concurrentExecutions),
    }),
  };
}

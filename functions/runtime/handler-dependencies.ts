/**
 * What the handlers depend on, built once per cold start (Lambda) or per execution environment
 * (the local gateway): the repositories, the `@connections` client, the broadcast worker's client.
 */
import {
  ApiGatewayManagementApiClient,
  type ApiGatewayManagementApiClientConfig,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient, type DynamoDBClientOptions } from "../../dal/dynamodb-client";
import { DynamoDBRepository } from "../../dal/dynamodb-repository";
import { DynamoDBLimitsStore, type LimitsStore } from "../../dal/limits-table";
import type { Repository } from "../../dal/repository";
import { makeConfigFast } from "../../dal/sdk-client-config";
import type { BroadcastMetrics, Telemetry } from "../broadcast/broadcast-metrics";
import type { BroadcastWorkerClient, FanoutClaim } from "../broadcast/fanout";
import { CONNECTION_KEY, type Connection } from "../chat/connection";
import type { Membership } from "../chat/membership";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, type StoredMessage } from "../chat/message";
import { ApiGatewayConnectionManager } from "./api-gateway-connection-manager";
import type { ConnectionManagerFactory } from "./connection-manager";
import { ConfigError, type FunctionConfig } from "./function-config";
import type { HandlerLogger } from "./telemetry";

/** Everything any route's handler may depend on. */
export interface HandlerDependencies {
  config: FunctionConfig;
  connections: Repository<Connection>;
  /** Each connection's place in each room: items of the connections table. */
  memberships: Repository<Membership>;
  messages: Repository<StoredMessage>;
  /** Slices of fan-outs claimed by broadcast workers (in the messages table). */
  claims: Repository<FanoutClaim>;
  managementApi: ConnectionManagerFactory;
  /** Where a large room's fan-out goes; absent without `BROADCAST_FUNCTION_NAME`. */
  broadcastWorker?: BroadcastWorkerClient;
  now: () => number;
  logger: HandlerLogger;
  /** Broadcasts' figures as CloudWatch metrics; absent locally. */
  metrics?: BroadcastMetrics;
  /** Each identity's budgets; absent without `LIMITS_TABLE_NAME` (no limits). */
  limits?: LimitsStore;
}

interface ClientOverrides {
  /** DynamoDB timeouts other than the defaults, which suit AWS's DynamoDB from Lambda. */
  dynamodbTimeouts?: Pick<DynamoDBClientOptions, "connectionTimeoutMs" | "requestTimeoutMs">;
  /** The deployed functions' logger, and the metrics of those that broadcast (`./telemetry.ts`); the console otherwise. */
  telemetry?: Pick<Telemetry, "logger"> & Partial<Pick<Telemetry, "metrics">>;
}

/**
 * How a function builds its clients besides DynamoDB's. A deployed function is given only those
 * its route uses: Pulumi serializes what its entry point references, so its bundle then holds no
 * other client's code, and its cold start loads none (`npm run bench:cold`).
 */
export interface ClientFactories {
  managementApi?: (config: FunctionConfig) => ConnectionManagerFactory;
  broadcastWorker?: (config: FunctionConfig) => BroadcastWorkerClient;
}

/**
 * The real dependencies, built once per cold start (Lambda) or once per server (local): SDK
 * clients are made here, never at module level, so Pulumi can serialize the handlers.
 */
export function createHandlerDependencies(
  config: FunctionConfig,
  overrides: ClientOverrides = {},
): HandlerDependencies {
  return buildHandlerDependencies(config, overrides, {
    managementApi: createManagementApi,
    broadcastWorker: createBroadcastWorkerClient,
  });
}

/** As {@link createHandlerDependencies}, with the clients `factories` build and no other. */
export function buildHandlerDependencies(
  config: FunctionConfig,
  overrides: ClientOverrides,
  factories: ClientFactories,
): HandlerDependencies {
  const client = tablesClient(config, overrides.dynamodbTimeouts);
  return {
    config,
    ...chatRepositories(client, config),
    ...(config.limitsTableName && { limits: new DynamoDBLimitsStore(client, config.limitsTableName) }),
    managementApi: factories.managementApi?.(config) ?? noManagementApi,
    ...(config.broadcastFunctionName &&
      factories.broadcastWorker && { broadcastWorker: factories.broadcastWorker(config) }),
    now: Date.now,
    logger: overrides.telemetry?.logger ?? console,
    ...(overrides.telemetry?.metrics && { metrics: overrides.telemetry.metrics }),
  };
}

/** The `@connections` client of a function whose route manages no connections (nor may, by its role). */
function noManagementApi(): never {
  throw new ConfigError("this function has no @connections client: its route manages no connections");
}

/** The document client of the DynamoDB `config` names, in its region, with its credentials. */
export function tablesClient(
  config: Pick<FunctionConfig, "region" | "dynamodbEndpoint" | "credentials">,
  timeouts?: ClientOverrides["dynamodbTimeouts"],
): DynamoDBDocumentClient {
  return createDocumentClient({
    region: config.region,
    endpoint: config.dynamodbEndpoint,
    credentials: config.credentials,
    ...timeouts,
  });
}

/** The connections and messages tables' repositories (and the memberships among the connections) over one document client. */
export function chatRepositories(
  client: DynamoDBDocumentClient,
  config: Pick<FunctionConfig, "tableName" | "messagesTableName">,
): Pick<HandlerDependencies, "connections" | "memberships" | "messages" | "claims"> {
  const messageKeys = [MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY] as const;
  return {
    connections: new DynamoDBRepository<Connection>({
      client,
      tableName: config.tableName,
      keyAttributes: [CONNECTION_KEY],
    }),
    memberships: new DynamoDBRepository<Membership>({
      client,
      tableName: config.tableName,
      keyAttributes: [CONNECTION_KEY],
    }),
    messages: new DynamoDBRepository<StoredMessage>({
      client,
      tableName: config.messagesTableName,
      keyAttributes: messageKeys,
    }),
    claims: new DynamoDBRepository<FanoutClaim>({
      client,
      tableName: config.messagesTableName,
      keyAttributes: messageKeys,
    }),
  };
}

/**
 * Connection managers over the AWS SDK v3 management client, one per endpoint, each built on first
 * use. `requestHandler` replaces the client's transport (the local gateway answers in process).
 */
export function createManagementApi(
  config: FunctionConfig,
  requestHandler?: ApiGatewayManagementApiClientConfig["requestHandler"],
): ConnectionManagerFactory {
  const managers = new Map<string, ApiGatewayConnectionManager>();
  return (endpoint) => {
    let manager = managers.get(endpoint);
    if (!manager) {
      const client = new ApiGatewayManagementApiClient({
        region: config.region,
        endpoint,
        credentials: config.credentials,
        // A broadcast sends one command per connection: resolve the middleware stack once, not per post.
        cacheMiddleware: true,
        // A stalled post must not hold the whole broadcast until the Lambda times out.
        requestHandler: requestHandler ?? {
          connectionTimeout: 1_000,
          requestTimeout: 3_000,
          // Else the SDK only warns when requestTimeout passes, and the post keeps waiting.
          throwOnRequestTimeout: true,
          // The SDK's agents allow 50 sockets: without more, a higher concurrency would only queue.
          httpsAgent: { maxSockets: config.broadcastConcurrency },
          httpAgent: { maxSockets: config.broadcastConcurrency },
        },
      });
      makeConfigFast(client);
      manager = new ApiGatewayConnectionManager(client);
      managers.set(endpoint, manager);
    }
    return manager;
  };
}

/**
 * Invokes `config.broadcastFunctionName` asynchronously with the SDK's Lambda client: Lambda
 * queues the job and answers 202. `requestHandler` replaces the transport (the local gateway's
 * Lambda answers in process).
 */
export function createBroadcastWorkerClient(
  config: FunctionConfig,
  requestHandler?: LambdaClientConfig["requestHandler"],
): BroadcastWorkerClient {
  const client = new LambdaClient({
    region: config.region,
    credentials: config.credentials,
    ...(requestHandler && { requestHandler }),
  });
  return {
    async invoke(job) {
      const { StatusCode } = await client.send(
        new InvokeCommand({
          FunctionName: config.broadcastFunctionName,
          InvocationType: "Event",
          Payload: Buffer.from(JSON.stringify(job)),
        }),
      );
      if (StatusCode !== 202) throw new Error(`Lambda answered ${StatusCode} to an asynchronous invocation`);
    },
  };
}

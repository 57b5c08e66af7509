import {
  ApiGatewayManagementApiClient,
  type ApiGatewayManagementApiClientConfig,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { createDocumentClient, type DynamoDBClientOptions } from "../dal/dynamodb-client";
import { DynamoDBRepository } from "../dal/dynamodb-repository";
import type { Repository } from "../dal/repository";
import type { FunctionConfig } from "./config";
import { CONNECTION_KEY, type Connection } from "./connection";
import { ApiGatewayConnectionManager, type ConnectionManagerFactory } from "./connection-manager";

/** Everything any route's handler may depend on. */
export interface HandlerDependencies {
  config: FunctionConfig;
  connections: Repository<Connection>;
  managementApi: ConnectionManagerFactory;
  now: () => number;
  logger: Pick<Console, "info" | "warn" | "error">;
}

export interface ClientOverrides {
  /** Transport of the management client; the local gateway answers its own calls in process. */
  managementRequestHandler?: ApiGatewayManagementApiClientConfig["requestHandler"];
  /** DynamoDB timeouts other than the defaults, which suit AWS's DynamoDB from Lambda. */
  dynamodbTimeouts?: Pick<DynamoDBClientOptions, "connectionTimeoutMs" | "requestTimeoutMs">;
}

/**
 * The real dependencies, built once per cold start (Lambda) or once per server (local): SDK
 * clients are made here, never at module level, so Pulumi can serialize the handlers.
 */
export function createHandlerDependencies(
  config: FunctionConfig,
  overrides: ClientOverrides = {},
): HandlerDependencies {
  const connections = new DynamoDBRepository<Connection>({
    client: createDocumentClient({
      region: config.region,
      endpoint: config.dynamodbEndpoint,
      credentials: config.credentials,
      ...overrides.dynamodbTimeouts,
    }),
    tableName: config.tableName,
    keyAttributes: [CONNECTION_KEY],
  });
  const managers = new Map<string, ApiGatewayConnectionManager>();
  const managementApi: ConnectionManagerFactory = (endpoint) => {
    let manager = managers.get(endpoint);
    if (!manager) {
      manager = new ApiGatewayConnectionManager(
        new ApiGatewayManagementApiClient({
          region: config.region,
          endpoint,
          credentials: config.credentials,
          // A broadcast sends one command per connection: resolve the middleware stack once, not per post.
          cacheMiddleware: true,
          // A stalled post must not hold the whole broadcast until the Lambda times out.
          requestHandler: overrides.managementRequestHandler ?? {
            connectionTimeout: 1_000,
            requestTimeout: 3_000,
            // Else the SDK only warns when requestTimeout passes, and the post keeps waiting.
            throwOnRequestTimeout: true,
            // The SDK's agents allow 50 sockets: without more, a higher concurrency would only queue.
            httpsAgent: { maxSockets: config.broadcastConcurrency },
            httpAgent: { maxSockets: config.broadcastConcurrency },
          },
        }),
      );
      managers.set(endpoint, manager);
    }
    return manager;
  };
  return { config, connections, managementApi, now: Date.now, logger: console };
}

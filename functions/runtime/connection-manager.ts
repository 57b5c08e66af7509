/**
 * The `@connections` management API as the handlers use it: post, describe and close a connection,
 * with API Gateway's 410 GoneException as a typed error.
 */
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { ProjectError } from "../../dal/errors";
import type { WebSocketRequestContext } from "./lambda-events";

/** The connection has closed (API Gateway's 410 GoneException): its row can go. */
export class ConnectionGoneError extends ProjectError {
  constructor(
    readonly connectionId: string,
    options?: ErrorOptions,
  ) {
    super(`Connection ${connectionId} is gone`, options);
  }

  override get name(): string {
    return "ConnectionGoneError";
  }
}

/** Talks to connected clients through API Gateway's `@connections` management API. */
export interface ConnectionManager {
  /** Sends `data` as one frame; throws {@link ConnectionGoneError} when the client has left. */
  post(connectionId: string, data: string | Uint8Array): Promise<void>;
  /** Closes the connection; a connection already gone is not an error. */
  disconnect(connectionId: string): Promise<void>;
}

/** A {@link ConnectionManager} for a management endpoint (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`). */
export type ConnectionManagerFactory = (endpoint: string) => ConnectionManager;

/**
 * The management endpoint for the API that sent `context`. Built from the API id rather than
 * `domainName`, so it still works when clients connect through a custom domain.
 */
export function managementEndpoint(context: WebSocketRequestContext, region: string): string {
  return `https://${context.apiId}.execute-api.${region}.amazonaws.com/${context.stage}`;
}

/** {@link ConnectionManager} over the AWS SDK v3 management client. */
export class ApiGatewayConnectionManager implements ConnectionManager {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, data: string | Uint8Array): Promise<void> {
    try {
      await this.client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: typeof data === "string" ? Buffer.from(data) : data,
        }),
      );
    } catch (error) {
      // SDK v3 raises a named exception; the v2-era `statusCode === 410` check never matches it.
      if (error instanceof GoneException) throw new ConnectionGoneError(connectionId, { cause: error });
      throw error;
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if (!(error instanceof GoneException)) throw error;
    }
  }
}

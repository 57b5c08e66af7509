/**
 * The `@connections` management API as the handlers use it: post, describe and close a connection,
 * with API Gateway's 410 GoneException as a typed error. The SDK's client is behind it in
 * `./api-gateway-connection-manager.ts`, so a function that only names these (a two-way route's
 * refusal) ships without that client.
 */
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

/**
 * {@link ConnectionManager} over the AWS SDK v3 management client: apart from `./connection-manager.ts`,
 * so only the functions given a `@connections` client load it (Pulumi serializes a module's every
 * export with any one of them).
 */
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { ConnectionGoneError, type ConnectionManager } from "./connection-manager";

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

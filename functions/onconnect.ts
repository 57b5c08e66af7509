import type { Repository } from "../dal/repository";
import type { FunctionConfig } from "./config";
import { CONNECTION_KEY, type Connection } from "./connection";
import type { WebSocketHandler } from "./events";
import { verifiedUser } from "./identity";

export interface ConnectHandlerDependencies {
  connections: Repository<Connection>;
  config: Pick<FunctionConfig, "connectionTtlSeconds">;
  now: () => number;
}

/** `$connect`: records the connection. A throw rejects the handshake (API Gateway answers 5xx). */
export function createConnectHandler(deps: ConnectHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, apiId, stage, connectedAt, identity } = event.requestContext;
    await deps.connections.put({
      [CONNECTION_KEY]: connectionId,
      apiId,
      stage,
      connectedAt,
      sourceIp: identity.sourceIp,
      userAgent: identity.userAgent,
      // Who the authorizer let in, if the route has one: the connection's name for its whole life.
      ...verifiedUser(event.requestContext),
      expiresAt: Math.floor(deps.now() / 1000) + deps.config.connectionTtlSeconds,
    });
    return { statusCode: 200 };
  };
}

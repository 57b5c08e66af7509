import type { Repository } from "../dal/repository";
import { CONNECTION_KEY, type Connection } from "./connection";
import type { WebSocketHandler } from "./events";

export interface DisconnectHandlerDependencies {
  connections: Repository<Connection>;
}

/** `$disconnect`: forgets the connection. API Gateway runs it best effort, so TTL backs it up. */
export function createDisconnectHandler(deps: DisconnectHandlerDependencies): WebSocketHandler {
  return async (event) => {
    await deps.connections.delete({ [CONNECTION_KEY]: event.requestContext.connectionId });
    return { statusCode: 200 };
  };
}

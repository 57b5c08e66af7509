/** The `$connect` route's handler: the connection joins its room, and the room is told. */
import { enterRoom, type PresenceDependencies } from "../broadcast/presence";
import { CONNECTION_KEY, type Connection } from "../chat/connection";
import { validateDisplayName } from "../chat/display-name";
import { verifiedUser } from "../chat/identity";
import { parseRoom } from "../chat/room";
import { admitConnection } from "../limits/connection-cap";
import type { FunctionConfig } from "../runtime/function-config";
import type { WebSocketHandler } from "../runtime/lambda-events";

interface ConnectHandlerDependencies extends PresenceDependencies {
  config: PresenceDependencies["config"] & Pick<FunctionConfig, "connectionTtlSeconds">;
}

/**
 * `$connect`: joins the room of `?room=` (default `lobby`) under the verified name, or with auth
 * off the name of `?name=`, if any; a bad room or name refuses the handshake with 400. Then tells
 * the room, if it is small enough for presence notices (`PRESENCE_ROOM_LIMIT`; else the row is
 * `quiet`). A throw rejects the handshake (API Gateway answers 5xx); a join notice that fails does
 * not: the connection is recorded, and the room learns of it from `who`.
 */
export function createConnectHandler(deps: ConnectHandlerDependencies): WebSocketHandler {
  return async (event) => {
    const { connectionId, apiId, stage, connectedAt, identity } = event.requestContext;
    // Given twice, a parameter's last value is the one in queryStringParameters
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#apigateway-multivalue-headers-and-parameters).
    const query = event.queryStringParameters ?? {};
    const room = parseRoom(query.room);
    if ("error" in room) return { statusCode: 400, body: room.error };
    // Who the authorizer let in, if the route has one: the connection's name for its whole life.
    const user = verifiedUser(event.requestContext);
    let name = user?.name;
    if (!user && query.name !== undefined) {
      const given = validateDisplayName(query.name, "The name");
      if ("error" in given) return { statusCode: 400, body: given.error };
      name = given.value;
    }
    // Refused before anything is written or anyone told.
    const tooMany = await admitConnection(deps, event.requestContext, user);
    if (tooMany) return { statusCode: 429, body: tooMany };
    const connection: Connection = {
      [CONNECTION_KEY]: connectionId,
      apiId,
      stage,
      room: room.value,
      rooms: new Set([room.value]),
      connectedAt,
      sourceIp: identity.sourceIp,
      userAgent: identity.userAgent,
      ...(user && { userId: user.userId }),
      ...(name !== undefined && { name }),
      expiresAt: Math.floor(deps.now() / 1000) + deps.config.connectionTtlSeconds,
    };
    await deps.connections.put(connection);
    await enterRoom(deps, event, connection, room.value);
    return { statusCode: 200 };
  };
}

/**
 * The `$connect` authorizer: a Lambda REQUEST authorizer that reads the token from the query
 * string (browsers cannot set headers on a WebSocket) and answers with a policy and the identity
 * as context. API Gateway answers 401 when the function fails with the message "Unauthorized",
 * 403 when the policy does not allow the `methodArn`, 500 for anything else.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html
 */

import type { AuthorizerConfig } from "../auth/auth-config";
import { createTokenVerifier, TokenRefusedError, type TokenVerifier } from "../auth/token-verification";
import type { AuthorizerEvent, AuthorizerResult } from "../runtime/lambda-events";

/** The query string parameter that carries the token: `wss://.../dev?token=...`. */
const TOKEN_QUERY_PARAMETER = "token";
/** The authorizer's identity source, in API Gateway's syntax. */
export const IDENTITY_SOURCE = `route.request.querystring.${TOKEN_QUERY_PARAMETER}`;

export type AuthorizerHandler = (event: AuthorizerEvent) => Promise<AuthorizerResult>;

interface AuthorizerDependencies {
  verifyToken: TokenVerifier;
  logger: Pick<Console, "warn">;
}

/**
 * The authorizer's real dependencies, built once per cold start. Nothing here reaches KMS or the
 * routes' clients: the authorizer's package loads jose and little else.
 */
export function createAuthorizerDependencies(
  config: AuthorizerConfig,
  logger: AuthorizerDependencies["logger"] = console,
): AuthorizerDependencies {
  return { verifyToken: createTokenVerifier(config), logger };
}

export function createAuthorizerHandler(deps: AuthorizerDependencies): AuthorizerHandler {
  return async (event) => {
    const token = event.queryStringParameters?.[TOKEN_QUERY_PARAMETER] ?? "";
    const { connectionId } = event.requestContext;
    let identity: Awaited<ReturnType<TokenVerifier>>;
    try {
      identity = await deps.verifyToken(token);
    } catch (error) {
      // Why, for whoever runs the chat; the client learns only that it was refused (401) or failed (500).
      const why = error instanceof Error ? error.message : String(error);
      if (!(error instanceof TokenRefusedError)) {
        deps.logger.warn(`connection ${connectionId} not authorized, the authorizer failed: ${why}`);
        throw error;
      }
      deps.logger.warn(`connection ${connectionId} refused: ${why}`);
      throw new Error("Unauthorized");
    }
    return {
      principalId: identity.userId,
      policyDocument: {
        Version: "2012-10-17",
        Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
      },
      context: { userId: identity.userId, name: identity.name },
    };
  };
}

/**
 * The token endpoint: `POST {"name":"Ada"}` answers `200 {"token","expiresAt","userId","name"}`,
 * a guest token for that name, or `400 {"message"}` saying what is wrong with the request. Served
 * as a Lambda function URL, whose events are API Gateway's HTTP payload format 2.0:
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 */

import { randomUUID } from "node:crypto";
import { createDocumentClient } from "../../dal/dynamodb-client";
import { DynamoDBLimitsStore, type LimitsStore } from "../../dal/limits-table";
import type { TokenEndpointConfig } from "../auth/auth-config";
import { createKmsTokenSigner, issueToken, type TokenSigner } from "../auth/token-signing";
import { validateDisplayName } from "../chat/display-name";
import { addressBucket, rateOf } from "../limits/rate-limits";
import { parseJsonObject } from "../runtime/checked";
import { ConfigError } from "../runtime/function-config";
import type { HttpHandler, HttpResult } from "../runtime/lambda-events";

/** What a successful request gets. */
export interface TokenResponse {
  token: string;
  /** Epoch seconds, the token's `exp`: connect before then. */
  expiresAt: number;
  /** `guest-{uuid}`: the `userId` of this person's messages. */
  userId: string;
  /** The name as the chat will show it (trimmed, normalized). */
  name: string;
}

/** Larger bodies are refused unread: `{"name": ...}` with 64 characters fits many times over. */
export const MAX_TOKEN_REQUEST_BYTES = 1024;

interface TokenEndpointDependencies {
  signer: TokenSigner;
  config: Pick<TokenEndpointConfig, "issuer" | "audience" | "ttlSeconds" | "rateLimits">;
  /** Each address's budget of tokens; absent, no limit. */
  limits?: LimitsStore;
  now: () => number;
  logger: Pick<Console, "error">;
}

/**
 * The token endpoint's real dependencies: KMS signs in the cloud, and the limits table keeps each
 * address's budget; the local gateway passes the signer of the key it made at start, and its own
 * limits table.
 */
export function createTokenEndpointDependencies(
  config: TokenEndpointConfig,
  local: { signer?: TokenSigner; limits?: LimitsStore } = {},
  logger: TokenEndpointDependencies["logger"] = console,
): TokenEndpointDependencies {
  if (!local.signer && !config.kmsKeyId) throw new ConfigError("TOKEN_KMS_KEY_ID must be set");
  const limits =
    local.limits ??
    (config.limitsTableName
      ? new DynamoDBLimitsStore(createDocumentClient({ region: config.region ?? "us-east-1" }), config.limitsTableName)
      : undefined);
  return {
    signer: local.signer ?? createKmsTokenSigner(config.kmsKeyId as string, { region: config.region }),
    config,
    ...(limits && { limits }),
    now: Date.now,
    logger,
  };
}

export function createTokenHandler(deps: TokenEndpointDependencies): HttpHandler {
  return async (event) => {
    const { method, sourceIp } = event.requestContext.http;
    if (method !== "POST") return json(405, { message: "Use POST with a JSON body" }, { Allow: "POST" });
    const waitSeconds = await addressWait(deps, sourceIp);
    if (waitSeconds > 0) {
      const { perAddress, seconds } = deps.config.rateLimits?.tokens ?? { perAddress: 0, seconds: 0 };
      const message = `Too many tokens asked from one address: at most ${perAddress} every ${seconds} s; try again in ${waitSeconds} s`;
      return json(429, { message }, { "Retry-After": String(waitSeconds) });
    }
    const body = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
    if (body.length > MAX_TOKEN_REQUEST_BYTES) {
      return json(400, { message: `The body is ${body.length} bytes; the limit is ${MAX_TOKEN_REQUEST_BYTES}` });
    }
    const request = parseJsonObject(body.toString("utf8"), "body", ': {"name":"..."}');
    if ("error" in request) return json(400, { message: request.error });
    const name = validateDisplayName(request.value.name);
    if ("error" in name) return json(400, { message: name.error });

    const now = Math.floor(deps.now() / 1000);
    const userId = `guest-${randomUUID()}`;
    const expiresAt = now + deps.config.ttlSeconds;
    let token: string;
    try {
      token = await issueToken(deps.signer, {
        iss: deps.config.issuer,
        aud: deps.config.audience,
        sub: userId,
        name: name.value,
        iat: now,
        nbf: now,
        exp: expiresAt,
      });
    } catch (error) {
      deps.logger.error(`signing a token failed (request ${event.requestContext.requestId}):`, error);
      return json(503, { message: "No token can be issued right now; try again shortly" });
    }
    const response: TokenResponse = { token, expiresAt, userId, name: name.value };
    return json(200, response);
  };
}

/** Seconds until the address may ask again: 0 when it may now (a token taken from its budget). */
async function addressWait(deps: TokenEndpointDependencies, sourceIp: string): Promise<number> {
  const budget = deps.config.rateLimits?.tokens;
  if (!deps.limits || !budget || budget.perAddress === 0) return 0;
  const scope = { apiId: deps.config.audience, stage: "token" };
  const waitMs = await deps.limits.take(
    addressBucket("tokens", scope, sourceIp),
    rateOf(budget.perAddress, budget.seconds),
    deps.now(),
  );
  return Math.ceil(waitMs / 1000);
}

function json(statusCode: number, body: object, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    // A token is for one person: no cache on the way may keep it.
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers },
    body: JSON.stringify(body),
  };
}

import path from "node:path";
import {
  ConfigError,
  DEFAULT_CONNECTION_MESSAGE_LIMIT,
  DEFAULT_CONNECTION_MESSAGE_WINDOW_SECONDS,
} from "../functions/runtime/function-config";
import { readStackThrottling } from "./api-gateway/stage-throttling";
import type { LocalAuthOptions } from "./chat/sign-in";
import type { LocalGatewayOptions } from "./gateway-options";
import { readStackSettings, type StackSettings } from "./stack-file";

/** Reads the local server's settings from its environment; throws {@link ConfigError} naming a bad variable. */
export function readLocalConfig(env: Record<string, string | undefined> = process.env): LocalGatewayOptions {
  const port = env.WS_PORT?.trim() || "8080";
  if (!/^\d+$/.test(port) || Number(port) > 65535)
    throw new ConfigError(`WS_PORT must be a port number, got ${JSON.stringify(port)}`);
  const stage = env.STAGE?.trim() || "dev";
  if (!/^[A-Za-z0-9_-]+$/.test(stage))
    throw new ConfigError(`STAGE must be letters, digits, - or _, got ${JSON.stringify(stage)}`);
  const concurrency = env.LAMBDA_CONCURRENCY?.trim();
  if (concurrency !== undefined && concurrency !== "" && !/^[1-9]\d{0,5}$/.test(concurrency))
    throw new ConfigError(
      `LAMBDA_CONCURRENCY must be a whole number from 1 to 999999, got ${JSON.stringify(concurrency)}`,
    );
  const throttling = env.THROTTLING?.trim() || "on";
  if (throttling !== "on" && throttling !== "off")
    throw new ConfigError(`THROTTLING must be on or off, got ${JSON.stringify(throttling)}`);
  const stack = env.STACK?.trim() || "dev";
  const projectDir = path.join(__dirname, "..");
  const stackSettings = readStackSettings(projectDir, stack);
  // The stack's per-connection message limit, as its functions get it; off with the stage's throttling.
  const messageLimit = (variable: string, key: string, fallback: number) =>
    env[variable]?.trim() || (throttling === "on" ? String(stackSettings.get(key) ?? fallback) : undefined);
  return {
    port: Number(port),
    // The stage's limits as the stack deploys them; off for load tests and benchmarks.
    ...(throttling === "on" && { throttling: readStackThrottling(projectDir, stack) }),
    auth: readLocalAuth(env, stackSettings),
    host: env.HOST?.trim() || "127.0.0.1",
    stage,
    region: env.AWS_REGION?.trim() || "us-east-1",
    tableName: env.TABLE_NAME?.trim() || "websocket-chat-connections",
    messagesTableName: env.MESSAGES_TABLE_NAME?.trim() || "websocket-chat-messages",
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT_URL?.trim() || undefined,
    allowRemoteManagement: env.ALLOW_REMOTE_MANAGEMENT === "true",
    ...(concurrency && { limits: { concurrentExecutions: Number(concurrency) } }),
    // Handler settings pass through as Lambda's environment would carry them.
    functionEnvironment: {
      BROADCAST_CONCURRENCY: env.BROADCAST_CONCURRENCY,
      MAX_MESSAGE_BYTES: env.MAX_MESSAGE_BYTES,
      CONNECTION_TTL_SECONDS: env.CONNECTION_TTL_SECONDS,
      HISTORY_TTL_SECONDS: env.HISTORY_TTL_SECONDS,
      FANOUT_SHARD_THRESHOLD: env.FANOUT_SHARD_THRESHOLD,
      FANOUT_SLICE_SIZE: env.FANOUT_SLICE_SIZE,
      CONNECTION_MESSAGE_LIMIT: messageLimit(
        "CONNECTION_MESSAGE_LIMIT",
        "connectionMessageLimit",
        DEFAULT_CONNECTION_MESSAGE_LIMIT,
      ),
      CONNECTION_MESSAGE_WINDOW_SECONDS: messageLimit(
        "CONNECTION_MESSAGE_WINDOW_SECONDS",
        "connectionMessageWindowSeconds",
        DEFAULT_CONNECTION_MESSAGE_WINDOW_SECONDS,
      ),
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    },
  };
}

/**
 * Who may connect: `AUTH` if set, else the stack's `auth` (default `guest`, as the program
 * deploys it); for `oidc`, `OIDC_*` variables over the stack's `oidc*` settings.
 */
function readLocalAuth(env: Record<string, string | undefined>, stack: StackSettings): LocalAuthOptions {
  const setting = (variable: string, key: string): string | undefined => {
    const value = env[variable]?.trim() || stack.get(key);
    return value === undefined || value === "" ? undefined : String(value);
  };
  const mode = setting("AUTH", "auth") ?? "guest";
  if (mode === "none") return { mode };
  if (mode === "guest") {
    // Checked (30 to 86,400) where the token endpoint reads it, as in Lambda.
    const ttl = setting("TOKEN_TTL_SECONDS", "tokenTtlSeconds");
    return ttl === undefined ? { mode } : { mode, tokenTtlSeconds: Number(ttl) };
  }
  if (mode !== "oidc") throw new ConfigError(`AUTH must be guest, oidc or none, got ${JSON.stringify(mode)}`);
  const issuer = setting("OIDC_ISSUER", "oidcIssuer");
  const audience = setting("OIDC_AUDIENCE", "oidcAudience");
  if (!issuer || !audience) {
    throw new ConfigError(
      `AUTH=oidc needs OIDC_ISSUER and OIDC_AUDIENCE (or oidcIssuer and oidcAudience in ${stack.file})`,
    );
  }
  return {
    mode,
    issuer,
    audience,
    jwksUri: setting("OIDC_JWKS_URI", "oidcJwksUri"),
    nameClaim: setting("OIDC_NAME_CLAIM", "oidcNameClaim"),
    algorithms: setting("OIDC_ALGORITHMS", "oidcAlgorithms"),
  };
}

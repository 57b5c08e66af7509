/**
 * What `npm run local` is told by its environment, read and checked in one place, with the stack
 * file (`STACK`, default `dev`) for what the environment leaves out: the gateway's options, and the
 * settings its functions get as Lambda's environment would carry them.
 */
import path from "node:path";
import { AUTH_MODES } from "../functions/auth/auth-config";
import { withDefaults } from "../functions/limits/rate-limits";
import { ConfigError, environmentReader } from "../functions/runtime/function-config";
import type { LocalAuthOptions } from "./chat/sign-in";
import type { LocalGatewayOptions } from "./gateway-options";
import { readStackFile, type StackFile, stackThrottling } from "./stack-file";

/** Handler settings passed through to the functions as they are. */
const FUNCTION_VARIABLES = [
  "BROADCAST_CONCURRENCY",
  "MAX_MESSAGE_BYTES",
  "CONNECTION_TTL_SECONDS",
  "HISTORY_TTL_SECONDS",
  "ROOMS_PER_CONNECTION",
  "FANOUT_SHARD_THRESHOLD",
  "FANOUT_SLICE_SIZE",
] as const;

/** Reads the local server's settings; throws {@link ConfigError} naming a bad variable. */
export function readCliSettings(env: Record<string, string | undefined> = process.env): LocalGatewayOptions {
  const { read, integer, oneOf, matching } = environmentReader(env);
  const concurrency = integer("LAMBDA_CONCURRENCY", 0, 1, 999_999);
  const throttling = oneOf("THROTTLING", ["on", "off"], "on") === "on";
  const stack = readStackFile(path.join(__dirname, ".."), read("STACK") ?? "dev");
  // What one user and one address may do, as the stack's functions get it; off with the stage's throttling.
  const rateLimits =
    read("RATE_LIMITS") ?? (throttling ? JSON.stringify(withDefaults(stackRateLimits(stack))) : undefined);
  return {
    port: integer("WS_PORT", 8080, 0, 65_535),
    // The stage's limits as the stack deploys them; off for load tests and benchmarks.
    ...(throttling && { throttling: stackThrottling(stack) }),
    auth: readLocalAuth(env, stack),
    host: read("HOST") ?? "127.0.0.1",
    stage: matching("STAGE", /^[A-Za-z0-9_-]+$/, "letters, digits, - or _", "dev"),
    region: read("AWS_REGION") ?? "us-east-1",
    tableName: read("TABLE_NAME") ?? "websocket-chat-connections",
    messagesTableName: read("MESSAGES_TABLE_NAME") ?? "websocket-chat-messages",
    dynamodbEndpoint: read("DYNAMODB_ENDPOINT_URL"),
    allowRemoteManagement: env.ALLOW_REMOTE_MANAGEMENT === "true",
    allowedHosts: list(read("ALLOWED_HOSTS")),
    allowedOrigins: list(read("ALLOWED_ORIGINS")).map((origin) => {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
        throw new ConfigError(
          `ALLOWED_ORIGINS must list origins like http://localhost:3000, got ${JSON.stringify(origin)}`,
        );
      }
      return origin;
    }),
    // The user's own keys, if the shell has some: their tools then sign for the gateway as they are.
    ...(env.AWS_ACCESS_KEY_ID &&
      env.AWS_SECRET_ACCESS_KEY && {
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
        },
      }),
    ...(concurrency > 0 && { limits: { concurrentExecutions: concurrency } }),
    functionEnvironment: {
      ...Object.fromEntries(FUNCTION_VARIABLES.map((name) => [name, env[name]])),
      RATE_LIMITS: rateLimits,
    },
  };
}

/** A comma-separated setting's entries. */
function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** The stack's `rateLimits`, as Pulumi's config holds an object: JSON text, or parsed already. */
function stackRateLimits(stack: StackFile): object | undefined {
  const value = stack.get("rateLimits");
  if (value === undefined) return undefined;
  if (typeof value === "object" && value !== null) return value;
  try {
    return JSON.parse(String(value)) as object;
  } catch {
    throw new ConfigError(`${stack.file}: rateLimits must be an object, got ${JSON.stringify(value)}`);
  }
}

/**
 * Who may connect: `AUTH` if set, else the stack's `auth` (default `guest`, as the program
 * deploys it); for `oidc`, `OIDC_*` variables over the stack's `oidc*` settings.
 */
function readLocalAuth(env: Record<string, string | undefined>, stack: StackFile): LocalAuthOptions {
  const setting = (variable: string, key: string): string | undefined => {
    const value = env[variable]?.trim() || stack.get(key);
    return value === undefined || value === "" ? undefined : String(value);
  };
  const mode = environmentReader({ AUTH: setting("AUTH", "auth") }).oneOf("AUTH", AUTH_MODES, "guest");
  if (mode === "none") return { mode };
  if (mode === "guest") {
    // Checked (30 to 86,400) where the token endpoint reads it, as in Lambda.
    const ttl = setting("TOKEN_TTL_SECONDS", "tokenTtlSeconds");
    return ttl === undefined ? { mode } : { mode, tokenTtlSeconds: Number(ttl) };
  }
  const issuer = setting("OIDC_ISSUER", "oidcIssuer");
  const audience = setting("OIDC_AUDIENCE", "oidcAudience");
  if (!issuer || !audience) {
    throw new ConfigError(
      `AUTH=oidc needs OIDC_ISSUER and OIDC_AUDIENCE (or oidcIssuer and oidcAudience in ${stack.file})`,
    );
  }
  // The page's sign-in (authorization code with PKCE); without both endpoints the page cannot sign in.
  const endpoints = environmentReader({
    OIDC_AUTHORIZATION_ENDPOINT: setting("OIDC_AUTHORIZATION_ENDPOINT", "oidcAuthorizationEndpoint"),
    OIDC_TOKEN_ENDPOINT: setting("OIDC_TOKEN_ENDPOINT", "oidcTokenEndpoint"),
  });
  return {
    mode,
    issuer,
    audience,
    jwksUri: setting("OIDC_JWKS_URI", "oidcJwksUri"),
    nameClaim: setting("OIDC_NAME_CLAIM", "oidcNameClaim"),
    algorithms: setting("OIDC_ALGORITHMS", "oidcAlgorithms")
      ?.split(",")
      .map((name) => name.trim()),
    authorizationEndpoint: endpoints.url("OIDC_AUTHORIZATION_ENDPOINT"),
    tokenEndpoint: endpoints.url("OIDC_TOKEN_ENDPOINT"),
    scope: setting("OIDC_SCOPE", "oidcScope"),
  };
}

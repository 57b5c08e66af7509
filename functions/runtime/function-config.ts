/**
 * The functions' settings, read from their environment and checked once per cold start, failing with
 * the variable's name; the environment reader the other settings use too.
 */
import { ProjectError } from "../../dal/errors";
import { checkRateLimits, type RateLimits, withDefaults } from "../limits/rate-limits";

/** A required setting is missing or malformed; the message names the variable. */
export class ConfigError extends ProjectError {
  override get name(): string {
    return "ConfigError";
  }
}

/** Everything the handlers read from their environment, validated once per cold start. */
export interface FunctionConfig {
  /** `TABLE_NAME`: the connections table. */
  tableName: string;
  /** `MESSAGES_TABLE_NAME`: the messages table (rooms' history). */
  messagesTableName: string;
  /** `HISTORY_TTL_SECONDS`: how long a message is kept (default 86,400: a day). */
  historyTtlSeconds: number;
  /** `AWS_REGION` (set by Lambda). */
  region: string;
  /** `DYNAMODB_ENDPOINT_URL`: another DynamoDB (LocalStack, the embedded one). */
  dynamodbEndpoint?: string;
  /** `MANAGEMENT_ENDPOINT_URL`: overrides the `@connections` endpoint derived from the event. */
  managementEndpoint?: string;
  /** `BROADCAST_CONCURRENCY`: PostToConnection calls in flight at once (default 100). */
  broadcastConcurrency: number;
  /** `ROOMS_PER_CONNECTION`: rooms one connection may be in at once (default 10). */
  roomsPerConnection: number;
  /** `MAX_MESSAGE_BYTES`: largest `data` accepted, UTF-8 bytes (default 32768). */
  maxMessageBytes: number;
  /** `CONNECTION_TTL_SECONDS`: how long a row outlives its `$connect` (default 7200, API Gateway's maximum connection duration). */
  connectionTtlSeconds: number;
  /**
   * `CONNECT_TIMEOUT_MS`: the `$connect` integration's timeout (default 29,000, API Gateway's
   * default and maximum), the longest a connection can stay connecting.
   */
  connectTimeoutMs: number;
  /**
   * `BROADCAST_FUNCTION_NAME`: the broadcast worker a large room's fan-out is handed to; without
   * one every broadcast is inline.
   */
  broadcastFunctionName?: string;
  /**
   * `FANOUT_SHARD_THRESHOLD`: members of a room's shard posted to inline (default 250, so rooms
   * of up to about 1,000); a shard with more goes to workers.
   */
  fanoutShardThreshold: number;
  /** `FANOUT_SLICE_SIZE`: members per broadcast worker (default 1,000). */
  fanoutSliceSize: number;
  /**
   * `ACCOUNT_CONCURRENCY`: the account's concurrent Lambda executions (default 1,000, AWS's
   * default quota; the stack's `lambdaConcurrency`), which bounds a message's fan-out.
   */
  accountConcurrency: number;
  /**
   * `RATE_LIMITS`: what one user and one address may do (JSON, each budget over the defaults;
   * `functions/limits/rate-limits.ts`). Unset, as in the local gateway's tests: no limits. The
   * stack sets them.
   */
  rateLimits?: RateLimits;
  /** `LIMITS_TABLE_NAME`: the table the limits are kept in; required with `RATE_LIMITS`. */
  limitsTableName?: string;
  /**
   * Fixed credentials for a local endpoint when the environment has none, so the SDK never walks
   * its chain to the instance-metadata address.
   */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export const DEFAULT_BROADCAST_CONCURRENCY = 100;
/** The deployed functions' timeout; the local gateway fails an invocation after as long. */
export const FUNCTION_TIMEOUT_SECONDS = 10;
// Chosen with `npm run bench:lambda` (docs/performance.md, "Fan-out to large rooms, modelled").
const DEFAULT_FANOUT_SHARD_THRESHOLD = 250;
const DEFAULT_FANOUT_SLICE_SIZE = 1000;
/** Lambda's default quota of concurrent executions per account and region. */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;
export const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024;
const DEFAULT_ROOMS_PER_CONNECTION = 10;
export const DEFAULT_CONNECTION_TTL_SECONDS = 2 * 60 * 60;
const DEFAULT_HISTORY_TTL_SECONDS = 24 * 60 * 60;
export const MAX_HISTORY_TTL_SECONDS = 366 * 24 * 60 * 60;
/** API Gateway's integration timeout for WebSocket APIs: 50 ms to 29 s, 29 s unless set lower. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_MS = 29_000;
/** API Gateway's limit on one WebSocket message and on a PostToConnection body. */
export const API_GATEWAY_MAX_MESSAGE_BYTES = 128 * 1024;

/** Reads and validates the handlers' settings; throws {@link ConfigError} naming the bad variable. */
export function readFunctionConfig(env: Record<string, string | undefined> = process.env): FunctionConfig {
  const { required, url, integer } = environmentReader(env);
  const dynamodbEndpoint = url("DYNAMODB_ENDPOINT_URL");
  const managementEndpoint = url("MANAGEMENT_ENDPOINT_URL");
  const local = dynamodbEndpoint !== undefined || managementEndpoint !== undefined;
  return {
    tableName: required("TABLE_NAME"),
    messagesTableName: required("MESSAGES_TABLE_NAME"),
    historyTtlSeconds: integer("HISTORY_TTL_SECONDS", DEFAULT_HISTORY_TTL_SECONDS, 60, MAX_HISTORY_TTL_SECONDS),
    region: env.AWS_REGION?.trim() || (local ? "us-east-1" : required("AWS_REGION")),
    dynamodbEndpoint,
    managementEndpoint,
    broadcastConcurrency: integer("BROADCAST_CONCURRENCY", DEFAULT_BROADCAST_CONCURRENCY, 1, 1000),
    broadcastFunctionName: env.BROADCAST_FUNCTION_NAME?.trim() || undefined,
    fanoutShardThreshold: integer("FANOUT_SHARD_THRESHOLD", DEFAULT_FANOUT_SHARD_THRESHOLD, 1, 100_000),
    fanoutSliceSize: integer("FANOUT_SLICE_SIZE", DEFAULT_FANOUT_SLICE_SIZE, 1, 1_000_000),
    accountConcurrency: integer("ACCOUNT_CONCURRENCY", DEFAULT_ACCOUNT_CONCURRENCY, 1, 1_000_000),
    ...rateLimitSettings(env),
    roomsPerConnection: integer("ROOMS_PER_CONNECTION", DEFAULT_ROOMS_PER_CONNECTION, 1, 100),
    maxMessageBytes: integer("MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES, 1, API_GATEWAY_MAX_MESSAGE_BYTES - 1024),
    connectionTtlSeconds: integer("CONNECTION_TTL_SECONDS", DEFAULT_CONNECTION_TTL_SECONDS, 1, 366 * 24 * 60 * 60),
    // Up to an hour: the local gateway's integration timeout may be set past AWS's (benchmarks).
    connectTimeoutMs: integer("CONNECT_TIMEOUT_MS", API_GATEWAY_INTEGRATION_TIMEOUT_MS, 1, 3_600_000),
    credentials: local && !env.AWS_ACCESS_KEY_ID ? { accessKeyId: "local", secretAccessKey: "local" } : undefined,
  };
}

/** `RATE_LIMITS` over the defaults, and the table that keeps them; none when unset. */
export function rateLimitSettings(
  env: Record<string, string | undefined>,
): Pick<FunctionConfig, "rateLimits" | "limitsTableName"> {
  const { read, required } = environmentReader(env);
  const json = read("RATE_LIMITS");
  if (!json) return {};
  let limits: RateLimits;
  try {
    limits = checkRateLimits(withDefaults(JSON.parse(json)), "RATE_LIMITS");
  } catch (error) {
    throw new ConfigError(
      error instanceof RangeError ? error.message : `RATE_LIMITS must be JSON, got ${JSON.stringify(json)}`,
    );
  }
  return { rateLimits: limits, limitsTableName: required("LIMITS_TABLE_NAME") };
}

/**
 * Readers of settings (required, a URL, a whole number in a range, one of a few words, a pattern)
 * that throw {@link ConfigError} naming the variable and what it must be.
 */
export function environmentReader(env: Record<string, string | undefined>) {
  const read = (name: string): string | undefined => env[name]?.trim() || undefined;
  const refuse = (name: string, must: string, value: string) =>
    new ConfigError(`${name} must be ${must}, got ${JSON.stringify(value)}`);
  const required = (name: string): string => {
    const value = read(name);
    if (!value) throw new ConfigError(`${name} must be set`);
    return value;
  };
  const url = (name: string): string | undefined => {
    const value = read(name);
    if (!value) return undefined;
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
    } catch {
      throw refuse(name, "an http(s) URL", value);
    }
    return value.replace(/\/+$/, "");
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const value = read(name);
    if (!value) return fallback;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw refuse(name, `a whole number from ${min} to ${max}`, value);
    }
    return parsed;
  };
  const oneOf = <T extends string>(name: string, choices: readonly T[], fallback: T): T => {
    const value = read(name) ?? fallback;
    if (!choices.includes(value as T)) {
      throw refuse(name, `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`, value);
    }
    return value as T;
  };
  const matching = (name: string, pattern: RegExp, must: string, fallback: string): string => {
    const value = read(name) ?? fallback;
    if (!pattern.test(value)) throw refuse(name, must, value);
    return value;
  };

  return { read, required, url, integer, oneOf, matching };
}

/** What a ChatApi's arguments must be, checked before anything is declared, and the names it gives. */
import * as pulumi from "@pulumi/pulumi";
import type { AuthSettings } from "../functions/auth/auth-config";
import { checkRateLimits, type DeepPartial, type RateLimits, withDefaults } from "../functions/limits/rate-limits";
import {
  broadcastWorker,
  connectAuthorizer,
  type RouteDefinition,
  routes as routeTable,
  tokenEndpoint,
} from "../functions/routes";
import {
  DEFAULT_ACCOUNT_CONCURRENCY,
  FUNCTION_TIMEOUT_SECONDS,
  MAX_HISTORY_TTL_SECONDS,
} from "../functions/runtime/function-config";
import { validateAuthSettings } from "./chat-auth";
import { type CustomDomainSettings, validateCustomDomain } from "./custom-domain";
import { ARCHITECTURES, type FunctionDefaults, LOG_LEVELS, type LogLevel } from "./inline-function";
import type { WebSocketRoute } from "./websocket-route";

/** Retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const DEFAULT_LAMBDA_MEMORY_MB = 256;
const DEFAULT_LAMBDA_TIMEOUT_SECONDS = FUNCTION_TIMEOUT_SECONDS;
/** API Gateway stops waiting for an integration after 29 s; a longer Lambda timeout buys nothing. */
const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;

export interface ChatApiArgs {
  /** The stage clients connect to: `wss://{apiId}.execute-api.{region}.amazonaws.com/{stageName}`. */
  stageName: string;
  /** Requests every route of the stage accepts in a burst. */
  throttlingBurstLimit: number;
  /** Steady requests per second every route of the stage accepts. */
  throttlingRateLimit: number;
  /** Days CloudWatch keeps each function's logs; one of {@link LOG_RETENTION_DAYS}. */
  logRetentionDays: number;
  /** The lowest level of the functions' log lines kept (default INFO). */
  logLevel?: LogLevel;
  /** The functions' architecture (default arm64). */
  architecture?: FunctionDefaults["architecture"];
  /** `BROADCAST_CONCURRENCY` of the functions; the handlers' default when omitted. */
  broadcastConcurrency?: number;
  /**
   * The account's concurrent Lambda executions in the region (default 1,000, AWS's default quota;
   * a new account has less): checked against the account's quota at deploy, and a large room's
   * fan-out takes at most a fifth of it.
   */
  lambdaConcurrency?: number;
  /** Memory in MB of each function whose route names none (default {@link DEFAULT_LAMBDA_MEMORY_MB}). */
  lambdaMemorySize?: number;
  /** Timeout of each function in seconds (default {@link DEFAULT_LAMBDA_TIMEOUT_SECONDS}). */
  lambdaTimeoutSeconds?: number;
  /** The routes to deploy (default: the route table of `functions/routes.ts`). */
  routes?: readonly RouteDefinition[];
  /** Who may connect (default `none`: anyone, the open chat). */
  auth?: AuthSettings;
  /** How long a room's messages are kept, in seconds (default: the handlers', a day). */
  historyTtlSeconds?: number;
  /** Rooms one connection may be in at once (default: the handlers', 10). */
  roomsPerConnection?: number;
  /** What one user and one source address may do (each budget over the defaults; 0: no limit). */
  rateLimits?: DeepPartial<RateLimits>;
  /** The stage's access log, one JSON line per request (default off: it needs the account's role). */
  accessLogs?: boolean;
  /** Make the account's (and region's) role API Gateway writes logs with: for an account without one. */
  apiGatewayAccountRole?: boolean;
  /** Alarms to an SNS topic (default off), mailed to `alarmEmail` if set. */
  alarms?: boolean;
  alarmEmail?: string;
  /** DynamoDB refuses to delete the messages table until this is turned off (default off). */
  deletionProtection?: boolean;
  /** Clients connect to `wss://{domainName}` (default: the API's own address only). */
  customDomain?: Partial<CustomDomainSettings>;
  /** Publish the chat page to S3 and CloudFront (default on). */
  publishPage?: boolean;
}

export type RouteSettings = Pick<
  ConstructorParameters<typeof WebSocketRoute>[1],
  "stageName" | "defaults" | "memorySize" | "timeoutSeconds" | "environment"
> & { customDomain?: CustomDomainSettings; lambdaConcurrency: number; rateLimits: string };

/** The physical name of a function; the stack name keeps stacks in one account apart. */
export function functionName(name: string, route: { name: string }, stack = pulumi.getStack()): string {
  return `${name}-${stack}-${route.name}`;
}

/**
 * Lambda's rule for a function name given alone: 1 to 64 letters, digits, `-` and `_`
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html). Pulumi allows `.` in a
 * stack name, which is in every function's name: refused here, at preview, not by Lambda mid-deploy.
 */
function checkFunctionName(physicalName: string, stack: string): void {
  if (/[^A-Za-z0-9_-]/.test(stack)) {
    throw new Error(
      `stack name ${JSON.stringify(stack)} cannot be part of a Lambda function name (${physicalName}): Lambda ` +
        `allows only letters, digits, - and _ there; use a stack named like ${stack.replace(/[^A-Za-z0-9_-]/g, "-")}`,
    );
  }
  if (!/^[A-Za-z0-9_-]+$/.test(physicalName)) {
    throw new Error(`Lambda function name ${physicalName} may hold only letters, digits, - and _`);
  }
  if (physicalName.length > 64) {
    throw new Error(`Lambda function name ${physicalName} is longer than 64 characters: shorten the component name`);
  }
}

function checkMemorySize(label: string, memorySize: number): void {
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
    throw new Error(`${label} must be an integer from 128 to 10240, got ${memorySize}`);
  }
}

/**
 * Checks the arguments AWS would reject only at deploy time, so a bad value fails the preview;
 * `stack` is the stack's name, part of every function's.
 */
export function validate(name: string, args: ChatApiArgs, stack = pulumi.getStack()): RouteSettings {
  const functions: { name: string }[] = [...(args.routes ?? routeTable), broadcastWorker];
  if (args.auth && args.auth.mode !== "none") {
    functions.push(connectAuthorizer);
    if (args.auth.mode === "guest") functions.push(tokenEndpoint);
  }
  for (const fn of functions) checkFunctionName(functionName(name, fn, stack), stack);
  for (const route of args.routes ?? routeTable) {
    if (route.memorySize !== undefined) checkMemorySize(`memorySize of route ${route.routeKey}`, route.memorySize);
  }
  if (args.auth) validateAuthSettings(args.auth);
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(args.stageName)) {
    throw new Error(`stageName must be 1 to 128 letters, digits, - or _, got ${JSON.stringify(args.stageName)}`);
  }
  if (args.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(args.logLevel)) {
    throw new Error(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(args.logLevel)}`);
  }
  if (args.architecture !== undefined && !(ARCHITECTURES as readonly string[]).includes(args.architecture)) {
    throw new Error(`lambdaArchitecture must be arm64 or x86_64, got ${JSON.stringify(args.architecture)}`);
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays)) {
    throw new Error(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${args.logRetentionDays}`);
  }
  if (!Number.isInteger(args.throttlingBurstLimit) || args.throttlingBurstLimit < 0) {
    throw new Error(`throttlingBurstLimit must be a whole number, got ${args.throttlingBurstLimit}`);
  }
  if (!Number.isFinite(args.throttlingRateLimit) || args.throttlingRateLimit < 0) {
    throw new Error(`throttlingRateLimit must be a number of requests per second, got ${args.throttlingRateLimit}`);
  }
  const lambdaConcurrency = args.lambdaConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY;
  if (!Number.isInteger(lambdaConcurrency) || lambdaConcurrency < 1 || lambdaConcurrency > 1_000_000) {
    throw new Error(`lambdaConcurrency must be an integer from 1 to 1000000, got ${lambdaConcurrency}`);
  }
  // Lambda reserves concurrency only while 100 executions stay unreserved
  // (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html): a new account's cannot.
  const reserved = args.auth?.mode === "guest" ? args.auth.reservedConcurrency : undefined;
  if (reserved !== undefined && reserved > lambdaConcurrency - 100) {
    throw new Error(
      `tokenReservedConcurrency ${reserved} would leave fewer than the 100 unreserved executions Lambda keeps ` +
        `of lambdaConcurrency ${lambdaConcurrency}: lower it, or leave it unset on an account with less than 101`,
    );
  }
  const concurrency = args.broadcastConcurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)) {
    throw new Error(`broadcastConcurrency must be an integer from 1 to 1000, got ${concurrency}`);
  }
  const rooms = args.roomsPerConnection;
  if (rooms !== undefined && (!Number.isInteger(rooms) || rooms < 1 || rooms > 100)) {
    throw new Error(`roomsPerConnection must be an integer from 1 to 100, got ${rooms}`);
  }
  const history = args.historyTtlSeconds;
  if (history !== undefined && (!Number.isInteger(history) || history < 60 || history > MAX_HISTORY_TTL_SECONDS)) {
    throw new Error(`historyTtlSeconds must be an integer from 60 to ${MAX_HISTORY_TTL_SECONDS}, got ${history}`);
  }
  const rateLimits = checkRateLimits(withDefaults(args.rateLimits), "rateLimits");
  if (args.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(args.alarmEmail)) {
    throw new Error(`alarmEmail must be an e-mail address, got ${JSON.stringify(args.alarmEmail)}`);
  }
  if (args.alarmEmail !== undefined && !args.alarms) throw new Error("alarmEmail is set but alarms is off");
  if (args.apiGatewayAccountRole && !args.accessLogs) {
    throw new Error("apiGatewayAccountRole is only needed with accessLogs: turn accessLogs on, or the role off");
  }
  const customDomain = args.customDomain && validateCustomDomain(args.customDomain);
  const memorySize = args.lambdaMemorySize ?? DEFAULT_LAMBDA_MEMORY_MB;
  checkMemorySize("lambdaMemorySize", memorySize);
  const timeoutSeconds = args.lambdaTimeoutSeconds ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS;
  if (
    !Number.isInteger(timeoutSeconds) ||
    timeoutSeconds < 1 ||
    timeoutSeconds > API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS
  ) {
    throw new Error(
      `lambdaTimeoutSeconds must be an integer from 1 to ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS}, got ${timeoutSeconds}`,
    );
  }
  return {
    stageName: args.stageName,
    defaults: {
      logRetentionDays: args.logRetentionDays,
      logLevel: args.logLevel ?? "INFO",
      architecture: args.architecture ?? "arm64",
      serviceName: `${name}-${pulumi.getStack()}`,
    },
    memorySize,
    timeoutSeconds,
    lambdaConcurrency,
    ...(customDomain && { customDomain }),
    rateLimits: JSON.stringify(rateLimits),
    environment: {
      RATE_LIMITS: JSON.stringify(rateLimits),
      ...(concurrency !== undefined && { BROADCAST_CONCURRENCY: String(concurrency) }),
      ...(history !== undefined && { HISTORY_TTL_SECONDS: String(history) }),
      ...(rooms !== undefined && { ROOMS_PER_CONNECTION: String(rooms) }),
    },
  };
}

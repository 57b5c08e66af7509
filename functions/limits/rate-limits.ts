/**
 * What one identity may do: each budget is "so many every so many seconds", kept as a token bucket
 * (`dal/limits-table.ts`) per user (the authorizer's user id; with no authorizer, the connection)
 * and per source address (`requestContext.identity.sourceIp`). A budget of 0 is no limit.
 *
 * The defaults are what a real chat lives with: a fast typist's burst of 20 messages, then two a
 * second; an office or a campus behind one address, five times that. The stack sets them
 * (`rateLimits`); the functions read them from `RATE_LIMITS`.
 */
import type { Rate } from "../../dal/limits-table";
import type { WebSocketRequestContext } from "../runtime/lambda-events";

/** A budget per user and per address, over the same window. */
export interface SharedBudget {
  perUser: number;
  perAddress: number;
  seconds: number;
}

export interface RateLimits {
  /** `sendmessage`: messages into rooms. */
  messages: SharedBudget;
  /** `who`, `history`: reads. */
  reads: SharedBudget;
  /** `typing` notices. */
  typing: SharedBudget;
  /** Join notices: past it a connection joins its room quietly (and leaves it so). */
  presence: SharedBudget;
  /** New connections per source address, at `$connect`. */
  connects: { perAddress: number; seconds: number };
  /** Guest tokens per source address, at the token endpoint. */
  tokens: { perAddress: number; seconds: number };
  /** Connections one user may hold open at once (tabs and devices). */
  connectionsPerUser: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  messages: { perUser: 20, perAddress: 100, seconds: 10 },
  reads: { perUser: 20, perAddress: 100, seconds: 10 },
  typing: { perUser: 2, perAddress: 20, seconds: 6 },
  presence: { perUser: 5, perAddress: 50, seconds: 60 },
  connects: { perAddress: 300, seconds: 60 },
  tokens: { perAddress: 20, seconds: 60 },
  connectionsPerUser: 10,
};

/** The budgets a route takes a request from. */
export type RouteBudget = "messages" | "reads" | "typing";

/** `count` every `seconds` as a bucket: `count` at once, refilled evenly over the window. */
export function rateOf(count: number, seconds: number): Rate {
  return { burst: count, intervalMs: (seconds * 1000) / count };
}

/** The bucket of the user behind `context` for `budget`: the connection's, with no authorizer. */
export function userBucket(budget: string, context: WebSocketRequestContext): string {
  const userId = context.authorizer?.userId;
  const who = typeof userId === "string" && userId !== "" ? `user#${userId}` : `connection#${context.connectionId}`;
  return `${budget}#${context.apiId}#${context.stage}#${who}`;
}

/** The bucket of a source address for `budget`, within one API's stage. */
export function addressBucket(budget: string, scope: { apiId: string; stage: string }, sourceIp: string): string {
  return `${budget}#${scope.apiId}#${scope.stage}#address#${sourceIp}`;
}

/** The set of a user's open connections. */
export function userConnectionsKey(context: WebSocketRequestContext, userId: string): string {
  return `connections#${context.apiId}#${context.stage}#user#${userId}`;
}

/** The counts each budget holds. */
const BUDGET_COUNTS = {
  messages: ["perUser", "perAddress"],
  reads: ["perUser", "perAddress"],
  typing: ["perUser", "perAddress"],
  presence: ["perUser", "perAddress"],
  connects: ["perAddress"],
  tokens: ["perAddress"],
} as const;

/** `settings` (any budget or count left out) over the defaults. */
export function withDefaults(settings: DeepPartial<RateLimits> = {}): RateLimits {
  const merged = { ...DEFAULT_RATE_LIMITS, ...settings } as Record<string, unknown>;
  for (const name of Object.keys(BUDGET_COUNTS) as (keyof typeof BUDGET_COUNTS)[]) {
    merged[name] = { ...DEFAULT_RATE_LIMITS[name], ...settings[name] };
  }
  return merged as unknown as RateLimits;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

/**
 * Throws a RangeError naming the first count that is not a whole number (0: no limit) or window
 * that is not at least a second; `what` names the setting.
 */
export function checkRateLimits(limits: RateLimits, what: string): RateLimits {
  const whole = (path: string, value: unknown, min: number, max: number) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
      throw new RangeError(
        `${what}: ${path} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
  };
  for (const [name, counts] of Object.entries(BUDGET_COUNTS) as [keyof typeof BUDGET_COUNTS, readonly string[]][]) {
    const budget = limits[name] as unknown as Record<string, unknown>;
    for (const count of counts) whole(`${name}.${count}`, budget[count], 0, 1_000_000);
    whole(`${name}.seconds`, budget.seconds, 1, 86_400);
  }
  whole("connectionsPerUser", limits.connectionsPerUser, 0, 10_000);
  return limits;
}

/**
 * Every route a client can call takes each request from its budget before its handler runs: the
 * user's bucket and the source address's, both at once. Declared in the route table
 * (`rateLimit`), applied here for every route alike, in the cloud and locally, so a new route
 * cannot forget it. A refused message gets the project's error frame, saying when to try again;
 * a refused `$connect` is a 429 before any row is written or anyone is told.
 */
import type { LimitsStore } from "../../dal/limits-table";
import { describe } from "../broadcast/room-broadcast";
import { errorFrame } from "../chat/frames";
import { refOf } from "../chat/requests";
import { ConnectionGoneError, type ConnectionManagerFactory, managementEndpoint } from "../runtime/connection-manager";
import type { FunctionConfig } from "../runtime/function-config";
import type { WebSocketHandler, WebSocketRequestContext } from "../runtime/lambda-events";
import { addressBucket, type RateLimits, rateOf, userBucket } from "./rate-limits";

/** What a route's requests are counted against: a client's messages, its reads, its new connections. */
export type RateLimitClass = "messages" | "reads" | "typing" | "connects" | "none";

export interface LimitDependencies {
  /** Absent, or `config.rateLimits` absent: no limits (unit tests of the handlers, a bare gateway). */
  limits?: LimitsStore;
  config: Pick<FunctionConfig, "rateLimits" | "region" | "managementEndpoint">;
  managementApi: ConnectionManagerFactory;
  now: () => number;
  logger: Pick<Console, "warn">;
}

/** A refusal: how long to wait, and whose budget ran out. */
export interface OverLimit {
  retryAfterSeconds: number;
  by: "user" | "address";
}

/**
 * Takes one request from the user's and the address's buckets of `budget`; resolves `undefined`
 * when both admit it. Both are taken at once: a refused request costs as much as an admitted one.
 */
export async function takeFromBudget(
  deps: LimitDependencies,
  budget: "messages" | "reads" | "typing" | "presence",
  context: WebSocketRequestContext,
): Promise<OverLimit | undefined> {
  const { limits } = deps;
  const settings = deps.config.rateLimits?.[budget];
  if (!limits || !settings) return undefined;
  const now = deps.now();
  const take = (count: number, key: string) =>
    count > 0 ? limits.take(key, rateOf(count, settings.seconds), now) : Promise.resolve(0);
  const [user, address] = await Promise.all([
    take(settings.perUser, userBucket(budget, context)),
    take(settings.perAddress, addressBucket(budget, context, context.identity.sourceIp)),
  ]);
  if (user === 0 && address === 0) return undefined;
  return {
    retryAfterSeconds: Math.max(1, Math.ceil(Math.max(user, address) / 1000)),
    by: user > 0 ? "user" : "address",
  };
}

/** What a client over its budget is told. */
export function overLimitMessage(budget: "messages" | "reads" | "typing", limits: RateLimits, over: OverLimit): string {
  const { perUser, perAddress, seconds } = limits[budget];
  const what = budget === "messages" ? "messages" : budget === "typing" ? "typing notices" : "requests";
  const most =
    over.by === "user"
      ? `${perUser} every ${seconds} s from one user`
      : `${perAddress} every ${seconds} s from one address`;
  return `Too many ${what}: at most ${most}; try again in ${over.retryAfterSeconds} s`;
}

/** `handler` behind its route's budget. */
export function limitedHandler(
  route: { rateLimit: RateLimitClass; routeResponse?: boolean },
  handler: WebSocketHandler,
  deps: LimitDependencies,
): WebSocketHandler {
  const { rateLimit } = route;
  const limits = deps.config.rateLimits;
  if (rateLimit === "none" || !limits || !deps.limits) return handler;
  if (rateLimit === "connects") return connectLimited(handler, deps, limits);
  return async (event, context) => {
    const over = await takeFromBudget(deps, rateLimit, event.requestContext);
    if (!over) return handler(event, context);
    const { connectionId, requestId } = event.requestContext;
    const frame = errorFrame(overLimitMessage(rateLimit, limits, over), requestId, {
      ref: refOf(event.body),
      retryAfterSeconds: over.retryAfterSeconds,
    });
    if (route.routeResponse) return { statusCode: 429, body: frame };
    // A one-way route answers nothing: the refusal is posted to the caller.
    const endpoint = deps.config.managementEndpoint ?? managementEndpoint(event.requestContext, deps.config.region);
    await deps
      .managementApi(endpoint)
      .post(connectionId, frame)
      .catch((error: unknown) => {
        if (!(error instanceof ConnectionGoneError))
          deps.logger.warn(`error frame to ${connectionId} failed: ${describe(error)}`);
      });
    return { statusCode: 429, body: "Too Many Requests" };
  };
}

/** `$connect` behind the address's budget of new connections. */
function connectLimited(handler: WebSocketHandler, deps: LimitDependencies, limits: RateLimits): WebSocketHandler {
  const { perAddress, seconds } = limits.connects;
  return async (event, context) => {
    const { requestContext } = event;
    if (perAddress > 0 && deps.limits) {
      const key = addressBucket("connects", requestContext, requestContext.identity.sourceIp);
      const waitMs = await deps.limits.take(key, rateOf(perAddress, seconds), deps.now());
      if (waitMs > 0) {
        return {
          statusCode: 429,
          body: `Too many new connections: at most ${perAddress} every ${seconds} s from one address; try again in ${Math.ceil(waitMs / 1000)} s`,
        };
      }
    }
    return handler(event, context);
  };
}

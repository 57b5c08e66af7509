/**
 * The stage's throttling, replayed: each route key has a token bucket of `burstLimit` tokens,
 * refilled at `rateLimit` a second, and a request finding it empty is throttled: "API Gateway
 * throttles requests to your API using the token bucket algorithm, where a token counts for a
 * request [...] Clients may receive 429 Too Many Requests error responses"; route settings apply
 * "for individual routes" (developer guide, "Protect your WebSocket APIs", throttling). A throttled
 * handshake is refused with 429. What a throttled message gets is not documented: here the error
 * frame API Gateway uses for its other refusals, with the 429's reason, and the connection stays.
 * `npm run local` sets the limits the stack deploys (`../stack-file.ts`), so what the stage would
 * throttle in the cloud is throttled locally too.
 */

import { TokenBucket } from "./token-bucket";

export interface StageThrottling {
  /** Bucket size: requests a route accepts at once. */
  burstLimit: number;
  /** Tokens added per second. */
  rateLimit: number;
}

/** What a throttled message gets (the handshake gets HTTP 429). */
export const THROTTLED_MESSAGE = "Too Many Requests";

export class StageThrottle {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly limits: StageThrottling) {}

  /** Takes a token for `routeKey`; `false` when the stage throttles the request. */
  take(routeKey: string, now = Date.now()): boolean {
    let bucket = this.buckets.get(routeKey);
    if (!bucket) {
      bucket = new TokenBucket(this.limits.burstLimit, this.limits.rateLimit, now);
      this.buckets.set(routeKey, bucket);
    }
    return bucket.take(now);
  }
}

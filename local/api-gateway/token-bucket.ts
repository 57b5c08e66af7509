/**
 * The token bucket API Gateway throttles with: "a token counts for a request", the bucket holds
 * at most `burst` tokens and refills at `ratePerSecond` (developer guide, "Throttle requests to
 * your REST APIs for better throughput", the algorithm every API Gateway quota of requests per
 * second is stated in). Used for the stage's route throttling and the account's new connections.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly burst: number,
    private readonly ratePerSecond: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Takes a token; `false` when the bucket is empty and the request is throttled. */
  take(now = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.ratePerSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

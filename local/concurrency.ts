/**
 * Lambda's concurrency, replayed: busy execution environments of all functions count against the
 * account's limit (1,000 by default), and an invocation past it is throttled: "additional requests
 * fail with a throttling error (429 status code)"
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
 *
 * One deviation, local only: in Lambda every execution has a CPU share of its own, here they all
 * share this machine's. Past what it can serve, each invocation would slow down until all ran into
 * the function timeout and nothing got through. So when many executions are busy and the oldest
 * has run for a fifth of its timeout, new invocations are throttled too, until the machine catches
 * up: what is admitted finishes, the rest is refused at once, as a throttle is. `$disconnect` is
 * spared it (one small write, and refusing it would leave its row behind).
 */

export interface ConcurrencyOptions {
  /** The account's concurrent executions (Lambda's default quota: 1,000). */
  limit: number;
  /** The machine is behind when the oldest busy execution has run this long (a fifth of the function timeout). */
  behindAfterMs: number;
  /** ...and at least this many are busy: one slow invocation alone is no overload. */
  behindAtBusy: number;
}

export class ConcurrencyLimit {
  /** Start times of the busy executions, oldest first (a Map keeps insertion order). */
  private readonly busy = new Map<number, number>();
  private nextToken = 0;

  constructor(private readonly options: ConcurrencyOptions) {}

  /**
   * Takes one execution: a token to give back, or why the invocation is throttled. `guarded`:
   * subject to the local guard as well as to the limit.
   */
  take(guarded: boolean, now = Date.now()): { token: number } | { throttled: string } {
    const { limit, behindAfterMs, behindAtBusy } = this.options;
    if (this.busy.size >= limit) {
      return { throttled: `TooManyRequestsException (ConcurrentInvocationLimitExceeded, limit ${limit})` };
    }
    if (guarded && this.busy.size >= behindAtBusy) {
      const oldest = this.busy.values().next().value as number;
      if (now - oldest >= behindAfterMs) {
        return {
          throttled: `this machine is behind (${this.busy.size} busy, the oldest for ${now - oldest} ms); Lambda would not throttle here`,
        };
      }
    }
    const token = this.nextToken++;
    this.busy.set(token, now);
    return { token };
  }

  give(token: number): void {
    this.busy.delete(token);
  }
}

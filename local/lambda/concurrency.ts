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
 * up: what is admitted finishes, the rest is refused at once, as a throttle is. The oldest's age
 * alone says so too late past a few times what the machine serves: by then it has admitted more
 * than it finishes in the rest of the timeout. So the machine is behind too when, at the rate
 * executions have finished since the oldest began, those busy would take that fifth to finish.
 * `$disconnect` is spared it (one small write, and refusing it would leave its row behind).
 */

interface ConcurrencyOptions {
  /** The account's concurrent executions (Lambda's default quota: 1,000). */
  limit: number;
  /**
   * The machine is behind when the oldest busy execution has run this long (a fifth of the
   * function timeout), or the busy would take this long at the rate executions finish.
   */
  behindAfterMs: number;
  /** ...and at least this many are busy: one slow invocation alone is no overload. */
  behindAtBusy: number;
}

export class ConcurrencyLimit {
  /** The busy executions, oldest first (a Map keeps insertion order): when each began, and `finished` then. */
  private readonly busy = new Map<number, { startedAt: number; finishedBefore: number }>();
  private nextToken = 0;
  /** Executions given back so far. */
  private finished = 0;

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
      const oldest = this.busy.values().next().value as { startedAt: number; finishedBefore: number };
      const ranMs = now - oldest.startedAt;
      const finished = this.finished - oldest.finishedBefore;
      // At the rate since the oldest began, the next to finish counted (none yet is not "never").
      const behindAtThisRate = this.busy.size * ranMs >= behindAfterMs * (finished + 1);
      if (ranMs >= behindAfterMs || behindAtThisRate) {
        return {
          throttled: `this machine is behind (${this.busy.size} busy, the oldest for ${ranMs} ms, ${finished} finished since); Lambda would not throttle here`,
        };
      }
    }
    const token = this.nextToken++;
    this.busy.set(token, { startedAt: now, finishedBefore: this.finished });
    return { token };
  }

  give(token: number): void {
    if (this.busy.delete(token)) this.finished++;
  }
}

/**
 * Lambda's concurrency, replayed: busy execution environments of all functions count against the
 * account's limit (1,000 by default), and an invocation past it is throttled: "additional requests
 * fail with a throttling error (429 status code)"
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
 *
 * One deviation, local only: in Lambda every execution has a CPU share of its own, here they all
 * share this process, and this process shares the machine. Past what it can serve, each invocation
 * would slow down until all ran into the function timeout and nothing got through. So when many
 * executions are busy and this machine is measured not to finish them in time, new invocations are
 * throttled too, until it catches up: what is admitted finishes, the rest is refused at once, as a
 * throttle is. Not in time means that the oldest busy execution has already run `behindAfterMs`
 * (half its timeout), or that at the rate this machine has been measured to finish executions
 * while many were busy, those busy now and the new one would take two thirds of that (a third of
 * the timeout) to finish: the rest is the margin for newer work costing more than what was
 * measured, cold starts above all, and for a machine that other work slows down meanwhile.
 * The rate is counted over the time 20 or more executions were busy, and only up to an execution
 * that finished: executions that share one event loop all finish late together, so the time before
 * a burst's first one finishes counts with the executions that finish after it. For the same reason
 * a rate measured in a burst's first second is far too low (its first one or two to finish say
 * little of the rest), so the rate rule waits for more busy than a burst of honest clients makes:
 * 100, what the dev stage admits at once. A burst on a fresh gateway is admitted, as Lambda would
 * serve it; a flood passes 100 busy within a second and is throttled on the rate from there.
 * `$disconnect` is spared the guard (one small write, and refusing it would leave its row behind).
 */

interface ConcurrencyOptions {
  /** The account's concurrent executions (Lambda's default quota: 1,000). */
  limit: number;
  /**
   * The machine is behind when the oldest busy execution has run this long (half the function
   * timeout), or the busy would take two thirds of it to finish at the measured rate.
   */
  behindAfterMs: number;
  /** ...and at least this many are busy: one slow invocation alone is no overload. */
  behindAtBusy: number;
}

/** How often the measured rate takes in the executions finished since it last did. */
const RATE_WINDOW_MS = 250;
/** The rate rule's least busy: a class opening one link, the dev stage's burst (`Pulumi.dev.yaml`). */
const RATE_AT_BUSY = 100;
/** Weight of the newest window in the measured rate: about the last second's count. */
const RATE_WEIGHT = 1 / 4;

export class ConcurrencyLimit {
  /** When each busy execution began, oldest first (a Map keeps insertion order). */
  private readonly busy = new Map<number, number>();
  private nextToken = 0;
  private countedTo: number;
  /** Since the rate last took them in: milliseconds with `behindAtBusy` or more busy, and executions finished then. */
  private loadedMs = 0;
  private finishedLoaded = 0;
  private windowStart: number;
  /** Executions finished per millisecond while many were busy, once measured. */
  private perMs: number | undefined;

  constructor(
    private readonly options: ConcurrencyOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.countedTo = now();
    this.windowStart = this.countedTo;
  }

  /**
   * Takes one execution: a token to give back, or why the invocation is throttled. `guarded`:
   * subject to the local guard as well as to the limit.
   */
  take(guarded: boolean): { token: number } | { throttled: string } {
    const { limit } = this.options;
    const now = this.count();
    if (this.busy.size >= limit) {
      return { throttled: `TooManyRequestsException (ConcurrentInvocationLimitExceeded, limit ${limit})` };
    }
    const behind = guarded ? this.behind(now) : undefined;
    if (behind) return { throttled: `this machine is behind (${behind}); Lambda would not throttle here` };
    const token = this.nextToken++;
    this.busy.set(token, now);
    return { token };
  }

  give(token: number): void {
    this.count();
    if (!this.busy.has(token)) return;
    if (this.busy.size >= this.options.behindAtBusy) this.finishedLoaded++;
    this.busy.delete(token);
  }

  /** Why this machine is behind, or `undefined`. */
  private behind(now: number): string | undefined {
    const { behindAfterMs, behindAtBusy } = this.options;
    const busy = this.busy.size;
    if (busy < behindAtBusy) return undefined;
    const oldestMs = Math.round(now - (this.busy.values().next().value as number));
    if (oldestMs >= behindAfterMs) return `${busy} busy, the oldest for ${oldestMs} ms`;
    if (this.perMs === undefined || busy < RATE_AT_BUSY) return undefined;
    const finishMs = (busy + 1) / this.perMs;
    if (finishMs < (behindAfterMs * 2) / 3) return undefined;
    return `${busy} busy, ${Math.round(this.perMs * 1000)} finished a second: ${Math.round(finishMs)} ms to finish them, the oldest for ${oldestMs} ms`;
  }

  /** Counts the time since the last call, takes a window's executions into the rate when due; returns now. */
  private count(): number {
    const now = this.now();
    if (this.busy.size >= this.options.behindAtBusy) this.loadedMs += now - this.countedTo;
    this.countedTo = now;
    if (now - this.windowStart >= RATE_WINDOW_MS) {
      this.windowStart = now;
      // A window in which nothing finished carries its time over to the one in which they do.
      if (this.finishedLoaded > 0 && this.loadedMs > 0) {
        const perMs = this.finishedLoaded / this.loadedMs;
        this.perMs = this.perMs === undefined ? perMs : this.perMs + (perMs - this.perMs) * RATE_WEIGHT;
        this.loadedMs = 0;
        this.finishedLoaded = 0;
      }
    }
    return now;
  }
}

/** The account's limit as a gateway's settings give it: `behindAfterMs` 0 turns the local guard off. */
export function accountConcurrency(limits: { concurrentExecutions: number; behindAfterMs: number }): ConcurrencyLimit {
  return new ConcurrencyLimit({
    limit: limits.concurrentExecutions,
    behindAfterMs: limits.behindAfterMs || Number.POSITIVE_INFINITY,
    behindAtBusy: 20,
  });
}

/**
 * Lambda's concurrency, replayed: busy execution environments of all functions count against the
 * account's limit (1,000 by default), and an invocation past it is throttled: "additional requests
 * fail with a throttling error (429 status code)"
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
 *
 * One deviation, local only: in Lambda every execution has a CPU share of its own, here they all
 * share this process's event loop. Past what it can serve, each invocation would slow down until
 * all ran into the function timeout and nothing got through. So when many executions are busy and
 * this machine is measured to be behind, new invocations are throttled too, until it catches up:
 * what is admitted finishes, the rest is refused at once, as a throttle is. Behind means either
 * - the oldest busy execution has already run a fifth of its timeout, or
 * - the busy executions (and the new one) would take that long to finish at the work each has
 *   measured to cost: the event loop's busy time during an execution, shared among the executions
 *   busy with it (they take turns on the loop), averaged over recent executions.
 * A burst that arrives before anything has finished is admitted: nothing is measured yet, and
 * executions that share the loop all finish late together, so "none finished yet" says nothing.
 * `$disconnect` is spared the guard (one small write, and refusing it would leave its row behind).
 */
import { performance } from "node:perf_hooks";

export interface ConcurrencyOptions {
  /** The account's concurrent executions (Lambda's default quota: 1,000). */
  limit: number;
  /**
   * The machine is behind when the oldest busy execution has run this long (a fifth of the
   * function timeout), or the busy would take this long to finish at their measured cost.
   */
  behindAfterMs: number;
  /** ...and at least this many are busy: one slow invocation alone is no overload. */
  behindAtBusy: number;
}

/** What the guard measures with (a test's own clock in tests). */
export interface MachineClock {
  /** Milliseconds, increasing. */
  now(): number;
  /** Milliseconds this process's event loop has spent running code so far. */
  loopBusyMs(): number;
}

const processClock: MachineClock = {
  now: () => performance.now(),
  loopBusyMs: () => performance.eventLoopUtilization().active,
};

/** Weight of the newest execution in the average cost: about the last 16 count. */
const COST_WEIGHT = 1 / 16;

interface BusyExecution {
  startedAt: number;
  /** `sharedMs` and the loop's busy time when it began. */
  sharedAt: number;
  loopBusyAt: number;
}

export class ConcurrencyLimit {
  /** The busy executions, oldest first (a Map keeps insertion order). */
  private readonly busy = new Map<number, BusyExecution>();
  private nextToken = 0;
  /** Executions times milliseconds: the integral of the busy count over time, up to `countedTo`. */
  private sharedMs = 0;
  private countedTo: number;
  /** Average loop time one execution costs, once one has finished. */
  private costMs: number | undefined;

  constructor(
    private readonly options: ConcurrencyOptions,
    private readonly clock: MachineClock = processClock,
  ) {
    this.countedTo = clock.now();
  }

  /**
   * Takes one execution: a token to give back, or why the invocation is throttled. `guarded`:
   * subject to the local guard as well as to the limit.
   */
  take(guarded: boolean): { token: number } | { throttled: string } {
    const { limit } = this.options;
    const now = this.clock.now();
    if (this.busy.size >= limit) {
      return { throttled: `TooManyRequestsException (ConcurrentInvocationLimitExceeded, limit ${limit})` };
    }
    const behind = guarded ? this.behind(now) : undefined;
    if (behind) return { throttled: `this machine is behind (${behind}); Lambda would not throttle here` };
    this.count(now);
    const token = this.nextToken++;
    this.busy.set(token, { startedAt: now, sharedAt: this.sharedMs, loopBusyAt: this.clock.loopBusyMs() });
    return { token };
  }

  give(token: number): void {
    const execution = this.busy.get(token);
    if (!execution) return;
    const now = this.clock.now();
    this.count(now);
    this.busy.delete(token);
    // The loop's busy time while it ran, divided by how many ran with it on average.
    const ranMs = now - execution.startedAt;
    const sharedBy = ranMs > 0 ? (this.sharedMs - execution.sharedAt) / ranMs : 1;
    const cost = (this.clock.loopBusyMs() - execution.loopBusyAt) / Math.max(1, sharedBy);
    this.costMs = this.costMs === undefined ? cost : this.costMs + (cost - this.costMs) * COST_WEIGHT;
  }

  /** Why this machine is behind, or `undefined`. */
  private behind(now: number): string | undefined {
    const { behindAfterMs, behindAtBusy } = this.options;
    const busy = this.busy.size;
    if (busy < behindAtBusy) return undefined;
    const oldest = this.busy.values().next().value as BusyExecution;
    const oldestMs = Math.round(now - oldest.startedAt);
    if (oldestMs >= behindAfterMs) return `${busy} busy, the oldest for ${oldestMs} ms`;
    if (this.costMs === undefined) return undefined;
    const finishMs = (busy + 1) * this.costMs;
    if (finishMs < behindAfterMs) return undefined;
    return `${busy} busy at ${this.costMs.toFixed(1)} ms of work each: ${Math.round(finishMs)} ms to finish them, the oldest for ${oldestMs} ms`;
  }

  private count(now: number): void {
    this.sharedMs += this.busy.size * (now - this.countedTo);
    this.countedTo = now;
  }
}

/**
 * The local overload guard (`local/lambda/concurrency.ts`): Lambda's account limit as AWS applies
 * it, and the local-only "behind" rule, which throttles once this machine is measured not to
 * finish what it admitted in time, and never on a guess. A test clock stands for the time and the
 * event loop's busy time, so each case is exact.
 */
import test from "ava";
import { ConcurrencyLimit } from "../../../../local/lambda/concurrency";

const options = { limit: 1_000, behindAfterMs: 2_000, behindAtBusy: 20 };

/** A clock the test moves: `at` milliseconds, of which the event loop was busy `loopBusy`. */
function testClock() {
  const clock = { at: 0, loopBusy: 0, now: () => clock.at, loopBusyMs: () => clock.loopBusy };
  return clock;
}

function takeMany(limit: ConcurrencyLimit, count: number): number[] {
  return Array.from({ length: count }, () => {
    const taken = limit.take(true);
    if (!("token" in taken)) throw new Error(`throttled: ${taken.throttled}`);
    return taken.token;
  });
}

/** How many guarded invocations are admitted before the first is throttled (up to `most`), and why that one was. */
function admittedUntilThrottled(limit: ConcurrencyLimit, most: number): { admitted: number; why?: string } {
  for (let admitted = 0; admitted < most; admitted++) {
    const taken = limit.take(true);
    if ("throttled" in taken) return { admitted, why: taken.throttled };
  }
  return { admitted: most };
}

test("past the account limit every invocation is throttled, guarded or not, as Lambda does", (t) => {
  const limit = new ConcurrencyLimit({ ...options, limit: 3 }, testClock());
  takeMany(limit, 3);
  t.deepEqual(limit.take(false), {
    throttled: "TooManyRequestsException (ConcurrentInvocationLimitExceeded, limit 3)",
  });
});

test("a cold burst is admitted: 999 arriving over 1.9 s with nothing finished yet is no overload, Lambda serves it", (t) => {
  // This is a class opening one link, or every client reconnecting after a deploy: nothing has
  // finished, so nothing is measured, and executions sharing the loop all finish late together.
  const clock = testClock();
  const limit = new ConcurrencyLimit(options, clock);
  for (let i = 0; i < 999; i++) {
    clock.at = i * 1.9;
    clock.loopBusy = clock.at;
    const taken = limit.take(true);
    t.true("token" in taken, `invocation ${i + 1}: ${"throttled" in taken ? taken.throttled : ""}`);
  }
});

test("behind by age: 20 busy and the oldest has run a fifth of the timeout; $disconnect is spared", (t) => {
  const clock = testClock();
  const limit = new ConcurrencyLimit(options, clock);
  takeMany(limit, 20);
  clock.at = 1_999;
  t.true("token" in limit.take(true), "the oldest for 1,999 ms: not yet");
  clock.at = 2_000;
  t.deepEqual(limit.take(true), {
    throttled: "this machine is behind (21 busy, the oldest for 2000 ms); Lambda would not throttle here",
  });
  t.true("token" in limit.take(false), "$disconnect is spared the guard");
});

test("behind by measured cost: at 5 ms of loop time each, 400 busy would take 2 s; once they finish, admitted again", (t) => {
  const clock = testClock();
  const limit = new ConcurrencyLimit(options, clock);
  // 20 executions run together for 100 ms with the loop busy throughout: 5 ms of work each.
  const first = takeMany(limit, 20);
  clock.at = 100;
  clock.loopBusy = 100;
  for (const token of first) limit.give(token);

  const { admitted, why } = admittedUntilThrottled(limit, 1_000);

  t.is(admitted, 399, "the 400th would make 400 x 5 ms = 2 s of work");
  t.is(
    why,
    "this machine is behind (399 busy at 5.0 ms of work each: 2000 ms to finish them, the oldest for 0 ms); Lambda would not throttle here",
  );
  t.true("token" in limit.take(false), "$disconnect is spared the guard");
});

test("executions waiting with the loop idle cost nothing: no throttle however many wait", (t) => {
  const clock = testClock();
  const limit = new ConcurrencyLimit(options, clock);
  const waiting = takeMany(limit, 50);
  clock.at = 1_500; // the loop idle throughout: they waited on something else
  for (const token of waiting) limit.give(token);

  t.deepEqual(admittedUntilThrottled(limit, 999), { admitted: 999 });
});

test("behind, then caught up: once the busy finish, invocations are admitted at once", (t) => {
  const clock = testClock();
  const limit = new ConcurrencyLimit(options, clock);
  const first = takeMany(limit, 20);
  clock.at = 100;
  clock.loopBusy = 100;
  for (const token of first) limit.give(token);
  const busy = takeMany(limit, 399);
  t.true("throttled" in limit.take(true));

  for (const token of busy) limit.give(token);

  t.true("token" in limit.take(true), "nothing busy: admitted");
});

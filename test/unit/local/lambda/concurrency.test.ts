/**
 * The local overload guard (`local/lambda/concurrency.ts`): Lambda's account limit as AWS applies it, and
 * the local-only "behind" rule, which throttles before admitted work could run into its timeout.
 */
import test from "ava";
import { ConcurrencyLimit } from "../../../../local/lambda/concurrency";

const options = { limit: 1_000, behindAfterMs: 2_000, behindAtBusy: 20 };

function takeMany(limit: ConcurrencyLimit, count: number, now: number): number[] {
  return Array.from({ length: count }, () => {
    const taken = limit.take(true, now);
    if (!("token" in taken)) throw new Error(`throttled: ${taken.throttled}`);
    return taken.token;
  });
}

test("past the account limit every invocation is throttled, guarded or not, as Lambda does", (t) => {
  const limit = new ConcurrencyLimit({ ...options, limit: 3 });
  takeMany(limit, 3, 0);
  t.deepEqual(limit.take(false, 0), {
    throttled: "TooManyRequestsException (ConcurrentInvocationLimitExceeded, limit 3)",
  });
});

test("behind by age: 20 busy and the oldest past a fifth of the timeout", (t) => {
  const limit = new ConcurrencyLimit(options);
  const tokens = takeMany(limit, 20, 0);
  // Finishing at the pace they started keeps the rate rule quiet; the oldest's age alone trips it.
  for (const token of tokens.slice(0, 19)) limit.give(token);
  takeMany(limit, 19, 1_000);
  const taken = limit.take(true, 2_000);
  t.true("throttled" in taken && /the oldest for 2000 ms/.test(taken.throttled));
  t.true("token" in limit.take(false, 2_000), "$disconnect is spared the guard");
});

test("behind by rate: 20 busy and none finished in 100 ms would take 2 s; once they finish, admitted again", (t) => {
  const limit = new ConcurrencyLimit(options);
  const tokens = takeMany(limit, 20, 0);
  t.true("token" in limit.take(true, 99), "20 busy for 99 ms: not yet");
  const taken = limit.take(true, 150);
  t.true("throttled" in taken && /21 busy, the oldest for 150 ms, 0 finished since/.test(taken.throttled));
  for (const token of tokens) limit.give(token);
  t.true("token" in limit.take(true, 150), "one busy: admitted");
});

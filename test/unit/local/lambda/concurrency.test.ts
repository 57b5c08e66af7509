/**
 * The local overload guard (`local/lambda/concurrency.ts`): Lambda's account limit as AWS applies
 * it, and the local-only "behind" rule, which throttles once this machine is measured not to
 * finish what it admitted in time, and never on a guess. A clock the test moves stands for time,
 * so each case is exact.
 */
import test from "ava";
import { ConcurrencyLimit } from "../../../../local/lambda/concurrency";

/** The oldest's limit 3 s, so the rate's budget is 2 s. */
const options = { limit: 1_000, behindAfterMs: 3_000, behindAtBusy: 20 };

function guard(limitOptions = options) {
  const clock = { at: 0 };
  return { clock, limit: new ConcurrencyLimit(limitOptions, () => clock.at) };
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

/** 40 busy from 0 ms, then one finishing every 10 ms: 21 finish while 20 or more are busy, 100 a second. */
function measureHundredASecond({ clock, limit }: ReturnType<typeof guard>): number[] {
  const tokens = takeMany(limit, 40);
  for (const token of tokens.slice(0, 21)) {
    clock.at += 10;
    limit.give(token);
  }
  return tokens.slice(21);
}

test("past the account limit every invocation is throttled, guarded or not, as Lambda does", (t) => {
  const { limit } = guard({ ...options, limit: 3 });
  takeMany(limit, 3);
  t.deepEqual(limit.take(false), {
    throttled: "TooManyRequestsException (ConcurrentInvocationLimitExceeded, limit 3)",
  });
});

test("a burst on a fresh gateway is admitted: 999 arriving over 2.9 s with nothing finished yet, as Lambda serves it", (t) => {
  // A class opening one link, or every client reconnecting after a deploy: nothing has finished,
  // and executions sharing one event loop all finish late together, so nothing is measured yet.
  const { clock, limit } = guard();
  for (let i = 0; i < 999; i++) {
    clock.at = i * 2.9;
    const taken = limit.take(true);
    t.true("token" in taken, `invocation ${i + 1}: ${"throttled" in taken ? taken.throttled : ""}`);
  }
});

test("behind by age: 20 busy and the oldest has run the limit; $disconnect is spared", (t) => {
  const { clock, limit } = guard();
  takeMany(limit, 20);
  clock.at = 2_999;
  t.true("token" in limit.take(true), "the oldest for 2,999 ms: not yet");
  clock.at = 3_000;

  t.deepEqual(limit.take(true), {
    throttled: "this machine is behind (21 busy, the oldest for 3000 ms); Lambda would not throttle here",
  });
  t.true("token" in limit.take(false), "$disconnect is spared the guard");
});

test("behind by the measured rate: at 100 finished a second, 200 busy would take the 2 s budget", (t) => {
  const machine = guard();
  measureHundredASecond(machine);
  machine.clock.at = 250; // the rate takes in its window

  const { admitted, why } = admittedUntilThrottled(machine.limit, 1_000);

  t.is(admitted, 180, "19 were still busy: up to 199");
  t.is(
    why,
    "this machine is behind (199 busy, 100 finished a second: 2000 ms to finish them, the oldest for 250 ms); Lambda would not throttle here",
  );
  t.true("token" in machine.limit.take(false), "$disconnect is spared the guard");
});

test("a burst that finishes all at once is measured over the time it took: the next burst of that size is admitted", (t) => {
  // 100 begin together and all finish after a second, as executions sharing the loop do: 100 a
  // second, not "none finished in the first 81 ms".
  const { clock, limit } = guard();
  const first = takeMany(limit, 100);
  clock.at = 1_000;
  for (const token of first) limit.give(token);
  clock.at = 1_300;

  t.deepEqual(admittedUntilThrottled(limit, 100), { admitted: 100 });
});

test("a burst's first finishers are no rate to refuse on below 100 busy: a class of 100 gets in though two finished early", (t) => {
  // Two of 99 done in 600 ms measures 3 a second, far below what the burst will do: executions
  // sharing the loop finish late together. Only a backlog past what a class makes is refused on it.
  const { clock, limit } = guard();
  const burst = takeMany(limit, 99);
  clock.at = 300;
  for (const token of burst.slice(0, 2)) limit.give(token);
  clock.at = 600;

  t.deepEqual(admittedUntilThrottled(limit, 10), {
    admitted: 3,
    why: "this machine is behind (100 busy, 3 finished a second: 30300 ms to finish them, the oldest for 600 ms); Lambda would not throttle here",
  });
});

test("few busy teach the rate nothing: 19 slow executions, then a burst of 500 is admitted", (t) => {
  const { clock, limit } = guard();
  const slow = takeMany(limit, 19);
  clock.at = 20_000;
  for (const token of slow) limit.give(token);
  clock.at = 20_300;

  t.deepEqual(admittedUntilThrottled(limit, 500), { admitted: 500 });
});

test("behind, then caught up: once the busy finish, invocations are admitted at once", (t) => {
  const machine = guard();
  const left = measureHundredASecond(machine);
  machine.clock.at = 250;
  const busy = takeMany(machine.limit, 180);
  t.true("throttled" in machine.limit.take(true));

  for (const token of [...left, ...busy]) machine.limit.give(token);

  t.true("token" in machine.limit.take(true), "nothing busy: admitted");
});

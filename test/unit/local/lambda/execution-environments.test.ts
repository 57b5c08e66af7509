/**
 * Execution environments (`local/lambda/execution-environments.ts`) as Lambda keeps them, and the
 * local init gate: runtime processes start a few at a time, so a burst of cold starts on a small
 * machine is served a little later rather than run into the functions' timeouts. Each environment's
 * Init phase here is a promise the test settles, so every case is exact.
 */
import test from "ava";
import { ConcurrencyLimit } from "../../../../local/lambda/concurrency";
import { ExecutionEnvironments, type Handler } from "../../../../local/lambda/execution-environments";
import { InitGate } from "../../../../local/lambda/init-gate";
import { LocalFunction } from "../../../../local/lambda/lambda-function";

function environments(gate?: InitGate) {
  const inits: Array<() => void> = [];
  const pool = new ExecutionEnvironments<Handler<unknown, unknown>>(
    () => ({
      handler: async () => "ok",
      ready: new Promise<void>((resolve) => inits.push(resolve)),
    }),
    new ConcurrencyLimit({ limit: 1_000, behindAfterMs: Number.POSITIVE_INFINITY, behindAtBusy: 20 }),
    gate,
  );
  return { pool, inits };
}

async function acquire(pool: ExecutionEnvironments<Handler<unknown, unknown>>) {
  const acquired = await pool.acquire(true);
  if (!("environment" in acquired)) throw new Error(`throttled: ${acquired.throttled}`);
  return acquired;
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test("without a gate, as in Lambda: each concurrent invocation gets a new environment at once", async (t) => {
  const { pool, inits } = environments();
  const all = await Promise.all([acquire(pool), acquire(pool), acquire(pool)]);
  t.deepEqual(
    all.map((acquired) => acquired.coldStart),
    [true, true, true],
  );
  t.is(inits.length, 3);
});

test("with a gate of one: a second invocation waits while the first environment starts, then takes it warm", async (t) => {
  const { pool, inits } = environments(new InitGate(1));
  const first = await acquire(pool);
  let second: Awaited<ReturnType<typeof acquire>> | undefined;
  void acquire(pool).then((acquired) => {
    second = acquired;
  });
  await settled();
  t.is(second, undefined, "no second environment while the first is in its Init phase");
  t.is(inits.length, 1);
  inits[0]?.();
  await settled();
  t.is(second, undefined, "nor while its first invocation runs (under a second)");
  pool.release(first);
  await settled();
  t.like(second, { coldStart: false, environment: first.environment });
  t.is(inits.length, 1, "no environment more than the load needed");
});

test("with a gate of one: a first invocation that runs on lets the next environment start a second after Init", async (t) => {
  const { pool, inits } = environments(new InitGate(1));
  await acquire(pool);
  inits[0]?.();
  let second: Awaited<ReturnType<typeof acquire>> | undefined;
  void acquire(pool).then((acquired) => {
    second = acquired;
  });
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  t.like(second, { coldStart: true });
  t.is(inits.length, 2);
});

test("a gate's slots are shared: another function's cold start waits for one, and a failed init gives its slot back", async (t) => {
  const gate = new InitGate(1);
  const a = environments(gate);
  const failing = new ExecutionEnvironments<Handler<unknown, unknown>>(
    () => {
      throw new Error("cannot start");
    },
    new ConcurrencyLimit({ limit: 1_000, behindAfterMs: Number.POSITIVE_INFINITY, behindAtBusy: 20 }),
    gate,
  );
  const first = await acquire(a.pool);
  let failed: unknown;
  void failing.acquire(true).catch((error: unknown) => {
    failed = error;
  });
  await settled();
  t.is(failed, undefined, "waiting for the slot");
  a.inits[0]?.();
  a.pool.release(first);
  await settled();
  t.regex(String(failed), /cannot start/);
  t.truthy(gate.tryTake(), "its slot is free again");
});

test("closing the function while an invocation waits to start an environment throttles that invocation", async (t) => {
  const { pool } = environments(new InitGate(1));
  await acquire(pool);
  const waiting = pool.acquire(true);
  await settled();
  pool.close();
  t.deepEqual(await waiting, { throttled: "the function is closing" });
});

test("a gate of zero or less still lets one environment start at a time", async (t) => {
  t.is(new InitGate(0).slots, 1);
  t.is(new InitGate(Number.NaN).slots, 1);
  t.truthy(new InitGate(0).tryTake());
});

test("an environment that never starts (its Init fails) gives its execution back: the next invocation is admitted", async (t) => {
  let starts = 0;
  const fn = new LocalFunction<unknown, unknown>(
    "flaky",
    () => {
      starts++;
      const ready = starts === 1 ? Promise.reject(new Error("spawn failed")) : Promise.resolve();
      return { handler: async () => ({ statusCode: 200 }), ready };
    },
    {
      functionTimeoutMs: 1_000,
      callerTimeoutMs: 1_000,
      // One execution in all: a leaked one would throttle every invocation after it.
      concurrency: new ConcurrencyLimit({ limit: 1, behindAfterMs: Number.POSITIVE_INFINITY, behindAtBusy: 20 }),
      track: () => {},
      initGate: new InitGate(1),
    },
  );
  await t.throwsAsync(fn.invoke({}), { message: "spawn failed" });
  const second = await fn.invoke({});
  t.like(second.outcome, { kind: "result", result: { statusCode: 200 } });
  t.is(starts, 2, "the failed environment was not reused");
});

/**
 * The local replay of Lambda's asynchronous invocation, driven through the SDK's own Lambda client
 * as the handlers drive it. Each rule is Lambda's:
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (202, the 1 MB limit, the errors),
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html (retries,
 * throttles back to the queue, event age).
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import test from "ava";
import { LocalIam } from "../../../../local/iam/local-iam";
import { AsyncInvocations, type AsyncInvokeSettings } from "../../../../local/lambda/async-invocations";
import { ConcurrencyLimit } from "../../../../local/lambda/concurrency";
import { LocalFunction } from "../../../../local/lambda/lambda-function";
import { eventually } from "../../../support/websocket";

function setup(handler: (event: unknown) => Promise<unknown>, settings: AsyncInvokeSettings, limit = 10) {
  const log: string[] = [];
  const runs: Promise<unknown>[] = [];
  const concurrency = new ConcurrencyLimit({ limit, behindAfterMs: Number.POSITIVE_INFINITY, behindAtBusy: 20 });
  const iam = new LocalIam("us-east-1");
  const invocations = new AsyncInvocations({
    iam,
    log: (line) => log.push(line),
    track: (run) => runs.push(run),
    retryDelaysMs: { error: [50, 100], throttledFirst: 20 },
  });
  const fn = new LocalFunction("worker", () => handler, {
    functionTimeoutMs: 1000,
    callerTimeoutMs: 1000,
    concurrency,
    track: (run) => runs.push(run),
  });
  invocations.register("worker", fn, settings);
  const client = new LambdaClient({
    region: "us-east-1",
    credentials: iam.operator.credentials,
    requestHandler: invocations.requestHandler({ stopped: false }),
    maxAttempts: 1,
  });
  const invoke = (payload: string | Uint8Array, name = "worker", type: "Event" | "RequestResponse" = "Event") =>
    client.send(new InvokeCommand({ FunctionName: name, InvocationType: type, Payload: payload }));
  return { log, runs, invoke, invocations, concurrency };
}

test("an event is answered 202 before it runs, then runs once in its own environment", async (t) => {
  const events: unknown[] = [];
  const { invoke, log } = setup(async (event) => events.push(event), {
    maximumRetryAttempts: 0,
    maximumEventAgeSeconds: 60,
  });
  const answer = await invoke(JSON.stringify({ slice: "0.0" }));
  t.is(answer.StatusCode, 202);
  t.deepEqual(events, [], "queued, not yet run");
  await eventually(() => events.length === 1);
  t.deepEqual(events, [{ slice: "0.0" }]);
  t.regex(log[0] as string, /\) worker asynchronous status=200 [\d.]+ ms \(cold start\)$/);
});

test("a failed event is not retried with no retries set, and is with two, a minute then two apart (shortened here)", async (t) => {
  let attempts = 0;
  const failing = async () => {
    attempts++;
    throw new Error("boom");
  };
  const none = setup(failing, { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 });
  await none.invoke("{}");
  await eventually(() => none.log.some((line) => line.includes("dropped")));
  t.is(attempts, 1);
  t.regex(
    none.log.join("\n"),
    /worker asynchronous status=502 .* error: Error: boom\n.*event dropped after 1 attempt\(s\)/,
  );

  attempts = 0;
  const two = setup(failing, { maximumRetryAttempts: 2, maximumEventAgeSeconds: 60 });
  await two.invoke("{}");
  await eventually(() => two.log.some((line) => line.includes("dropped")));
  t.is(attempts, 3);
});

test("a throttled event goes back to the queue and runs once there is room; past its age it is dropped", async (t) => {
  const events: unknown[] = [];
  const { invoke, log, concurrency } = setup(async (event) => events.push(event), {
    maximumRetryAttempts: 0,
    maximumEventAgeSeconds: 1,
  });
  const held = concurrency.take(false);
  if (!("token" in held)) throw new Error("expected room");
  // The limit is 10: take them all.
  const tokens = [held.token];
  for (let i = 1; i < 10; i++) tokens.push((concurrency.take(false) as { token: number }).token);
  await invoke('{"n":1}');
  await eventually(() => log.filter((line) => line.includes("status=429")).length >= 2);
  for (const token of tokens) concurrency.give(token);
  await eventually(() => events.length === 1);
  t.deepEqual(events, [{ n: 1 }]);

  for (let i = 0; i < 10; i++) tokens[i] = (concurrency.take(false) as { token: number }).token;
  await invoke('{"n":2}');
  await eventually(() => log.some((line) => line.includes("older than 1 s")), 5000);
  t.is(events.length, 1);
});

test("Lambda's refusals: an unknown function, a payload over 1 MB, a body that is not JSON, another invocation type", async (t) => {
  const { invoke } = setup(async () => undefined, { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 });
  await t.throwsAsync(invoke("{}", "nobody"), {
    name: "ResourceNotFoundException",
    message: /Function not found: nobody/,
  });
  await t.throwsAsync(invoke(JSON.stringify({ data: "x".repeat(1024 * 1024) })), {
    name: "RequestEntityTooLargeException",
  });
  await t.throwsAsync(invoke("not json"), { name: "InvalidRequestContentException" });
  await t.throwsAsync(invoke("{}", "worker", "RequestResponse"), { name: "InvalidParameterValueException" });
});

test("closing drops the events waiting for another attempt", async (t) => {
  const { invoke, log, invocations, runs } = setup(
    async () => {
      throw new Error("boom");
    },
    { maximumRetryAttempts: 2, maximumEventAgeSeconds: 3600 },
  );
  await invoke("{}");
  await eventually(() => log.some((line) => line.includes("status=502")));
  invocations.close();
  await Promise.all(runs);
  t.regex(log.at(-1) as string, /event dropped: the gateway is closing/);
});

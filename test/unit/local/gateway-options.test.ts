/**
 * The defaults the local gateway starts with, by value: every test elsewhere sets its own, so
 * these are the behaviour table of docs/local-gateway.md, pinned. API Gateway's quotas
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html): 10 min idle, 2 h at
 * most, 128 KB messages of 32 KB frames, a 29 s integration timeout, 500 new connections a second
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html),
 * and a client buffer of 1 MiB, this gateway's choice; Lambda's asynchronous invocation
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):
 * a failed event retried a minute then two minutes later, a throttled one from 1 s on, doubling.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import test from "ava";
import sinon from "sinon";
import { API_GATEWAY_LIMITS } from "../../../local/gateway-options";
import { LocalIam } from "../../../local/iam/local-iam";
import { AsyncInvocations } from "../../../local/lambda/async-invocations";
import { ConcurrencyLimit } from "../../../local/lambda/concurrency";
import { LocalFunction } from "../../../local/lambda/lambda-function";
import { deferred } from "../../support/function-fixtures";

test("the gateway's limits are AWS's: 10 min idle, 2 h, 128 KB and 32 KB, 10 s and 29 s, 500 connections a second, 1,000 executions; TTL swept each minute", (t) => {
  t.deepEqual(API_GATEWAY_LIMITS, {
    maxMessageBytes: 128 * 1024,
    maxFrameBytes: 32 * 1024,
    idleTimeoutMs: 10 * 60 * 1000,
    maxConnectionMs: 2 * 60 * 60 * 1000,
    functionTimeoutMs: 10_000,
    integrationTimeoutMs: 29_000,
    managementMaxPayloadBytes: 128 * 1024,
    newConnectionsPerSecond: 500,
    maxClientBufferBytes: 1024 * 1024,
    concurrentExecutions: 1_000,
    behindAfterMs: 5_000,
    ttlSweepMs: 60_000,
    leaseRenewMs: 10_000,
  });
});

/** The queue with its own default waits, on a clock the test moves; each attempt's time from the log. */
function queue(t: { teardown(fn: () => void): void }) {
  const clock = sinon.useFakeTimers({ now: 0 });
  t.teardown(() => clock.restore());
  const log: string[] = [];
  const concurrency = new ConcurrencyLimit({ limit: 1, behindAfterMs: Number.POSITIVE_INFINITY, behindAtBusy: 20 });
  const iam = new LocalIam("us-east-1");
  const invocations = new AsyncInvocations({ iam, log: (line) => log.push(line), track: () => {} });
  const functions = { functionTimeoutMs: 600_000, callerTimeoutMs: 600_000, concurrency, track: () => {} };
  const client = new LambdaClient({
    region: "us-east-1",
    credentials: iam.operator.credentials,
    requestHandler: invocations.requestHandler({ stopped: false }),
    maxAttempts: 1,
  });
  const send = () => client.send(new InvokeCommand({ FunctionName: "worker", InvocationType: "Event", Payload: "{}" }));
  const attemptsAt = () =>
    log.filter((line) => / worker asynchronous status=/.test(line)).map((line) => Date.parse(line.slice(0, 24)));
  return { clock, log, invocations, functions, send, attemptsAt };
}

test("a failed event is tried again a minute, then two minutes later; a throttled one from 1 s on, doubling", async (t) => {
  // A function that always fails, retried twice as the worker's settings would allow.
  const failing = queue(t);
  const worker = new LocalFunction("worker", () => async () => Promise.reject(new Error("boom")), failing.functions);
  failing.invocations.register("worker", worker as LocalFunction<unknown, unknown>, {
    maximumRetryAttempts: 2,
    maximumEventAgeSeconds: 21_600,
  });
  await failing.send();
  await failing.clock.tickAsync(200_000);
  t.deepEqual(failing.attemptsAt(), [0, 60_000, 180_000]);
  t.true(failing.log.some((line) => line.endsWith("asynchronous event dropped after 3 attempt(s)")));
  failing.clock.restore();

  // One execution, held by another function: the event is throttled until it is given back.
  const throttled = queue(t);
  const held = deferred();
  const holder = new LocalFunction("holder", () => () => held.promise, throttled.functions);
  const work = new LocalFunction("worker", () => async () => "done", throttled.functions);
  throttled.invocations.register("worker", work as LocalFunction<unknown, unknown>, {
    maximumRetryAttempts: 0,
    maximumEventAgeSeconds: 21_600,
  });
  const holding = holder.invoke({});
  await throttled.send();
  await throttled.clock.tickAsync(8_000);
  held.resolve();
  await holding;
  await throttled.clock.tickAsync(10_000);
  t.deepEqual(throttled.attemptsAt(), [0, 1_000, 3_000, 7_000, 15_000]);
  t.regex(throttled.log.at(-1) as string, / worker asynchronous status=200 /);
});

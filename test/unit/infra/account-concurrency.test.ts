/**
 * The stack's `lambdaConcurrency` against the account's quota, as the deploy checks it
 * (`infra/account-concurrency.ts`; the quota read from Service Quotas is tested with the stack, in
 * `chat-api.test.ts`, where sendmessage gets it).
 */
import test from "ava";
import { CONCURRENT_EXECUTIONS_QUOTA, checkAccountConcurrency } from "../../../infra/account-concurrency";

test("a setting within the account's quota is what the functions get", (t) => {
  t.is(checkAccountConcurrency(1000, 1000, "us-east-1"), 1000);
  t.is(checkAccountConcurrency(10, 1000, "us-east-1"), 10);
});

test("a new account's quota below the setting stops the deploy, saying what to set", (t) => {
  const error = t.throws(() => checkAccountConcurrency(1000, 10, "eu-west-1"));
  t.is(
    error?.message,
    "lambdaConcurrency is 1000, but this account runs at most 10 Lambda executions at once in eu-west-1 " +
      "(Service Quotas L-B99A9384): set lambdaConcurrency to 10, so that a large room's fan-out fits, or ask AWS to raise the quota",
  );
});

test("the quota read is Lambda's Concurrent executions", (t) => {
  t.deepEqual(CONCURRENT_EXECUTIONS_QUOTA, { serviceCode: "lambda", quotaCode: "L-B99A9384" });
});

import test from "ava";
import { ConfigError } from "../../functions/config";
import { readLocalConfig } from "../../local/config";

test("LAMBDA_CONCURRENCY sets the local concurrency limit; unset keeps Lambda's default", (t) => {
  t.deepEqual(readLocalConfig({ LAMBDA_CONCURRENCY: " 50 " }).limits, { concurrentExecutions: 50 });
  t.is(readLocalConfig({}).limits, undefined);
  t.is(readLocalConfig({ LAMBDA_CONCURRENCY: "" }).limits, undefined);
});

for (const value of ["0", "-1", "ten", "1.5", "1e3", "9999999"]) {
  test(`LAMBDA_CONCURRENCY=${value} is refused with an error naming the variable`, (t) => {
    const error = t.throws(() => readLocalConfig({ LAMBDA_CONCURRENCY: value }), { instanceOf: ConfigError });
    t.regex(error?.message ?? "", /^LAMBDA_CONCURRENCY must be a whole number from 1/);
  });
}

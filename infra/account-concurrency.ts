/**
 * The account's concurrent Lambda executions, as the stack says (`lambdaConcurrency`, default
 * 1,000, AWS's default quota), checked at deploy against the quota the account really has: "New
 * AWS accounts have reduced concurrency and memory quotas" (Lambda's quotas page), 10 or 50 where
 * reported, and a fan-out sized for 1,000 would have most of its slices throttled and dropped there.
 * The functions that fan out get it as `ACCOUNT_CONCURRENCY` and size a message's slices by it.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** Service Quotas' "Concurrent executions" of Lambda (deploying reads it: `servicequotas:GetServiceQuota`). */
export const CONCURRENT_EXECUTIONS_QUOTA = { serviceCode: "lambda", quotaCode: "L-B99A9384" } as const;

/** The stack's setting if the account's quota allows it; else why not, and what to do. */
export function checkAccountConcurrency(setting: number, quota: number, region: string): number {
  if (setting > quota) {
    throw new Error(
      `lambdaConcurrency is ${setting}, but this account runs at most ${quota} Lambda executions at once in ` +
        `${region} (Service Quotas ${CONCURRENT_EXECUTIONS_QUOTA.quotaCode}): set lambdaConcurrency to ${quota}, ` +
        "so that a large room's fan-out fits, or ask AWS to raise the quota",
    );
  }
  return setting;
}

/** `setting`, once the account's quota is read and found to allow it: what `ACCOUNT_CONCURRENCY` holds. */
export function checkedAccountConcurrency(parent: pulumi.Resource, setting: number): pulumi.Output<string> {
  const quota = aws.servicequotas.getServiceQuotaOutput(CONCURRENT_EXECUTIONS_QUOTA, { parent });
  return quota.apply(({ value, region }) => String(checkAccountConcurrency(setting, value, region)));
}

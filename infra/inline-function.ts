import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface InlineFunctionArgs<E, R> {
  /** The function's physical name; its log group is `/aws/lambda/{functionName}`. */
  functionName: string;
  description: string;
  /** Runs once per cold start and returns the handler; serialized with what it captures. */
  callbackFactory: aws.lambda.CallbackFactory<E, R>;
  memorySize: number;
  timeoutSeconds: number;
  /** Days CloudWatch keeps the function's logs. */
  logRetentionDays: number;
  environment: Record<string, pulumi.Input<string>>;
  /** What the function may do besides writing its own logs: IAM statements, each with a Sid. */
  statements: object[];
}

/**
 * Packages in `dependencies` for the deploy alone: Pulumi loads this program through tsx, so a
 * production install (`npm ci --omit=dev`) must have it, but no function runs it. Left out of
 * every archive, with what only they pull in (esbuild, about 12 MB).
 */
export const DEPLOY_ONLY_PACKAGES = ["tsx"] as const;

/** A function written inline, with a log group and a role of its own. */
export interface InlineFunction<E, R> {
  logGroup: aws.cloudwatch.LogGroup;
  role: aws.iam.Role;
  rolePolicy: aws.iam.RolePolicy;
  function: aws.lambda.CallbackFunction<E, R>;
}

/**
 * The resources of one inline Lambda function, children of `parent`: its log group (made first,
 * under the name Lambda writes to, so logs expire instead of piling up forever), a role only it
 * assumes (so it never falls back to CallbackFunction's broad managed policies), a policy of
 * exactly `statements` and its own logs, and the function.
 */
export function createInlineFunction<E, R>(
  parent: pulumi.Resource,
  name: string,
  args: InlineFunctionArgs<E, R>,
): InlineFunction<E, R> {
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays },
    { parent },
  );
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    },
    { parent },
  );
  const statements = [
    {
      Sid: "WriteOwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: pulumi.interpolate`${logGroup.arn}:*`,
    },
    ...args.statements,
  ];
  const rolePolicy = new aws.iam.RolePolicy(
    `${name}-policy`,
    { role: role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
    { parent },
  );
  const fn = new aws.lambda.CallbackFunction<E, R>(
    `${name}-function`,
    {
      name: args.functionName,
      description: args.description,
      callbackFactory: args.callbackFactory,
      // CallbackFunction adds `aws-sdk` (v2, which the runtime has) to these itself.
      codePathOptions: { extraExcludePackages: [...DEPLOY_ONLY_PACKAGES] },
      runtime: aws.lambda.Runtime.NodeJS24dX,
      role,
      memorySize: args.memorySize,
      timeout: args.timeoutSeconds,
      environment: { variables: args.environment },
    },
    { parent, dependsOn: [logGroup, rolePolicy] },
  );
  return { logGroup, role, rolePolicy, function: fn };
}

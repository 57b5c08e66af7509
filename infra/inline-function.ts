/**
 * A Lambda function written inline (`aws.lambda.CallbackFunction`) as every function of the stack is
 * made: its role with exactly the statements given, its log group, level and format, its settings.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BUNDLE_ENVIRONMENT, BUNDLE_HANDLER, bundleFunction } from "./function-bundle";

/**
 * The functions' log levels (`loggingConfig.applicationLogLevel`), up to INFO: Lambda gives a
 * JSON line without a `level`, such as a metrics line, the level INFO, so WARN or above would drop
 * the metrics. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
 */
export const LOG_LEVELS = ["TRACE", "DEBUG", "INFO"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const ARCHITECTURES = ["arm64", "x86_64"] as const;

/** What every function of a stack shares. */
export interface FunctionDefaults {
  /** Days CloudWatch keeps each function's logs. */
  logRetentionDays: number;
  /** The lowest level of the functions' own log lines that reaches CloudWatch. */
  logLevel: LogLevel;
  /** arm64 (Graviton) costs about 20% less per GB-second than x86_64. */
  architecture: (typeof ARCHITECTURES)[number];
  /** Names the stack in every log line and metric (`service`). */
  serviceName: string;
}

/** The metrics' CloudWatch namespace (`functions/broadcast/broadcast-metrics.ts` writes them). */
export const METRICS_NAMESPACE = "WebSocketChat";

interface InlineFunctionArgs<E, R> {
  /** The function's physical name; its log group is `/aws/lambda/{functionName}`. */
  functionName: string;
  description: string;
  /** Runs once per cold start and returns the handler; serialized with what it captures. */
  callbackFactory: aws.lambda.CallbackFactory<E, R>;
  memorySize: number;
  timeoutSeconds: number;
  defaults: FunctionDefaults;
  environment: Record<string, pulumi.Input<string>>;
  /** What the function may do besides writing its own logs: IAM statements, each with a Sid. */
  statements: object[];
  /** Concurrent executions set aside for the function, and its most: a public endpoint's bound. */
  reservedConcurrency?: number;
}

/** A function written inline, with a log group and a role of its own. */
export interface InlineFunction {
  logGroup: aws.cloudwatch.LogGroup;
  role: aws.iam.Role;
  rolePolicy: aws.iam.RolePolicy;
  function: aws.lambda.Function;
}

/**
 * The resources of one inline Lambda function, children of `parent`: its log group (made first,
 * under the name Lambda writes to, so logs expire instead of piling up forever), a role only it
 * assumes, a policy of exactly `statements` and its own logs, and the function: the callback
 * factory as Pulumi serializes it, bundled (`./function-bundle.ts`).
 */
export function createInlineFunction<E, R>(
  parent: pulumi.Resource,
  name: string,
  args: InlineFunctionArgs<E, R>,
): InlineFunction {
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.defaults.logRetentionDays },
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
  const fn = new aws.lambda.Function(
    `${name}-function`,
    {
      name: args.functionName,
      description: args.description,
      code: new pulumi.asset.AssetArchive(
        bundleFunction(args.callbackFactory).then((bundle) => ({
          "__index.js": new pulumi.asset.StringAsset(bundle.code),
          "__index.js.map": new pulumi.asset.StringAsset(bundle.sourceMap),
        })),
      ),
      handler: BUNDLE_HANDLER,
      runtime: aws.lambda.Runtime.NodeJS24dX,
      role: role.arn,
      memorySize: args.memorySize,
      timeout: args.timeoutSeconds,
      architectures: [args.defaults.architecture],
      ...(args.reservedConcurrency !== undefined && { reservedConcurrentExecutions: args.reservedConcurrency }),
      // JSON lines, filtered by level in Lambda: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
      loggingConfig: {
        logFormat: "JSON",
        logGroup: logGroup.name,
        applicationLogLevel: args.defaults.logLevel,
        // INFO keeps the platform's REPORT line: duration, billed duration, memory used.
        systemLogLevel: "INFO",
      },
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: args.defaults.serviceName,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          ...BUNDLE_ENVIRONMENT,
          ...args.environment,
        },
      },
    },
    { parent, dependsOn: [logGroup, rolePolicy] },
  );
  return { logGroup, role, rolePolicy, function: fn };
}

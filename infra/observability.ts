/**
 * What watches a ChatApi: the stage's access log and, when asked, the alarms. Metric names and
 * dimensions are AWS's own:
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html (Errors, Throttles,
 * AsyncEventsDropped)
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-logging.html
 * (ExecutionError by ApiId and Stage; the access log's $context variables)
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
 * (ReadThrottleEvents, WriteThrottleEvents by TableName, and GlobalSecondaryIndexName)
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { BROADCAST_METRICS } from "../functions/broadcast/broadcast-metrics";
import { ROOM_INDEX } from "../functions/chat/room";
import { METRICS_NAMESPACE } from "./inline-function";

/** One JSON line per connect, message and disconnect, with what API Gateway's execution logs say of it. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  connectionId: "$context.connectionId",
  eventType: "$context.eventType",
  routeKey: "$context.routeKey",
  status: "$context.status",
  requestTime: "$context.requestTimeEpoch",
  integrationLatency: "$context.integrationLatency",
  error: "$context.error.message",
  sourceIp: "$context.identity.sourceIp",
  principalId: "$context.authorizer.principalId",
});

/**
 * The stage's access log group, and with `accountRole` the role API Gateway writes every API's
 * logs in this account and region with (`AWS::ApiGateway::Account`, one per region): without one,
 * a stage with access logs fails with "CloudWatch Logs role ARN must be set in account settings".
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
 * The setting, its role and the role's policy outlive `pulumi destroy` (retained): they serve
 * every API of the account and region, and the provider (Terraform's v6, @pulumi/aws 7) resets the
 * setting when its resource is destroyed, which would end every other API's logging there.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-account.html
 */
export function createAccessLog(
  parent: pulumi.Resource,
  name: string,
  args: { logGroupName: pulumi.Input<string>; logRetentionDays: number; accountRole: boolean },
): { logGroup: aws.cloudwatch.LogGroup; account?: aws.apigateway.Account } {
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-access-logs`,
    { name: args.logGroupName, retentionInDays: args.logRetentionDays },
    { parent },
  );
  if (!args.accountRole) return { logGroup };
  const role = new aws.iam.Role(
    `${name}-apigateway-logs-role`,
    {
      description: "API Gateway writes this account's API logs to CloudWatch Logs with this role",
      // API Gateway acting for this account alone (the confused-deputy guard of IAM's user guide).
      assumeRolePolicy: aws.getCallerIdentityOutput({}, { parent }).accountId.apply((account) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "apigateway.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": account } },
            },
          ],
        }),
      ),
    },
    { parent, retainOnDelete: true },
  );
  // What the managed AmazonAPIGatewayPushToCloudWatchLogs grants to write logs, inline like every
  // role here, without its reads (GetLogEvents, FilterLogEvents): API Gateway writes, nothing reads.
  const policy = new aws.iam.RolePolicy(
    `${name}-apigateway-logs-policy`,
    {
      role: role.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "PushApiLogs",
            Effect: "Allow",
            Action: [
              "logs:CreateLogGroup",
              "logs:CreateLogStream",
              "logs:DescribeLogGroups",
              "logs:DescribeLogStreams",
              "logs:PutLogEvents",
            ],
            Resource: "*",
          },
        ],
      }),
    },
    { parent, retainOnDelete: true },
  );
  const account = new aws.apigateway.Account(
    `${name}-apigateway-account`,
    { cloudwatchRoleArn: role.arn },
    { parent, dependsOn: [policy], retainOnDelete: true },
  );
  return { logGroup, account };
}

/** A function the alarms watch. */
export interface WatchedFunction {
  /** A short id: its route's name, `broadcast`, `authorizer`, `token`. */
  id: string;
  /** Its physical name. */
  name: pulumi.Input<string>;
  /**
   * For a function that throws on purpose (the authorizer's `Unauthorized`, a refusal API Gateway
   * turns into 401, counted in Lambda's `Errors` like a failure): its failures counted from its
   * log instead, the ERROR lines but those of its answer.
   */
  failuresFromLog?: { logGroupName: pulumi.Input<string>; answer: string };
  /** Invoked asynchronously: events Lambda drops (throttled past their age, or failed) page too. */
  asynchronous?: boolean;
}

interface AlarmTargets {
  functions: WatchedFunction[];
  apiId: pulumi.Input<string>;
  stageName: string;
  tableNames: { connections: pulumi.Input<string>; messages: pulumi.Input<string> };
  /** The `service` dimension of the broadcast metrics: the stack's service name. */
  serviceName: string;
  /** Who is mailed when an alarm fires or clears (a subscription they must confirm). */
  email?: string;
}

/**
 * An SNS topic, and an alarm on it for each way the chat fails by a fault of ours or a limit we
 * reached: a function's errors or throttles (the authorizer's real failures only), a large room's
 * events Lambda dropped, API Gateway failing to run a route, DynamoDB throttling, broadcast posts
 * or hand-offs that failed. Not what clients cause: a refused token, the 400 or 429 a handler
 * answers on purpose (API Gateway's `IntegrationError` counts those with its 5XX alike, so it
 * pages no one; each function's `Errors` says the same of our faults). Each fires on any
 * occurrence in five minutes and clears on a quiet one.
 */
export function createAlarms(
  parent: pulumi.Resource,
  name: string,
  targets: AlarmTargets,
): { topic: aws.sns.Topic; alarms: aws.cloudwatch.MetricAlarm[] } {
  const topic = new aws.sns.Topic(`${name}-alarms`, {}, { parent });
  if (targets.email) {
    new aws.sns.TopicSubscription(
      `${name}-alarms-email`,
      { topic: topic.arn, protocol: "email", endpoint: targets.email },
      { parent },
    );
  }
  const alarms: aws.cloudwatch.MetricAlarm[] = [];
  const alarm = (id: string, description: string, metric: Metric) =>
    alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-${id}`,
        {
          alarmDescription: description,
          namespace: metric.namespace,
          metricName: metric.name,
          dimensions: metric.dimensions,
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          threshold: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          treatMissingData: "notBreaching",
          alarmActions: [topic.arn],
          okActions: [topic.arn],
        },
        { parent },
      ),
    );
  for (const fn of targets.functions) {
    const dimensions = { FunctionName: fn.name };
    if (fn.failuresFromLog) {
      alarm(`${fn.id}-failures`, `${fn.id} failed (its refusals aside)`, failureMetric(parent, name, fn, targets));
    } else {
      alarm(`${fn.id}-errors`, `${fn.id} failed`, { namespace: "AWS/Lambda", name: "Errors", dimensions });
    }
    alarm(`${fn.id}-throttles`, `${fn.id} was throttled`, { namespace: "AWS/Lambda", name: "Throttles", dimensions });
    if (fn.asynchronous) {
      alarm(`${fn.id}-dropped`, `Lambda dropped ${fn.id} events (throttled past their age): members missed messages`, {
        namespace: "AWS/Lambda",
        name: "AsyncEventsDropped",
        dimensions,
      });
    }
  }
  const stage = { ApiId: targets.apiId, Stage: targets.stageName };
  alarm("execution-errors", "API Gateway failed to run a route", {
    namespace: "AWS/ApiGateway",
    name: "ExecutionError",
    dimensions: stage,
  });
  const dynamodb = [
    ["connections", { TableName: targets.tableNames.connections }],
    ["room-index", { TableName: targets.tableNames.connections, GlobalSecondaryIndexName: ROOM_INDEX }],
    ["messages", { TableName: targets.tableNames.messages }],
  ] as const;
  for (const [id, dimensions] of dynamodb) {
    for (const kind of ["Read", "Write"]) {
      alarm(`${id}-${kind.toLowerCase()}-throttles`, `DynamoDB throttled ${kind.toLowerCase()}s of ${id}`, {
        namespace: "AWS/DynamoDB",
        name: `${kind}ThrottleEvents`,
        dimensions,
      });
    }
  }
  const service = { service: targets.serviceName };
  alarm("broadcast-failures", "Posts of a broadcast failed (not gone: refused or timed out)", {
    namespace: METRICS_NAMESPACE,
    name: BROADCAST_METRICS.failed,
    dimensions: service,
  });
  alarm("broadcast-hand-offs", "Lambda refused a large room's broadcast slice: its members missed a message", {
    namespace: METRICS_NAMESPACE,
    name: BROADCAST_METRICS.handOffsFailed,
    dimensions: service,
  });
  return { topic, alarms };
}

interface Metric {
  namespace: string;
  name: string;
  dimensions?: Record<string, pulumi.Input<string>>;
}

/**
 * A metric of `fn`'s failures from its JSON log: each ERROR line but the runtime's report of its
 * answer (`Invoke Error` with `errorMessage` the answer; the handler logs no ERROR for it).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
function failureMetric(parent: pulumi.Resource, name: string, fn: WatchedFunction, targets: AlarmTargets): Metric {
  const { logGroupName, answer } = fn.failuresFromLog as NonNullable<WatchedFunction["failuresFromLog"]>;
  const pascal = `${fn.id.charAt(0).toUpperCase()}${fn.id.slice(1)}`;
  const metric = { namespace: `${METRICS_NAMESPACE}/${targets.serviceName}`, name: `${pascal}Failures` };
  new aws.cloudwatch.LogMetricFilter(
    `${name}-${fn.id}-failures`,
    {
      logGroupName,
      pattern: `{ ($.level = "ERROR") && ($.errorMessage != "${answer}") }`,
      metricTransformation: { namespace: metric.namespace, name: metric.name, value: "1" },
    },
    { parent },
  );
  return metric;
}

/**
 * The deployed functions' logs: JSON lines through Powertools' Logger, each carrying the route,
 * the connection and API Gateway's request id (`../broadcast/broadcast-metrics.ts` has the metrics). Lambda's
 * JSON log format passes a line that is JSON already as it is, and filters it by its `level`:
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
 * The local gateway keeps the console, and its one line per invocation.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { LambdaContext } from "./lambda-events";

/** Where a handler's warnings and errors go. */
export type HandlerLogger = Pick<Console, "info" | "warn" | "error">;

/**
 * A deployed function's logger, made once per cold start: its service name from
 * `POWERTOOLS_SERVICE_NAME`, its level from Lambda's (`AWS_LAMBDA_LOG_LEVEL`).
 */
export function cloudLogger(): Logger {
  return new Logger();
}

/**
 * The handler Lambda calls: each line logged during an invocation carries the route, and, from
 * the event, the connection and API Gateway's request id (Lambda's own id is `function_request_id`);
 * a failure is logged with its stack before Lambda reports it. An error `isAnswer` accepts is the
 * function's answer, not a failure (the authorizer's `Unauthorized`, which API Gateway turns into a
 * 401): thrown on without an ERROR line, which the alarms count.
 */
export function lambdaHandler<E, R>(
  route: string,
  logger: Logger,
  handler: (event: E) => Promise<R>,
  isAnswer: (error: unknown) => boolean = () => false,
): (event: E, context?: LambdaContext) => Promise<R> {
  return async (event, context) => {
    logger.resetKeys();
    // biome-ignore lint/suspicious/noExplicitAny: Powertools types the context as aws-lambda's.
    if (context) logger.addContext(context as any);
    logger.appendKeys({ route, ...invocationKeys(event) });
    try {
      return await handler(event);
    } catch (error) {
      if (!isAnswer(error)) logger.error("invocation failed", { error });
      throw error;
    }
  };
}

/** The connection and request an event is about: WebSocket and authorizer events, function URLs, jobs. */
function invocationKeys(event: unknown): Record<string, string> {
  const keys: Record<string, string> = {};
  const context = (event as { requestContext?: Record<string, unknown> } | null)?.requestContext;
  if (typeof context?.connectionId === "string") keys.connectionId = context.connectionId;
  if (typeof context?.requestId === "string") keys.requestId = context.requestId;
  const job = event as { frame?: { id?: unknown }; slice?: unknown } | null;
  if (typeof job?.frame?.id === "string") keys.messageId = job.frame.id;
  if (typeof job?.slice === "string") keys.slice = job.slice;
  return keys;
}

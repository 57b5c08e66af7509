/**
 * Runs a handler the way Lambda behind API Gateway does: a Lambda-like context, the function's
 * timeout (the invocation fails, like a Lambda timeout) and API Gateway's integration timeout
 * (29 s: the caller gets "Endpoint request timed out" even if the function keeps running).
 */
import { randomUUID } from "node:crypto";
import type { LambdaContext, WebSocketResult } from "../../functions/runtime/lambda-events";
import type { ExecutionEnvironment, Handler } from "./execution-environments";

export type InvocationOutcome<R = WebSocketResult> =
  | { kind: "result"; result: R }
  | { kind: "error"; error: unknown }
  | { kind: "function-timeout" }
  | { kind: "integration-timeout" }
  /** Lambda refused the invocation: the concurrency limit is reached (429 TooManyRequestsException). */
  | { kind: "throttled"; reason: string };

interface InvokeOptions {
  functionName: string;
  functionTimeoutMs: number;
  integrationTimeoutMs: number;
  /**
   * Receives the handler's own run, which outlives a timeout: Lambda would stop the function,
   * but here it goes on, and a server shutting down must wait for it.
   */
  onRun?: (run: Promise<unknown>) => void;
}

/** Runs `event` in `environment`; past the function timeout the environment is stopped. */
export async function invokeHandler<E, R>(
  environment: ExecutionEnvironment<Handler<E, R>>,
  event: E,
  options: InvokeOptions,
): Promise<InvocationOutcome<R>> {
  const deadline = Date.now() + options.functionTimeoutMs;
  const context: LambdaContext = {
    awsRequestId: randomUUID(),
    functionName: options.functionName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number, outcome: InvocationOutcome<R>) =>
    new Promise<InvocationOutcome<R>>((resolve) =>
      timers.push(
        setTimeout(() => {
          // Stopped now, not when the caller hears of it: the handler may still be calling out.
          if (outcome.kind === "function-timeout") environment.stopped = true;
          resolve(outcome);
        }, ms),
      ),
    );
  try {
    // A handler that throws before its first await still fails as an invocation, not here.
    const run = Promise.resolve()
      .then(() => environment.handler(event, context))
      .then(
        (result): InvocationOutcome<R> => ({ kind: "result", result }),
        (error: unknown): InvocationOutcome<R> => ({ kind: "error", error }),
      );
    options.onRun?.(run);
    return await Promise.race([
      run,
      after(options.functionTimeoutMs, { kind: "function-timeout" }),
      after(options.integrationTimeoutMs, { kind: "integration-timeout" }),
    ]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

/**
 * The HTTP-like status an outcome stands for, for the execution log. A rejected invocation
 * (throttled) is 500 and a failed function 502, as API Gateway answers them: "If the Lambda API
 * rejects the invocation request, API Gateway returns a 500 error code. If the function runs but
 * returns an error [...] API Gateway returns a 502."
 * https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html
 */
export function outcomeStatus(outcome: InvocationOutcome): number {
  switch (outcome.kind) {
    case "result":
      return outcome.result.statusCode;
    case "throttled":
      return 500;
    case "error":
    case "function-timeout":
      return 502;
    case "integration-timeout":
      return 504;
  }
}

/** What the execution log adds to an invocation's line when it did not return a result. */
export function failureNote(outcome: InvocationOutcome<unknown>): string | undefined {
  switch (outcome.kind) {
    case "result":
      return undefined;
    case "error": {
      const { error } = outcome;
      return `error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    case "throttled":
      return `throttled: ${outcome.reason}`;
    default:
      return outcome.kind;
  }
}

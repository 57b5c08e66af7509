/**
 * Lambda's asynchronous invocation, replayed for the functions that handlers invoke themselves
 * (the broadcast worker). The SDK's Lambda client reaches it in process: `Invoke` with
 * `InvocationType: Event` is answered 202 as soon as the event is queued, and each queued event
 * then runs in an execution environment of its function's own, with Lambda's rules:
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 * - a function error or timeout is retried `maximumRetryAttempts` times, a minute then two apart;
 * - a throttled event (no concurrency left) goes back to the queue, retried from 1 s on, doubling
 *   up to 5 minutes, until it is older than `maximumEventAgeSeconds`; then it is dropped;
 * - a payload over 1 MB is refused with 413 RequestEntityTooLargeException, an unknown function
 *   with 404 ResourceNotFoundException, a body that is not JSON with 400.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * - the caller's role must allow `lambda:InvokeFunction` on the function's ARN, else 403
 *   AccessDeniedException, `Message` "User: ... is not authorized to perform: lambda:InvokeFunction
 *   on resource: ... because no identity-based policy allows the lambda:InvokeFunction action"
 *   (captured: awslabs/aws-deployment-framework#460, danilop/LambdAuth#37); the refusal is a line
 *   of the execution log naming action and resource.
 * Each run writes one line to the execution log, as a route's invocation does.
 */
import { randomUUID } from "node:crypto";
import { executionLogLine } from "../execution-log";
import { deniedNote, LOCAL_ACCOUNT_ID, type LocalIam, notAuthorizedMessage } from "../iam/local-iam";
import { authenticate } from "../iam/sigv4";
import { type EnvironmentState, refuseIfStopped } from "./execution-environments";
import { failureNote } from "./invoke";
import type { LocalFunction } from "./lambda-function";

/** `Invoke`'s function name, from `/2015-03-31/functions/{name}/invocations`. */
function functionNameOf(path: string): string {
  const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
  return decodeURIComponent(match?.[1] ?? "");
}

/** An asynchronously invoked function's settings (`aws.lambda.FunctionEventInvokeConfig`). */
export interface AsyncInvokeSettings {
  maximumRetryAttempts: number;
  maximumEventAgeSeconds: number;
}

const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
const RETRY_DELAYS_MS = [60_000, 120_000];

interface SdkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

export class AsyncInvocations {
  private readonly functions = new Map<
    string,
    { fn: LocalFunction<unknown, unknown>; settings: AsyncInvokeSettings }
  >();
  /** Events waiting to be tried again: woken (and dropped) when the gateway closes. */
  private readonly waiting = new Set<() => void>();
  private closing = false;

  constructor(
    private readonly options: {
      /** Who signs `Invoke` calls, and what each may do; the functions' ARNs are in its region. */
      iam: LocalIam;
      log: (line: string) => void;
      /** Receives every queued event's whole course, so a closing server can wait for it. */
      track: (run: Promise<unknown>) => void;
      /** Lambda's waits between attempts (shorter in tests). */
      retryDelaysMs?: { error: readonly number[]; throttledFirst: number };
    },
  ) {}

  /** Makes `fn` invocable under `name` (its physical name, as `FunctionName` gives it). */
  register(name: string, fn: LocalFunction<unknown, unknown>, settings: AsyncInvokeSettings): void {
    this.functions.set(name, { fn, settings });
  }

  /** A request handler for the SDK's Lambda client in `environment`: refused once it is stopped. */
  requestHandler(environment: EnvironmentState) {
    return {
      metadata: { handlerProtocol: "http/1.1" },
      handle: async (request: SdkRequest) => {
        refuseIfStopped(environment);
        const { status, type, message } = (await this.refusal(request)) ?? this.accept(request);
        const body = type
          ? Buffer.from(
              JSON.stringify({ Type: "User", [type === "AccessDeniedException" ? "Message" : "message"]: message }),
            )
          : Buffer.alloc(0);
        return {
          response: {
            statusCode: status,
            headers: {
              "x-amzn-requestid": randomUUID(),
              ...(type && { "x-amzn-errortype": type, "content-type": "application/json" }),
            },
            body: new Uint8Array(body),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
      destroy() {},
    };
  }

  /**
   * Why Lambda would refuse the caller: its signature (the SDK client's, in process: its key names
   * the caller), then its role's `lambda:InvokeFunction` on the function, before the function is
   * looked up, as IAM decides on the ARN alone.
   */
  private async refusal(request: SdkRequest): Promise<{ status: number; type: string; message: string } | undefined> {
    const { iam, log } = this.options;
    const header = (name: string) => Object.entries(request.headers).find(([key]) => key.toLowerCase() === name)?.[1];
    const signed = await authenticate(
      { method: request.method, path: request.path, query: {}, header },
      { service: "lambda", region: iam.region, iam, maxSkewMinutes: 15, recompute: false },
    );
    if ("refusal" in signed) return { status: 403, ...signed.refusal };
    const action = "lambda:InvokeFunction";
    const resource = `arn:aws:lambda:${iam.region}:${LOCAL_ACCOUNT_ID}:function:${functionNameOf(request.path)}`;
    const decision = iam.decide(signed.principal, action, resource);
    if (decision === "allowed") return undefined;
    const note = deniedNote(signed.principal, action, resource);
    log(executionLogLine({ requestId: randomUUID(), what: "Lambda Invoke", status: 403, note }));
    return {
      status: 403,
      type: "AccessDeniedException",
      message: notAuthorizedMessage(signed.principal, action, resource, decision),
    };
  }

  private accept(request: SdkRequest): { status: number; type?: string; message?: string } {
    const name = functionNameOf(request.path);
    const target = this.functions.get(name);
    if (!target) return { status: 404, type: "ResourceNotFoundException", message: `Function not found: ${name}` };
    const type = Object.entries(request.headers).find(([key]) => key.toLowerCase() === "x-amz-invocation-type")?.[1];
    if (type !== "Event") {
      return {
        status: 400,
        type: "InvalidParameterValueException",
        message: `only InvocationType Event is replayed, got ${type}`,
      };
    }
    const payload = Buffer.from((request.body as Uint8Array | string | undefined) ?? "");
    if (payload.byteLength > MAX_ASYNC_PAYLOAD_BYTES) {
      return {
        status: 413,
        type: "RequestEntityTooLargeException",
        message: `Request must be smaller than ${MAX_ASYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      };
    }
    let event: unknown;
    try {
      event = JSON.parse(payload.toString("utf8") || "{}");
    } catch {
      return { status: 400, type: "InvalidRequestContentException", message: "Could not parse request body into json" };
    }
    this.options.track(this.run(name, target.fn, target.settings, event));
    return { status: 202 };
  }

  /** The event's course in Lambda's queue: attempts, waits, and the line each attempt writes. */
  private async run(
    name: string,
    fn: LocalFunction<unknown, unknown>,
    settings: AsyncInvokeSettings,
    event: unknown,
  ): Promise<void> {
    const requestId = randomUUID();
    const queuedAt = Date.now();
    const delays = this.options.retryDelaysMs ?? { error: RETRY_DELAYS_MS, throttledFirst: 1000 };
    let throttleWait = delays.throttledFirst;
    let failures = 0;
    // The queue hands the event on after the current turn, as a separate poller would.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const { outcome, ms, coldStart } = await fn.invoke(event, false);
      const status = outcome.kind === "result" ? 200 : outcome.kind === "throttled" ? 429 : 502;
      this.options.log(
        executionLogLine({
          requestId,
          what: `${name} asynchronous`,
          status,
          invocation: { ms, coldStart },
          note: failureNote(outcome),
        }),
      );
      if (outcome.kind === "result") return;
      let wait: number;
      if (outcome.kind === "throttled") {
        wait = throttleWait;
        throttleWait = Math.min(throttleWait * 2, 300_000);
      } else {
        if (failures >= settings.maximumRetryAttempts) {
          this.options.log(`(${requestId}) ${name} asynchronous event dropped after ${failures + 1} attempt(s)`);
          return;
        }
        wait = delays.error[failures] ?? (delays.error.at(-1) as number);
        failures++;
      }
      if (Date.now() + wait - queuedAt > settings.maximumEventAgeSeconds * 1000) {
        this.options.log(
          `(${requestId}) ${name} asynchronous event dropped: older than ${settings.maximumEventAgeSeconds} s`,
        );
        return;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, wait);
        this.waiting.add(wake);
      });
      if (this.closing) {
        this.options.log(`(${requestId}) ${name} asynchronous event dropped: the gateway is closing`);
        return;
      }
    }
  }

  /** Drops the events waiting for another attempt; those running finish. */
  close(): void {
    this.closing = true;
    for (const wake of [...this.waiting]) wake();
  }
}

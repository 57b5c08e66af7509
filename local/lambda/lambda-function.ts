/**
 * One Lambda function as the gateway invokes it: an execution environment per concurrent
 * invocation (`./execution-environments.ts`), each run under the function's and the caller's
 * timeouts (`./invoke.ts`). WebSocket routes, the authorizer and the token endpoint are each one.
 */
import type { ConcurrencyLimit } from "./concurrency";
import {
  type EnvironmentInit,
  type EnvironmentState,
  ExecutionEnvironments,
  type Handler,
} from "./execution-environments";
import type { InitGate } from "./init-gate";
import { type InvocationOutcome, invokeHandler } from "./invoke";

export interface LocalFunctionOptions {
  functionTimeoutMs: number;
  /** How long the caller waits (API Gateway's integration timeout). */
  callerTimeoutMs: number;
  /** The account's concurrent executions, shared by every function. */
  concurrency: ConcurrencyLimit;
  /** Receives every handler run, so a closing server can wait for them. */
  track: (run: Promise<unknown>) => void;
  /** Runtime processes: how many may be in their Init phase at once (`InitGate`). */
  initGate?: InitGate;
}

export interface Invocation<R> {
  outcome: InvocationOutcome<R>;
  /** Milliseconds the caller waited. */
  ms: number;
  coldStart: boolean;
}

export class LocalFunction<E, R> {
  private readonly environments: ExecutionEnvironments<Handler<E, R>>;

  constructor(
    readonly name: string,
    init: (environment: EnvironmentState) => Handler<E, R> | EnvironmentInit<Handler<E, R>>,
    private readonly options: LocalFunctionOptions,
  ) {
    this.environments = new ExecutionEnvironments(init, options.concurrency, options.initGate);
  }

  /** Runs `event`; `guarded: false` exempts it from the local machine's overload guard. */
  async invoke(event: E, guarded = true): Promise<Invocation<R>> {
    const started = process.hrtime.bigint();
    const elapsedMs = () => Number(process.hrtime.bigint() - started) / 1e6;
    const acquired = await this.environments.acquire(guarded);
    // A cold start's Init phase first: the function's timeout is for the Invoke phase.
    if ("environment" in acquired && acquired.coldStart) {
      try {
        await acquired.environment.ready;
      } catch (error) {
        // An environment that never started holds no execution.
        acquired.environment.stopped = true;
        this.environments.release(acquired);
        throw error;
      }
    }
    const outcome: InvocationOutcome<R> =
      "environment" in acquired
        ? await invokeHandler(acquired.environment, event, {
            functionName: this.name,
            functionTimeoutMs: this.options.functionTimeoutMs,
            // The caller's wait began with the invocation: a cold start and its queue count, as in AWS.
            integrationTimeoutMs: Math.max(0, this.options.callerTimeoutMs - elapsedMs()),
            onRun: (run) => {
              this.options.track(run);
              // Busy until its code is done, even when the caller has stopped waiting.
              void run.finally(() => this.environments.release(acquired));
            },
          })
        : { kind: "throttled", reason: acquired.throttled };
    return { outcome, ms: elapsedMs(), coldStart: "environment" in acquired && acquired.coldStart };
  }

  /** Its code changed: new invocations start new environments (`ExecutionEnvironments.retire`). */
  retire(): void {
    this.environments.retire();
  }

  /** Ends its environments as they become idle. */
  close(): void {
    this.environments.close();
  }
}

/**
 * Lambda's execution environments for one function. An environment runs one invocation at a time
 * and stays warm for the next, keeping whatever its handler built (SDK clients, caches); an
 * invocation that finds none idle gets a new one, built like a cold start. An invocation that
 * times out ends its environment, as Lambda's does: it is never used again, and the gateway
 * refuses what its code still tries to do.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
import type { Repository } from "../dal/repository";
import type { WebSocketHandler } from "../functions/events";

/** What the gateway's own services (the in-process management API) see of an environment. */
export interface EnvironmentState {
  /** An invocation in it passed the function timeout: Lambda would have stopped it. */
  stopped: boolean;
}

/** Throws when `environment` is stopped: its code would no longer be running. */
export function refuseIfStopped(environment: EnvironmentState): void {
  if (environment.stopped) throw new Error("The invocation timed out: Lambda would have stopped this function");
}

/** `repository` as code in `environment` reaches it: refused once the environment is stopped. */
export function environmentRepository<T extends object>(
  repository: Repository<T>,
  environment: EnvironmentState,
): Repository<T> {
  return {
    put: async (item, options) => {
      refuseIfStopped(environment);
      return repository.put(item, options);
    },
    get: async (key) => {
      refuseIfStopped(environment);
      return repository.get(key);
    },
    delete: async (key) => {
      refuseIfStopped(environment);
      return repository.delete(key);
    },
    scan: async function* (options) {
      refuseIfStopped(environment);
      for await (const page of repository.scan(options)) {
        refuseIfStopped(environment);
        yield page;
      }
    },
  };
}

export interface ExecutionEnvironment extends EnvironmentState {
  readonly handler: WebSocketHandler;
}

export class ExecutionEnvironments {
  private readonly idle: ExecutionEnvironment[] = [];

  /** `init` builds an environment's handler, as a cold start runs the function's module. */
  constructor(private readonly init: (environment: EnvironmentState) => WebSocketHandler) {}

  /** The environment warmed most recently, or a new one when every environment is busy. */
  acquire(): { environment: ExecutionEnvironment; coldStart: boolean } {
    const warm = this.idle.pop();
    if (warm) return { environment: warm, coldStart: false };
    const state: EnvironmentState = { stopped: false };
    return { environment: Object.assign(state, { handler: this.init(state) }), coldStart: true };
  }

  /** The invocation in `environment` has finished; a stopped environment is dropped. */
  release(environment: ExecutionEnvironment): void {
    if (!environment.stopped) this.idle.push(environment);
  }
}

/**
 * Lambda's execution environments for one function. An environment runs one invocation at a time
 * and stays warm for the next, keeping whatever its handler built (SDK clients, caches); an
 * invocation that finds none idle gets a new one, built like a cold start. An invocation that
 * times out ends its environment, as Lambda's does: it is never used again, and the gateway
 * refuses what its code still tries to do.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 * Busy environments count against the account's concurrency (`./concurrency.ts`).
 */
import type { Repository } from "../../dal/repository";
import type { ConnectionManagerFactory } from "../../functions/runtime/connection-manager";
import type {
  LambdaContext,
  WebSocketEvent,
  WebSocketHandler,
  WebSocketResult,
} from "../../functions/runtime/lambda-events";
import type { ConcurrencyLimit } from "./concurrency";

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
    delete: async (key, options) => {
      refuseIfStopped(environment);
      return repository.delete(key, options);
    },
    scan: (options) => refusedOnceStopped(repository.scan(options), environment),
    query: (options) => refusedOnceStopped(repository.query(options), environment),
    update: async (key, update) => {
      refuseIfStopped(environment);
      return repository.update(key, update);
    },
    queryPage: async (options) => {
      refuseIfStopped(environment);
      return repository.queryPage(options);
    },
  };
}

async function* refusedOnceStopped<T>(pages: AsyncIterable<T[]>, environment: EnvironmentState): AsyncGenerator<T[]> {
  refuseIfStopped(environment);
  for await (const page of pages) {
    refuseIfStopped(environment);
    yield page;
  }
}

/**
 * `managementApi` as code in `environment` reaches it: refused once the environment is stopped,
 * before the SDK spends anything on the request (a stopped broadcast would otherwise sign and
 * build a refused request for every connection left).
 */
export function environmentManagementApi(
  managementApi: ConnectionManagerFactory,
  environment: EnvironmentState,
): ConnectionManagerFactory {
  return (endpoint) => {
    const manager = managementApi(endpoint);
    return {
      post: async (connectionId, data) => {
        refuseIfStopped(environment);
        return manager.post(connectionId, data);
      },
      disconnect: async (connectionId) => {
        refuseIfStopped(environment);
        return manager.disconnect(connectionId);
      },
    };
  };
}

/** A Lambda handler: an event in, a result out (a WebSocket route, an authorizer, a function URL). */
export type Handler<E = WebSocketEvent, R = WebSocketResult> = (event: E, context?: LambdaContext) => Promise<R>;

export interface ExecutionEnvironment<H extends Handler<never, unknown> = WebSocketHandler> extends EnvironmentState {
  readonly handler: H;
}

/** An environment taken for one invocation, with the execution it counts as. */
interface Acquired<H extends Handler<never, unknown> = WebSocketHandler> {
  environment: ExecutionEnvironment<H>;
  coldStart: boolean;
  execution: number;
}

export class ExecutionEnvironments<H extends Handler<never, unknown> = WebSocketHandler> {
  private readonly idle: ExecutionEnvironment<H>[] = [];

  /** `init` builds an environment's handler, as a cold start runs the function's module. */
  constructor(
    private readonly init: (environment: EnvironmentState) => H,
    private readonly concurrency: ConcurrencyLimit,
  ) {}

  /**
   * The environment warmed most recently, or a new one when every environment is busy; or why the
   * invocation is throttled.
   */
  acquire(guarded: boolean): Acquired<H> | { throttled: string } {
    const taken = this.concurrency.take(guarded);
    if ("throttled" in taken) return taken;
    const warm = this.idle.pop();
    if (warm) return { environment: warm, coldStart: false, execution: taken.token };
    const state: EnvironmentState = { stopped: false };
    try {
      return {
        environment: Object.assign(state, { handler: this.init(state) }),
        coldStart: true,
        execution: taken.token,
      };
    } catch (error) {
      // A cold start that fails holds no execution.
      this.concurrency.give(taken.token);
      throw error;
    }
  }

  /**
   * The invocation in `environment` has finished; a stopped environment is dropped. Its
   * execution counts until its code is done (Lambda's would end at the timeout, but here the code
   * runs on, and its memory with it, until its refused calls end it).
   */
  release({ environment, execution }: Acquired<H>): void {
    this.concurrency.give(execution);
    if (!environment.stopped) this.idle.push(environment);
  }
}

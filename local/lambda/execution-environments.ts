/**
 * Lambda's execution environments for one function. An environment runs one invocation at a time
 * and stays warm for the next, keeping whatever its handler built (SDK clients, caches); an
 * invocation that finds none idle gets a new one, built like a cold start. An invocation that
 * times out ends its environment, as Lambda's does: it is never used again, and the gateway
 * refuses what its code still tries to do. New code (`retire`) is run by new environments; the
 * old ones finish what they run and end, as Lambda's do after an update.
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
import type { InitGate } from "./init-gate";

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

/** What a cold start makes: the handler, and how to end the environment (a runtime process) when Lambda would. */
export interface EnvironmentInit<H> {
  handler: H;
  /**
   * Settles when the environment's Init phase is over (a runtime process has loaded the code). The
   * function's timeout counts from then: Lambda's Init phase has a limit of its own (10 s), and the
   * timeout applies to the Invoke phase. https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
   */
  ready?: Promise<void>;
  dispose?(): void;
}

export interface ExecutionEnvironment<H extends Handler<never, unknown> = WebSocketHandler>
  extends EnvironmentState,
    EnvironmentInit<H> {
  /** The code's version it was started with. */
  readonly generation: number;
}

/** An environment taken for one invocation, with the execution it counts as. */
interface Acquired<H extends Handler<never, unknown> = WebSocketHandler> {
  environment: ExecutionEnvironment<H>;
  coldStart: boolean;
  execution: number;
  /** A cold start's init slot, released when this first invocation is over. */
  initSlot?: () => void;
}

/** How long past its Init phase a new environment holds its init slot at most. */
const FIRST_RUN_SLOT_MS = 1_000;

export class ExecutionEnvironments<H extends Handler<never, unknown> = WebSocketHandler> {
  private readonly idle: ExecutionEnvironment<H>[] = [];
  /** Invocations waiting for an Init slot that a warm environment would serve as well. */
  private readonly waitingForIdle = new Set<() => void>();
  private generation = 0;
  private closed = false;

  /** `init` builds an environment's handler, as a cold start runs the function's module. */
  constructor(
    private readonly init: (environment: EnvironmentState) => H | EnvironmentInit<H>,
    private readonly concurrency: ConcurrencyLimit,
    private readonly initGate?: InitGate,
  ) {}

  /**
   * The environment warmed most recently, or a new one when every environment is busy (once the
   * init gate, if any, lets it start); or why the invocation is throttled.
   */
  async acquire(guarded: boolean): Promise<Acquired<H> | { throttled: string }> {
    const taken = this.concurrency.take(guarded);
    if ("throttled" in taken) return taken;
    for (;;) {
      const warm = this.idle.pop();
      if (warm) return { environment: warm, coldStart: false, execution: taken.token };
      if (this.closed) {
        this.concurrency.give(taken.token);
        return { throttled: "the function is closing" };
      }
      const slot = this.initGate?.tryTake();
      if (!this.initGate || slot) return this.start(taken.token, slot);
      await this.slotOrIdle(this.initGate);
    }
  }

  /** Resolves when the gate frees a slot or one of this function's environments is idle, whichever is first. */
  private slotOrIdle(gate: InitGate): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.waitingForIdle.delete(wake);
        cancel();
        resolve();
      };
      this.waitingForIdle.add(wake);
      const cancel = gate.whenFree(wake);
    });
  }

  /** A cold start: a new environment, holding `slot` until its first invocation is over. */
  private start(execution: number, slot: (() => void) | undefined): Acquired<H> {
    const state: EnvironmentState = { stopped: false };
    try {
      const made = this.init(state);
      const environment = Object.assign(state, typeof made === "function" ? { handler: made } : made, {
        generation: this.generation,
      });
      if (slot) {
        const releaseLater = () => setTimeout(slot, FIRST_RUN_SLOT_MS).unref();
        void Promise.resolve(environment.ready).then(releaseLater, slot);
      }
      return { environment, coldStart: true, execution, ...(slot && { initSlot: slot }) };
    } catch (error) {
      // A cold start that fails holds no execution.
      this.concurrency.give(execution);
      slot?.();
      throw error;
    }
  }

  /**
   * The invocation in `environment` has finished; a stopped environment is dropped. Its
   * execution counts until its code is done (Lambda's would end at the timeout, but here the code
   * runs on, and its memory with it, until its refused calls end it).
   */
  release({ environment, execution, initSlot }: Acquired<H>): void {
    this.concurrency.give(execution);
    initSlot?.();
    if (environment.stopped || this.closed || environment.generation !== this.generation) environment.dispose?.();
    else {
      this.idle.push(environment);
      const [next] = this.waitingForIdle;
      next?.();
    }
  }

  /** New code: the next invocations get new environments; idle ones end now, busy ones when they finish. */
  retire(): void {
    this.generation++;
    for (const environment of this.idle.splice(0)) environment.dispose?.();
  }

  /** Ends every idle environment, and each busy one as it finishes; invocations waiting to start one are throttled. */
  close(): void {
    this.closed = true;
    this.retire();
    for (const wake of [...this.waitingForIdle]) wake();
  }
}

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

/**
 * Local only: how many Init phases (runtime processes loading their code) run at once, across
 * the gateway's functions. In Lambda each new execution environment starts on a CPU of its own;
 * here a burst of cold starts (a class opening one link, a benchmark's first messages) would start
 * twenty processes on two cores, and each one's first invocation would then run into its function's
 * timeout, which Lambda would not. So an environment is starting until its first invocation is
 * over (its code's first run is the costly part too), or at most a second past its Init phase; an
 * invocation that needs a new environment while this many are starting waits for a slot, or for a
 * warm environment of its function to be free, whichever comes first: it is served a little later
 * instead of failing, and no fewer environments start than the load needs.
 */
export class InitGate {
  private starting = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly slots: number) {}

  /** A slot, released by the function returned; `undefined` when all are taken. */
  tryTake(): (() => void) | undefined {
    if (this.starting >= this.slots) return undefined;
    this.starting++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.starting--;
      const woken = [...this.waiting];
      this.waiting.clear();
      for (const wake of woken) wake();
    };
  }

  /** Calls `wake` once a slot is released. */
  whenFree(wake: () => void): void {
    this.waiting.add(wake);
  }
}

export class ExecutionEnvironments<H extends Handler<never, unknown> = WebSocketHandler> {
  private readonly idle: ExecutionEnvironment<H>[] = [];
  /** Invocations waiting for an Init slot that a warm environment would serve as well. */
  private readonly waitingForIdle: Array<() => void> = [];
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
      const slot = this.initGate?.tryTake();
      if (!this.initGate || slot) return this.start(taken.token, slot);
      await new Promise<void>((resolve) => {
        this.waitingForIdle.push(resolve);
        this.initGate?.whenFree(resolve);
      });
    }
  }

  /** A cold start: a new environment, holding `slot` until its Init phase is over. */
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
      for (const wake of this.waitingForIdle.splice(0)) wake();
    }
  }

  /** New code: the next invocations get new environments; idle ones end now, busy ones when they finish. */
  retire(): void {
    this.generation++;
    for (const environment of this.idle.splice(0)) environment.dispose?.();
  }

  /** Ends every idle environment, and each busy one as it finishes. */
  close(): void {
    this.closed = true;
    this.retire();
  }
}

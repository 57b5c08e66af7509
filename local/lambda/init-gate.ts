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
  readonly slots: number;

  constructor(slots: number) {
    this.slots = Math.max(1, Math.floor(slots) || 1);
  }

  /** A slot, released by the function returned; `undefined` when all are taken. */
  tryTake(): (() => void) | undefined {
    if (this.starting >= this.slots) return undefined;
    this.starting++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.starting--;
      // Every waiter tries again (one woken alone might take a warm environment and leave the slot idle).
      const woken = [...this.waiting];
      this.waiting.clear();
      for (const wake of woken) wake();
    };
  }

  /** Calls `wake` when a slot is released, unless cancelled by the function returned first. */
  whenFree(wake: () => void): () => void {
    this.waiting.add(wake);
    return () => this.waiting.delete(wake);
  }
}

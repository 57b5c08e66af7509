/** A small typed event emitter: the client's events, with nothing from Node's or the DOM's. */

export class Emitter<Events extends object> {
  private readonly listeners: { [K in keyof Events]?: Array<(event: Events[K]) => void> } = {};

  /** Calls `listener` with each `type` event; returns what stops it. */
  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    this.listeners[type] ??= [];
    this.listeners[type].push(listener);
    return () => this.off(type, listener);
  }

  off<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): void {
    const list = this.listeners[type];
    if (list) this.listeners[type] = list.filter((each) => each !== listener);
  }

  /**
   * Calls each listener in turn. One that throws does not stop the others or the client's own
   * work: its error is thrown again on its own, where the platform reports uncaught errors.
   */
  protected emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of this.listeners[type] ?? []) {
      try {
        listener(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

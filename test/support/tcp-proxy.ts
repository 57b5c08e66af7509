/**
 * A loopback TCP proxy a test puts between a client and a server (the gateway and its DynamoDB) to
 * inject faults: refuse connections, reset them, swallow them, or delay every chunk (a latency).
 */
import net from "node:net";

export type FaultMode =
  /** Nothing listens: new connections get ECONNREFUSED; open ones are reset. */
  | "refuse"
  /** Connections are accepted, then reset at once (ECONNRESET); open ones are reset too. */
  | "reset"
  /** Connections are accepted and their bytes go nowhere: the caller waits until it times out. */
  | "blackhole";

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `http://127.0.0.1:{port}`. */
  endpoint: string;
  /** Starts failing every connection the way `mode` says, until {@link restore}. */
  cut(mode?: FaultMode): Promise<void>;
  /** Forwards again, without delay. */
  restore(): Promise<void>;
  /** Holds every chunk this many milliseconds before forwarding it, both ways (0: none). */
  delay(ms: number): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) that forwards to `target` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: FaultMode | undefined;
  let delayMs = 0;
  let accepted = 0;
  const open = new Set<net.Socket>();

  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.on("error", () => {
      // Resets are the point of this proxy; the other side is torn down below.
    });
  };

  /**
   * Forwards `from` to `to`, each chunk `delayMs` after it arrived, keeping order: a latency, not
   * a bandwidth limit, so a request split into several chunks is late once, not once per chunk.
   */
  const pipe = (from: net.Socket, to: net.Socket) => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const due = Date.now() + delayMs;
      chain = chain
        .then(() => new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()))))
        .then(() => {
          if (!to.destroyed) to.write(chunk);
        });
    });
    from.once("end", () => {
      void chain.then(() => to.end());
    });
    from.once("close", () => {
      void chain.then(() => to.destroy());
    });
  };

  const server = net.createServer((client) => {
    accepted++;
    track(client);
    if (mode === "reset" || mode === "refuse") {
      client.resetAndDestroy();
      return;
    }
    if (mode === "blackhole") {
      client.resume();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    track(upstream);
    pipe(client, upstream);
    pipe(upstream, client);
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stopListening = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const resetOpen = () => {
    for (const socket of open) {
      if (socket.destroyed) continue;
      // Node cannot reset a socket whose sending side is already shut down (after `end`): libuv
      // refuses with EINVAL and Node never closes the handle, so the process spins at exit.
      if (socket.writableEnded) socket.destroy();
      else socket.resetAndDestroy();
    }
  };

  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    async cut(next: FaultMode = "refuse") {
      const wasListening = mode !== "refuse";
      mode = next;
      resetOpen();
      if (next === "refuse" && wasListening) await stopListening();
      if (next !== "refuse" && !wasListening) await listen(port);
    },
    async restore() {
      const was = mode;
      mode = undefined;
      delayMs = 0;
      // Swallowed connections would otherwise hang until their callers' timeouts.
      if (was === "blackhole") resetOpen();
      if (was === "refuse") await listen(port);
    },
    delay(ms: number) {
      delayMs = ms;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      mode = "refuse";
      resetOpen();
      if (server.listening) await stopListening();
    },
  };
}

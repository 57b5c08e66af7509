import WebSocket from "ws";

export interface Closed {
  code: number;
  reason: string;
}

/** A `ws` client that keeps every frame it receives, for tests. */
export interface TestClient {
  socket: WebSocket;
  /** Frames received so far (text as string, binary as Buffer). */
  received: Array<string | Buffer>;
  /**
   * Resolves with the next frame not yet taken (in arrival order), passing over the room's
   * presence notices (they stay in `received`); rejects once the socket has closed.
   */
  next(): Promise<string | Buffer>;
  /** The next frame, parsed as JSON. */
  nextJson<T = Record<string, unknown>>(): Promise<T>;
  closed: Promise<Closed>;
}

/** Opens a client, offering `protocols` if given; rejects with the HTTP status when the handshake is refused. */
export function connect(
  url: string,
  options: WebSocket.ClientOptions = {},
  protocols: string[] = [],
): Promise<TestClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options);
    const received: Array<string | Buffer> = [];
    const waiters: Array<{ resolve: (frame: string | Buffer) => void; reject: (error: Error) => void }> = [];
    let closedWith: Closed | undefined;
    let taken = 0;
    /** Frames `next` hands out: all but the presence notices and the answers to sends (acks). */
    const queue: Array<string | Buffer> = [];
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? data : data.toString("utf8");
      received.push(frame);
      if (typeof frame === "string" && /^\{"type":"(presence|ack)"/.test(frame)) return;
      queue.push(frame);
      const waiter = waiters.shift();
      if (waiter) {
        taken++;
        waiter.resolve(frame);
      }
    });
    const closed = new Promise<Closed>((resolveClosed) =>
      socket.on("close", (code: number, reason: Buffer) => {
        closedWith = { code, reason: reason.toString() };
        for (const waiter of waiters.splice(0)) waiter.reject(closedError(closedWith));
        resolveClosed(closedWith);
      }),
    );
    const next = () =>
      new Promise<string | Buffer>((resolveFrame, rejectFrame) => {
        if (taken < queue.length) resolveFrame(queue[taken++] as string | Buffer);
        else if (closedWith) rejectFrame(closedError(closedWith));
        else waiters.push({ resolve: resolveFrame, reject: rejectFrame });
      });
    socket.once("open", () =>
      resolve({
        socket,
        received,
        next,
        nextJson: async <T>() => JSON.parse(String(await next())) as T,
        closed,
      }),
    );
    socket.once("unexpected-response", (_request, response) => {
      reject(Object.assign(new Error(`handshake refused: ${response.statusCode}`), { status: response.statusCode }));
      socket.terminate();
    });
    socket.once("error", reject);
  });
}

function closedError(closed: Closed): Error {
  return new Error(`socket closed (${closed.code} ${closed.reason}) before the expected frame`);
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Requests waiting for their answers. Each request carries a reference of the client's own
 * (`"ref"`), which the server echoes in its answer or its error frame (docs/protocol.md), so each
 * answer settles the request it is for, whatever the order answers come in.
 */
import { type ChatClientError, ConnectionLostError, RequestRefusedError, RequestTimeoutError } from "./errors";
import type { AnswerFrame, ErrorFrame, GatewayFrame } from "./protocol";

interface Waiting {
  action: string;
  resolve(frame: AnswerFrame): void;
  reject(error: ChatClientError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  private count = 0;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly timeoutMs: number) {}

  /** A new reference, and the promise its answer settles (or the timeout rejects). */
  open(action: string): { ref: string; answer: Promise<AnswerFrame> } {
    const ref = `c${++this.count}`;
    const answer = new Promise<AnswerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(new RequestTimeoutError(`No answer to ${action} within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.waiting.set(ref, { action, resolve, reject, timer });
    });
    return { ref, answer };
  }

  /** Settles the request a frame with a `ref` answers; false if none waits for it. */
  settle(frame: AnswerFrame | ErrorFrame): boolean {
    const waiting = frame.ref === undefined ? undefined : this.take(frame.ref);
    if (!waiting) return false;
    if (frame.type === "error") {
      waiting.reject(new RequestRefusedError(frame.message, frame.retryAfterSeconds, frame.requestId));
    } else {
      waiting.resolve(frame);
    }
    return true;
  }

  /**
   * API Gateway's own error frames carry no reference ("Internal server error": the function
   * failed; "Too Many Requests": the stage's throttling). With one request waiting it can only be
   * that one's; with several, none can be told, and they wait for their timeouts.
   */
  settleUnreferenced(frame: GatewayFrame): boolean {
    if (this.waiting.size !== 1) return false;
    const [ref] = this.waiting.keys();
    const waiting = this.take(ref as string);
    waiting?.reject(
      new RequestRefusedError(
        `The server could not handle ${waiting.action}: ${frame.message}`,
        undefined,
        frame.requestId,
      ),
    );
    return true;
  }

  /** Rejects every request waiting: the connection they went out on is gone. */
  lost(why: string): void {
    for (const ref of [...this.waiting.keys()]) {
      const waiting = this.take(ref);
      waiting?.reject(
        new ConnectionLostError(`${why}: no answer to ${waiting.action}, which may or may not have been handled`),
      );
    }
  }

  private take(ref: string): Waiting | undefined {
    const waiting = this.waiting.get(ref);
    if (!waiting) return undefined;
    this.waiting.delete(ref);
    clearTimeout(waiting.timer);
    return waiting;
  }
}

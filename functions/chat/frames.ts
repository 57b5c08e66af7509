/** Frames the functions send, and how they are kept within API Gateway's 128 KB per message. */
import { API_GATEWAY_MAX_MESSAGE_BYTES } from "../runtime/function-config";

/** The frame the sender alone receives when its request is refused. */
export interface ErrorFrame {
  type: "error";
  message: string;
  requestId: string;
  /** The request's own reference, when it gave one. */
  ref?: string;
  /** Over a rate limit: when the request would be admitted again. */
  retryAfterSeconds?: number;
}

export function errorFrame(
  message: string,
  requestId: string,
  extra: Pick<ErrorFrame, "ref" | "retryAfterSeconds"> = {},
): string {
  const frame: ErrorFrame = {
    type: "error",
    message,
    requestId,
    ...(extra.ref !== undefined && { ref: extra.ref }),
    ...(extra.retryAfterSeconds !== undefined && { retryAfterSeconds: extra.retryAfterSeconds }),
  };
  return JSON.stringify(frame);
}

/** A two-way route's refusal: the error frame as its response. */
export function refusal(message: string, requestId: string, ref?: string): { statusCode: number; body: string } {
  return { statusCode: 400, body: errorFrame(message, requestId, { ref }) };
}

/** `{"type":"ack",...}`: a request done, named by its reference, with what it made or changed. */
export interface AckFrame {
  type: "ack";
  ref?: string;
  room: string;
  id?: string;
  seq?: number;
}

/**
 * A frame that lists items (`who`, `history`), filled while its JSON stays within API Gateway's
 * limit on one message; the rest is left for another request.
 */
export class FrameBudget {
  private bytes: number;

  /** `envelope`: the frame with an empty list (its other fields at their longest). */
  constructor(
    envelope: object,
    private readonly maxBytes = API_GATEWAY_MAX_MESSAGE_BYTES,
  ) {
    this.bytes = Buffer.byteLength(JSON.stringify(envelope));
  }

  /** Bytes the frame may still take. */
  get left(): number {
    return this.maxBytes - this.bytes;
  }

  /** Takes `item` into the frame if it fits (with its comma); else leaves the budget as it is. */
  take(item: object): boolean {
    const bytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (this.bytes + bytes > this.maxBytes) return false;
    this.bytes += bytes;
    return true;
  }
}

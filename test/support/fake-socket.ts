/**
 * A stand-in for the WebSocket class the client library is given, for its unit tests: each socket
 * records what the client sends, and the test opens it, hands it frames, or drops it. With
 * `serve`, a small stand-in of the chat answers the client's requests as docs/protocol.md says
 * (numbered messages per room, `history` both ways, acks by `ref`), so a test can focus on what
 * it changes: a frame lost, a socket dropped, a request refused.
 */
import type { ChatMessageFrame } from "../../functions/chat/message";

type Handler = ((event: never) => void) | null;

export class FakeSocket {
  readyState = 0;
  readonly sent: Array<Record<string, unknown>> = [];
  onopen: Handler = null;
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  /** Answers requests as they are sent (see {@link ChatStandIn.serve}); none: the test answers. */
  answer: ((request: Record<string, unknown>, socket: FakeSocket) => void) | undefined;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error(`send on a socket in state ${this.readyState}`);
    const request = JSON.parse(data) as Record<string, unknown>;
    this.sent.push(request);
    const answer = this.answer;
    if (answer) queueMicrotask(() => answer(request, this));
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    (this.onclose as ((event: { code: number; reason: string }) => void) | null)?.({ code, reason });
  }

  /** The server accepts the handshake. */
  open(): void {
    this.readyState = 1;
    (this.onopen as ((event: object) => void) | null)?.({});
  }

  /** A frame from the server. */
  receive(frame: object | string): void {
    const data = typeof frame === "string" ? frame : JSON.stringify(frame);
    (this.onmessage as ((event: { data: string }) => void) | null)?.({ data });
  }

  /** The connection is lost (1006), or the handshake refused (before `open`). */
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    (this.onclose as ((event: { code: number; reason: string }) => void) | null)?.({ code, reason });
  }

  /** The requests sent with `action`. */
  requests(action: string): Array<Record<string, unknown>> {
    return this.sent.filter((request) => request.action === action);
  }

  /** The `room` of the handshake's URL. */
  get room(): string | null {
    return new URL(this.url).searchParams.get("room");
  }
}

/** A WebSocket class whose instances the test reaches through `sockets`. */
export function fakeWebSocket(onCreate?: (socket: FakeSocket) => void) {
  const sockets: FakeSocket[] = [];
  class WebSocket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
      onCreate?.(this);
    }
  }
  return {
    WebSocket,
    sockets,
    get last(): FakeSocket {
      const socket = sockets.at(-1);
      if (!socket) throw new Error("no socket was opened");
      return socket;
    },
  };
}

/** A small chat the fake sockets talk to: rooms of numbered messages. */
export class ChatStandIn {
  readonly rooms = new Map<string, ChatMessageFrame[]>();

  /** Stores a message in `room` (numbered next) and returns it as its frame. */
  post(room: string, data: string, extra: Partial<ChatMessageFrame> = {}): ChatMessageFrame {
    const messages = this.rooms.get(room) ?? [];
    this.rooms.set(room, messages);
    const seq = messages.length + 1;
    const message: ChatMessageFrame = {
      type: "message",
      id: `s${String(seq).padStart(12, "0")}`,
      seq,
      room,
      connectionId: "c0nnection=",
      userId: "guest-someone",
      name: "Someone",
      data,
      sentAt: new Date(0).toISOString(),
      ...extra,
    };
    messages.push(message);
    return message;
  }

  /** Answers `join`, `leave`, `history` (forward and back), `who`, `sendmessage` as the server would. */
  serve = (request: Record<string, unknown>, socket: FakeSocket): void => {
    const { action, ref } = request;
    const room = String(request.room ?? request.with ?? "");
    const messages = this.rooms.get(room) ?? [];
    if (action === "join") socket.receive({ type: "joined", ref, room: request.with ? `dm-${room}` : room });
    else if (action === "leave") socket.receive({ type: "left", ref, room });
    else if (action === "who") socket.receive({ type: "who", ref, room, members: [], truncated: false });
    else if (action === "sendmessage") {
      const message = this.post(room, String(request.data));
      socket.receive(message);
      socket.receive({ type: "ack", ref, room, id: message.id, seq: message.seq });
    } else if (action === "history") socket.receive({ type: "history", ref, room, ...this.page(messages, request) });
  };

  private page(messages: ChatMessageFrame[], request: Record<string, unknown>) {
    const limit = Number(request.limit ?? 50);
    if (typeof request.after === "string") {
      const after = request.after;
      const newer = messages.filter((message) => message.id > after);
      const page = newer.slice(0, limit);
      return { messages: page, after: newer.length > limit ? (page.at(-1)?.id ?? null) : null };
    }
    const before = typeof request.before === "string" ? request.before : undefined;
    const older = before === undefined ? messages : messages.filter((message) => message.id < before);
    const page = older.slice(-limit);
    return { messages: page, before: older.length > limit ? (page[0]?.id ?? null) : null };
  }
}

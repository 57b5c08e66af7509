/**
 * The chat's client: one connection in many rooms, nothing missed across a reconnect, each request
 * answered. Signs in before each handshake (`./sign-in.ts`, or a token provider of the caller's),
 * reconnects with backoff (`./connection.ts`), joins its rooms again and fills what it missed
 * (`./rooms.ts`), and turns frames into typed events (docs/protocol.md says what each carries).
 */
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff";
import { type ConnectionState, ReconnectingSocket, type TokenProvider, type WebSocketConstructor } from "./connection";
import { Emitter } from "./emitter";
import { ChatClientError, ConnectionLostError } from "./errors";
import type {
  AckFrame,
  AnswerFrame,
  ChangeFrame,
  ChatMessageFrame,
  HistoryFrame,
  InviteFrame,
  PresenceFrame,
  TypingFrame,
  WhoFrame,
} from "./protocol";
import { parseFrame } from "./protocol";
import { PendingRequests } from "./requests";
import { type GapFilled, type JoinedRoom, Rooms } from "./rooms";
import type { Delivery } from "./timeline";

export interface ChatClientOptions {
  /** The WebSocket API: `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`, or the local gateway's. */
  url: string;
  /** A token for each handshake: `guestSignIn(...).token`, or an OIDC ID token's provider. None: the open chat. */
  token?: TokenProvider;
  /** The WebSocket class. Default: the platform's (browsers; Node 22 on). */
  WebSocket?: WebSocketConstructor;
  /** With no sign-in (`auth: none`): the name to connect and send under. */
  name?: string;
  /** Messages in a room's first page of history, on joining it. Default 50 (at most 100). */
  historyLimit?: number;
  /** How long a request waits for its answer. Default 15 s. */
  requestTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** A connection open this long counts as held: its next reconnect starts the backoff over. Default 5 s. */
  stableAfterMs?: number;
  /** How long a gap in a room's numbers waits for late messages before history fills it. Default 500 ms. */
  reorderWaitMs?: number;
  /** Messages read again on a reconnect, before the last one seen, for edits and deletes made meanwhile. Default 20. */
  refreshCount?: number;
  /** Typing notices to one room at most this often. Default 3 s (the server's budget). */
  typingIntervalMs?: number;
  /** The jitter's source of randomness. Default `Math.random`. */
  random?: () => number;
}

/** Refusals, and frames the client cannot read, that answer no request of the caller's. */
export interface ChatErrorEvent {
  message: string;
  room?: string;
  requestId?: string;
  retryAfterSeconds?: number;
}

export interface ChatEvents {
  /** A message of a joined room: each once, in order within its room (live, or filling a gap). */
  message: ChatMessageFrame;
  edit: ChangeFrame;
  delete: ChangeFrame;
  presence: PresenceFrame;
  typing: TypingFrame;
  invite: InviteFrame;
  error: ChatErrorEvent;
  /** A gap filled after a reconnect or while connected; `missed`: messages history no longer holds. */
  "gap-filled": GapFilled;
  state: ConnectionState;
}

export type { ConnectionState, GapFilled, JoinedRoom };

const TYPING_REF = "typing";

export class ChatClient extends Emitter<ChatEvents> {
  /** With no sign-in: the name messages are sent under (changeable). */
  name: string | undefined;
  private readonly socket: ReconnectingSocket;
  private readonly pending: PendingRequests;
  private readonly rooms: Rooms;
  private readonly typingSent = new Map<string, number>();
  private readonly settings: Required<Pick<ChatClientOptions, "historyLimit" | "typingIntervalMs">>;
  private connection = 0;
  private urlRoom = "";
  private currentState: ConnectionState = { state: "closed", reason: "not opened yet" };

  constructor(private readonly options: ChatClientOptions) {
    super();
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocket) {
      throw new ChatClientError(
        "This platform has no WebSocket: pass one as options.WebSocket (ws's, on Node before 22)",
      );
    }
    this.name = options.name;
    this.settings = { historyLimit: options.historyLimit ?? 50, typingIntervalMs: options.typingIntervalMs ?? 3000 };
    this.pending = new PendingRequests(options.requestTimeoutMs ?? 15_000);
    this.rooms = new Rooms({
      request: (action, fields) => this.request(action, fields),
      current: (connection) => connection === this.connection && this.socket.isOpen,
      deliver: (room, delivery) => this.deliver(room, delivery),
      gapFilled: (event) => this.emit("gap-filled", event),
      failed: (room, error) => this.emit("error", { room, message: `#${room}: ${messageOf(error)}` }),
      settings: {
        historyLimit: this.settings.historyLimit,
        refreshCount: options.refreshCount ?? 20,
        reorderWaitMs: options.reorderWaitMs ?? 500,
      },
    });
    this.socket = new ReconnectingSocket(
      {
        WebSocket,
        token: options.token,
        backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
        stableAfterMs: options.stableAfterMs ?? 5000,
        random: options.random ?? Math.random,
      },
      {
        url: () => this.url(),
        onOpen: () => this.opened(),
        onFrame: (data) => this.onFrame(data),
        onClose: (why) => {
          this.rooms.closed();
          this.pending.lost(why);
        },
        onState: (state) => {
          this.currentState = state;
          if (state.state === "closed") this.rooms.stopped(state.reason);
          this.emit("state", state);
        },
      },
    );
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The rooms joined (or to be, once connected), in the order they were joined. */
  get joinedRooms(): Array<{ room: string; with?: string }> {
    return this.rooms.names;
  }

  /** Connects, and stays connected until {@link close}; resolves once open, rejects if closed first. */
  open(): Promise<void> {
    const opened = new Promise<void>((resolve, reject) => {
      const stop = this.on("state", (state) => {
        if (state.state === "open") resolve();
        else if (state.state === "closed") reject(new ConnectionLostError(state.reason));
        if (state.state === "open" || state.state === "closed") stop();
      });
    });
    this.socket.start();
    return opened;
  }

  close(): void {
    this.socket.stop("closed");
  }

  /** Tries to connect now rather than wait out the backoff (the network is back, say). */
  reconnectNow(): void {
    this.socket.retryNow();
  }

  /** Joins a room (now, or once connected): resolves with its latest page of history. */
  join(room: string): Promise<JoinedRoom> {
    if (!isRoomName(room)) {
      return Promise.reject(
        new ChatClientError(
          `A room's name is 1 to 64 letters, digits, - or _ (and not dm-...): ${JSON.stringify(room)}`,
        ),
      );
    }
    return this.rooms.want({ room }, this.openConnection());
  }

  /** Joins the direct room of this user and `userId` (signed-in users only); its name is in the answer. */
  joinDirect(userId: string): Promise<JoinedRoom> {
    return this.rooms.want({ with: userId }, this.openConnection());
  }

  /** Leaves a room: its messages stop, and it is not joined again on a reconnect. */
  async leave(room: string): Promise<void> {
    if (this.rooms.drop(room)) await this.request("leave", { room });
  }

  /** Sends a message; resolves with its id and number in the room once stored and posted. */
  async send(room: string, data: string): Promise<{ id: string; seq: number }> {
    const fields = { room, data, ...(this.name !== undefined && { name: this.name }) };
    const ack = (await this.request("sendmessage", fields, room)) as AckFrame;
    return { id: ack.id as string, seq: ack.seq as number };
  }

  /** Changes the text of one's own message. */
  async edit(room: string, id: string, data: string): Promise<void> {
    await this.request("edit", { room, id, data }, room);
  }

  /** Takes back one's own message (a tombstone keeps its place). */
  async delete(room: string, id: string): Promise<void> {
    await this.request("delete", { room, id }, room);
  }

  /** Tells the room one is typing: at most once every few seconds, whatever the calls. Best effort. */
  typing(room: string): void {
    const now = Date.now();
    if (!this.rooms.isJoined(room) || now - (this.typingSent.get(room) ?? -Infinity) < this.settings.typingIntervalMs)
      return;
    this.typingSent.set(room, now);
    this.socket.send(JSON.stringify({ action: "typing", room, ref: TYPING_REF }));
  }

  /** A page of a room's history: older than `before`, or the latest. */
  async history(room: string, page: { before?: string; limit?: number } = {}): Promise<HistoryFrame> {
    return (await this.request(
      "history",
      { room, limit: page.limit ?? this.settings.historyLimit, ...page },
      room,
    )) as HistoryFrame;
  }

  async who(room: string): Promise<WhoFrame> {
    return (await this.request("who", { room }, room)) as WhoFrame;
  }

  /** Sends a request and waits for its answer; `room`, if given, must be joined on this connection. */
  private request(action: string, fields: Record<string, unknown>, room?: string): Promise<AnswerFrame> {
    if (!this.socket.isOpen) return Promise.reject(new ConnectionLostError(`Not connected: ${action} was not sent`));
    if (room !== undefined && !this.rooms.isJoined(room)) {
      return Promise.reject(new ChatClientError(`Not in #${room} (yet): ${action} was not sent`));
    }
    const { ref, answer } = this.pending.open(action);
    this.socket.send(JSON.stringify({ action, ...fields, ref }));
    return answer;
  }

  private openConnection(): number | undefined {
    return this.socket.isOpen ? this.connection : undefined;
  }

  /** The URL of the next handshake: the first named room as `?room=` (the others are joined after). */
  private url(): string {
    const url = new URL(this.options.url);
    this.urlRoom = this.rooms.firstNamed ?? "lobby";
    url.searchParams.set("room", this.urlRoom);
    if (this.name !== undefined && this.name !== "") url.searchParams.set("name", this.name);
    return url.href;
  }

  private opened(): void {
    const connection = ++this.connection;
    this.rooms.opened(connection, this.urlRoom);
    // Only direct rooms are wanted: the handshake had to name one, and it is left.
    if (!this.rooms.names.some(({ room }) => room === this.urlRoom)) {
      this.request("leave", { room: this.urlRoom }).catch(() => {});
    }
  }

  private deliver(room: string, delivery: Delivery): void {
    for (const change of delivery.changes) this.emit(change.type, change);
    for (const message of delivery.messages) this.emit("message", { ...message, room });
  }

  private onFrame(data: unknown): void {
    const frame = parseFrame(data);
    if (!frame) {
      this.emit("error", { message: `Unexpected frame from the server: ${String(data).slice(0, 200)}` });
      return;
    }
    switch (frame.type) {
      case "message":
        this.rooms.receive(frame);
        return;
      case "edit":
      case "delete":
        this.rooms.change(frame);
        this.emit(frame.type, frame);
        return;
      case "presence":
      case "typing":
      case "invite":
        this.emit(frame.type, frame as never);
        return;
      case "error":
        // A typing notice is best effort: its refusals (its budget) are not worth a word.
        if (frame.ref !== TYPING_REF && !this.pending.settle(frame)) this.emit("error", errorEvent(frame));
        return;
      case "ack":
      case "joined":
      case "left":
      case "history":
      case "who":
        this.pending.settle(frame);
        return;
      case undefined:
        if (typeof frame.message === "string") {
          // API Gateway's own: "Internal server error", "Too Many Requests", "Forbidden".
          if (!this.pending.settleUnreferenced(frame)) this.emit("error", errorEvent(frame));
          return;
        }
    }
    this.emit("error", { message: `Unexpected frame from the server: ${String(data).slice(0, 200)}` });
  }
}

/** Whether the server takes `name` as a room's (direct rooms are joined with `joinDirect`). */
export function isRoomName(name: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name) && !name.startsWith("dm-");
}

function errorEvent(frame: { message: string; requestId?: string; retryAfterSeconds?: number }): ChatErrorEvent {
  return {
    message: frame.message,
    ...(frame.requestId !== undefined && { requestId: frame.requestId }),
    ...(frame.retryAfterSeconds !== undefined && { retryAfterSeconds: frame.retryAfterSeconds }),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

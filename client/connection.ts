/**
 * The client's one WebSocket to the chat, kept open: a token asked for before each handshake (the
 * authorizer reads it at `$connect` only, so an expiring one is renewed before a reconnect, and one
 * a handshake was refused with is not offered again), and after a close, another attempt after a
 * delay of exponential backoff with full jitter (`./backoff.ts`), until stopped. A token that has
 * opened a connection is offered again after a failed handshake (the network fails one as a refusal
 * does), and renewed after a few in a row.
 */
import { type BackoffOptions, backoffDelay } from "./backoff";
import { SignInRefusedError } from "./errors";

/** What the client needs of a WebSocket: the browser's, Node's (22 on), or `ws`'s. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * A token for the next handshake. `renew` is true when the last handshake was refused: a token held
 * should not be offered again. Throw {@link SignInRefusedError} for what only the person can fix.
 */
export type TokenProvider = (renew: boolean) => string | undefined | Promise<string | undefined>;

export type ConnectionState =
  | { state: "connecting"; attempt: number }
  | { state: "open" }
  | {
      state: "reconnecting";
      /** Attempts made since the connection last held. */
      attempt: number;
      delayMs: number;
      /** Why the last attempt ended: words, its close code beside them. */
      reason: string;
      code?: number;
      /** The connection had opened (else the handshake failed, or was refused). */
      wasOpen: boolean;
    }
  | { state: "closed"; reason: string; signInRefused?: boolean };

export interface SocketOptions {
  WebSocket: WebSocketConstructor;
  token?: TokenProvider;
  backoff: BackoffOptions;
  /** A connection open this long before it closed counts as held: the next attempt is the first again. */
  stableAfterMs: number;
  random: () => number;
}

export interface SocketHooks {
  /** The URL to open now (the rooms of the moment), without the token. */
  url(): string;
  onOpen(): void;
  onFrame(data: unknown): void;
  /** The socket closed (it had opened or not): whatever waited on it is lost. */
  onClose(why: string): void;
  onState(state: ConnectionState): void;
}

const OPEN = 1;
/**
 * A token that has opened a connection is renewed after this many failed handshakes in a row: a
 * network that is down fails a handshake just as a refusal does, and a guest's new token is a new
 * user (its direct rooms and its messages no longer its own).
 */
const FAILURES_BEFORE_RENEWAL = 3;

/** Whether the platform says it is online: a browser knows when it has no network; elsewhere, assumed. */
const online = () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine !== false;

export class ReconnectingSocket {
  private socket: WebSocketLike | null = null;
  /** Connected is wanted: a close is followed by another attempt. */
  private wanted = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Each connect and stop moves it on, so a token that comes late opens nothing. */
  private generation = 0;
  private renewToken = false;
  /** The token last offered, whether it has opened a connection, and the handshakes failed since. */
  private lastToken: string | undefined;
  private tokenOpened = false;
  private failedHandshakes = 0;

  constructor(
    private readonly options: SocketOptions,
    private readonly hooks: SocketHooks,
  ) {}

  get isOpen(): boolean {
    return this.socket?.readyState === OPEN;
  }

  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.attempt = 0;
    void this.connect();
  }

  /** Closes the connection for good (until started again). */
  stop(reason: string, signInRefused = false): void {
    this.wanted = false;
    this.generation++;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "Bye");
      this.hooks.onClose(reason);
    }
    this.hooks.onState({ state: "closed", reason, ...(signInRefused && { signInRefused }) });
  }

  /** Tries now rather than wait out the backoff (the network is back, say). */
  retryNow(): void {
    if (this.wanted && !this.socket) void this.connect();
  }

  /** Sends a text frame if the socket is open. */
  send(text: string): boolean {
    if (!this.socket || !this.isOpen) return false;
    this.socket.send(text);
    return true;
  }

  private async connect(): Promise<void> {
    clearTimeout(this.retryTimer);
    const current = ++this.generation;
    this.hooks.onState({ state: "connecting", attempt: this.attempt });
    let token: string | undefined;
    try {
      token = await this.options.token?.(this.renewToken);
    } catch (error) {
      if (current !== this.generation) return;
      if (error instanceof SignInRefusedError) {
        this.stop(error.message, true);
        return;
      }
      // The token endpoint cannot be reached either: the handshakes failed for the network, not the token.
      this.renewToken = false;
      this.failedHandshakes = 0;
      this.retry({ reason: `cannot sign in: ${messageOf(error)}`, wasOpen: false });
      return;
    }
    if (current !== this.generation) return;
    this.renewToken = false;
    if (token !== this.lastToken) {
      this.lastToken = token;
      this.tokenOpened = false;
    }
    const url = new URL(this.hooks.url());
    if (token !== undefined) url.searchParams.set("token", token);
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(url.href);
    } catch (error) {
      this.stop(`cannot connect: ${messageOf(error)}`);
      return;
    }
    this.socket = socket;
    let openedAt: number | undefined;
    socket.onopen = () => {
      openedAt = Date.now();
      this.tokenOpened = true;
      this.failedHandshakes = 0;
      this.hooks.onState({ state: "open" });
      this.hooks.onOpen();
    };
    socket.onmessage = (event: { data: unknown }) => this.hooks.onFrame(event.data);
    socket.onerror = () => {
      // A close follows, and says more.
    };
    socket.onclose = ({ code, reason }: { code: number; reason: string }) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const wasOpen = openedAt !== undefined;
      // A handshake refused (an expired or distrusted token, say) shows as a close before open, as
      // does one the network failed (not counted when the browser knows it is offline): a token
      // that never opened a connection is renewed at once.
      if (!wasOpen && online()) {
        this.failedHandshakes++;
        this.renewToken = !this.tokenOpened || this.failedHandshakes >= FAILURES_BEFORE_RENEWAL;
      }
      if (openedAt !== undefined && Date.now() - openedAt >= this.options.stableAfterMs) this.attempt = 0;
      const why = describeClose(code, reason, wasOpen);
      this.hooks.onClose(why);
      this.retry({ reason: why, code, wasOpen });
    };
  }

  private retry(why: { reason: string; code?: number; wasOpen: boolean }): void {
    if (!this.wanted) return;
    const delayMs = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt++;
    this.hooks.onState({ state: "reconnecting", attempt: this.attempt, delayMs, ...why });
    this.retryTimer = setTimeout(() => void this.connect(), delayMs);
  }
}

/** A close in words (RFC 6455's codes as API Gateway uses them), its reason after. */
export function describeClose(code: number, reason: string, wasOpen: boolean): string {
  const words =
    {
      1000: "closed",
      1001: "the server went away",
      1003: "the server refused binary data",
      1006: wasOpen ? "the connection was lost" : "could not connect",
      1009: "the message was too big",
      1011: "server error",
    }[code] ?? `closed with code ${code}`;
  return `${words}${reason && reason !== "Bye" ? `: ${reason}` : ""}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

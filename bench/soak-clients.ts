/**
 * The soak's clients and their bookkeeping (bench/soak.ts). Every client records the sequence
 * numbers it receives; when it is done, its counts (expected, received, missing, duplicated) go to
 * its class's tally and its set is dropped, so a long soak holds only the open clients' sets.
 */
import WebSocket from "ws";

export type ClientClass = "long-lived" | "sender" | "clean-close" | "terminate";
export const CLIENT_CLASSES: readonly ClientClass[] = ["long-lived", "sender", "clean-close", "terminate"];

export interface Tally {
  clients: number;
  opened: number;
  /** Handshakes refused or failed. */
  failed: number;
  /** Closed by the gateway, not by the client (idle timeout, a fault). */
  closedByGateway: number;
  expected: number;
  /** Expected messages received. */
  received: number;
  missing: number;
  duplicated: number;
  /** Messages received outside the expected window: close to the client's open or close. */
  extra: number;
  /** Expected at least 3 messages and received none. */
  deaf: number;
  /** The missing messages of deaf clients. */
  deafMissing: number;
  /** Frames that were not chat messages (`{"message":"Internal server error",...}`). */
  errorFrames: number;
}

export const emptyTally = (): Tally => ({
  clients: 0,
  opened: 0,
  failed: 0,
  closedByGateway: 0,
  expected: 0,
  received: 0,
  missing: 0,
  duplicated: 0,
  extra: 0,
  deaf: 0,
  deafMissing: 0,
  errorFrames: 0,
});

/** After its open, a client expects the messages sent once its row is surely in the table. */
export const OPEN_MARGIN_MS = 100;
/**
 * A client that closes expects the messages the broadcast was done with (every steady client had
 * them) at least this long before it began closing: a fixed margin after the send time would call
 * a message still in flight missing whenever the gateway stalls.
 */
export const DONE_MARGIN_MS = 250;
/** Past API Gateway's 29 s integration timeout: a handshake the gateway never answers fails. */
const HANDSHAKE_TIMEOUT_MS = 35_000;

/** What the sender sent, and what every client saw. */
export class Ledger {
  /** Send time of each sequence number (performance.now(), increasing). */
  readonly sentAt: number[] = [];
  readonly tallies = new Map<ClientClass, Tally>(CLIENT_CLASSES.map((kind) => [kind, emptyTally()]));
  /** Latencies since the last sample, and every one for the summary. */
  latencies: number[] = [];
  readonly allLatencies: number[] = [];
  deliveries = 0;
  readonly open = new Set<SoakClient>();
  /** Handshakes under way (WebSocket clients and vanishing sockets). */
  pending = 0;
  /** Why handshakes failed and why the gateway closed clients, with counts. */
  readonly events = new Map<string, number>();
  readonly vanish = { attempts: 0, atOnce: 0, afterDelay: 0, answeredFirst: 0 };
  /** Steady clients (the long-lived ones and the sender) open now. */
  steadyOpen = 0;
  /** Per sequence number: steady clients that have it, and when the last of those open got it. */
  private readonly steadyReceipts: number[] = [];
  readonly doneAt: number[] = [];

  steadyReceived(seq: number, at: number): void {
    const count = (this.steadyReceipts[seq] ?? 0) + 1;
    this.steadyReceipts[seq] = count;
    if (count >= this.steadyOpen && this.doneAt[seq] === undefined) this.doneAt[seq] = at;
  }

  note(event: string): void {
    this.events.set(event, (this.events.get(event) ?? 0) + 1);
  }

  /** The first sequence number sent at or after `time`. */
  indexAt(time: number): number {
    let low = 0;
    let high = this.sentAt.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.sentAt[middle] as number) < time) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export class SoakClient {
  readonly socket: WebSocket;
  /** Resolves true once open, false if the handshake failed. */
  readonly opened: Promise<boolean>;
  openedAt?: number;
  closingAt?: number;
  private received = new Set<number>();
  private duplicated = 0;
  private errorFrames = 0;
  private settled = false;
  private readonly steady: boolean;

  constructor(
    private readonly ledger: Ledger,
    readonly kind: ClientClass,
    url: string,
    onOpen?: (client: SoakClient) => void,
  ) {
    const tally = ledger.tallies.get(kind) as Tally;
    tally.clients++;
    ledger.pending++;
    this.steady = kind === "long-lived" || kind === "sender";
    this.socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    let failure = "handshake failed";
    this.opened = new Promise((resolve) => {
      this.socket.once("open", () => {
        ledger.pending--;
        this.openedAt = performance.now();
        tally.opened++;
        ledger.open.add(this);
        if (this.steady) ledger.steadyOpen++;
        resolve(true);
        onOpen?.(this);
      });
      this.socket.on("error", (error) => {
        if (this.openedAt === undefined) failure = `handshake failed: ${error.message}`;
      });
      this.socket.once("close", (code: number, reason: Buffer) => {
        if (this.openedAt === undefined) {
          ledger.pending--;
          tally.failed++;
          ledger.note(failure);
          resolve(false);
          return;
        }
        ledger.open.delete(this);
        if (this.steady) ledger.steadyOpen--;
        if (this.closingAt === undefined) {
          tally.closedByGateway++;
          ledger.note(`closed by the gateway: ${code} ${reason.toString() || "(no reason)"}`);
        }
        this.settle(this.closingAt ?? performance.now());
      });
    });
    this.socket.on("message", (raw: Buffer) => this.receive(raw.toString()));
  }

  private receive(text: string): void {
    const received = performance.now();
    let seq: number | undefined;
    let sentAt = Number.NaN;
    try {
      const frame = JSON.parse(text) as { type?: string; data?: string };
      // The room's join and leave notices, and the sender's acks of its own messages, are not
      // deliveries, nor errors.
      if (frame.type === "presence" || frame.type === "ack") return;
      if (frame.type === "message" && typeof frame.data === "string") {
        const payload = JSON.parse(frame.data) as { seq?: unknown; t?: unknown };
        if (typeof payload.seq === "number") seq = payload.seq;
        sentAt = Number(payload.t);
      }
    } catch {
      // Not JSON: counted below as a frame that is not a chat message.
    }
    if (seq === undefined) {
      this.errorFrames++;
      this.ledger.note(`frame that is not a chat message: ${text.slice(0, 120)}`);
      return;
    }
    if (this.received.has(seq)) {
      this.duplicated++;
      return;
    }
    this.received.add(seq);
    if (this.steady) this.ledger.steadyReceived(seq, received);
    this.ledger.deliveries++;
    this.ledger.latencies.push(received - sentAt);
    this.ledger.allLatencies.push(received - sentAt);
  }

  /**
   * Adds this client's counts to its class's tally. Expected: the messages sent at least
   * {@link OPEN_MARGIN_MS} after its open and, if it began closing (or was closed) at `closedAt`,
   * done {@link DONE_MARGIN_MS} before that.
   */
  settle(closedAt: number): void {
    if (this.settled || this.openedAt === undefined) return;
    this.settled = true;
    const { ledger } = this;
    const from = ledger.indexAt(this.openedAt + OPEN_MARGIN_MS);
    let expected = 0;
    let inWindow = 0;
    for (let seq = from; seq < ledger.sentAt.length && (ledger.sentAt[seq] as number) < closedAt; seq++) {
      if (closedAt !== Number.POSITIVE_INFINITY && (ledger.doneAt[seq] ?? closedAt) + DONE_MARGIN_MS > closedAt)
        continue;
      expected++;
      if (this.received.has(seq)) inWindow++;
    }
    const tally = ledger.tallies.get(this.kind) as Tally;
    tally.expected += expected;
    tally.received += inWindow;
    tally.missing += expected - inWindow;
    tally.extra += this.received.size - inWindow;
    tally.duplicated += this.duplicated;
    tally.errorFrames += this.errorFrames;
    if (expected >= 3 && this.received.size === 0) {
      tally.deaf++;
      tally.deafMissing += expected - inWindow;
    }
    this.received = new Set();
  }

  /** A clean close (1000). */
  close(): void {
    this.closingAt ??= performance.now();
    this.socket.close(1000, "soak");
  }

  /** Gone without a close frame. */
  terminate(): void {
    this.closingAt ??= performance.now();
    this.socket.terminate();
  }
}

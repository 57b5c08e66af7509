/**
 * One room's messages as the client delivers them: each once (by its number, or its id when it has
 * none), in order, with gaps found and filled. The server numbers a room's messages (`seq`, one more
 * than the last: docs/protocol.md); a number past the next one means messages were missed (a post
 * API Gateway dropped, a socket lost) or are late (two senders' messages overtaking each other).
 * What comes early waits here until the gap before it is filled; what history no longer holds is
 * passed over and counted, and delivered after all if it ever comes.
 */
import { BEFORE_FIRST_MESSAGE, type ChangeFrame, type ChatMessageFrame, messageId } from "./protocol";

/** What a step hands the client to emit, in this order. */
export interface Delivery {
  messages: ChatMessageFrame[];
  /** Edits and deletes found re-reading messages already delivered (made while the client was away). */
  changes: ChangeFrame[];
  /** Messages passed over: history no longer holds them. */
  missed: number;
}

/** Gaps of at most this many numbers are remembered, so a late message is still delivered. */
const LATE_MESSAGES_KEPT = 100;

export class RoomTimeline {
  /** The last number delivered: every one below it was delivered or passed over. */
  private lastSeq: number | undefined;
  /** The last message's id: where `history` after it continues. */
  private lastId: string | undefined;
  /** The room's history as of joining has been read; until then live messages wait. */
  private started = false;
  /** Messages that came before the one they follow, by number. */
  private readonly ahead = new Map<number, ChatMessageFrame>();
  /** Numbers passed over in short gaps: delivered after all if they come. */
  private readonly passedOver = new Set<number>();
  /** The recent messages' state (`editedAt`, or deleted), to tell what changed while away. */
  private readonly recent = new Map<string, string>();
  /** Ids of messages without numbers (stored before rooms numbered them). */
  private readonly unnumbered = new Set<string>();

  /** `keep`: how many recent messages' state is kept (at least the refresh window). */
  constructor(private readonly keep = 200) {}

  /** Whether messages wait for a gap before them to be filled. */
  get hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /** Whether the room's history as of joining has been read. */
  get hasStarted(): boolean {
    return this.started;
  }

  /**
   * Where the room stands when joined: its latest page of history (oldest first), which the
   * client hands over as the join's answer. Live messages that came meanwhile follow.
   */
  start(page: ChatMessageFrame[]): { messages: ChatMessageFrame[]; gap: boolean } {
    for (const message of page) this.record(message);
    this.started = true;
    for (const seq of [...this.ahead.keys()])
      if (this.lastSeq !== undefined && seq <= this.lastSeq) this.ahead.delete(seq);
    const messages: ChatMessageFrame[] = [];
    if (this.lastSeq === undefined) {
      // A room with no history when joined: the first to come sets where it starts.
      const first = Math.min(...this.ahead.keys());
      const message = this.ahead.get(first);
      if (message) {
        this.ahead.delete(first);
        messages.push(this.record(message));
      }
    }
    messages.push(...this.drain());
    return { messages, gap: this.hasGap };
  }

  /** A live message: the messages to deliver now, and whether a gap opened before it. */
  receive(message: ChatMessageFrame): { messages: ChatMessageFrame[]; gap: boolean } {
    const { seq } = message;
    if (seq === undefined) return { messages: this.unnumberedOnce(message), gap: false };
    if (!this.started) {
      this.ahead.set(seq, message);
      return { messages: [], gap: false };
    }
    if (this.lastSeq === undefined || seq === this.lastSeq + 1) {
      this.ahead.delete(seq);
      return { messages: [this.record(message), ...this.drain()], gap: this.hasGap };
    }
    if (seq <= this.lastSeq) return { messages: this.passedOver.delete(seq) ? [this.record(message)] : [], gap: false };
    if (this.ahead.has(seq)) return { messages: [], gap: false };
    this.ahead.set(seq, message);
    return { messages: [], gap: true };
  }

  /**
   * Where to read history from to fill a gap: after the last message delivered, or with `refresh`,
   * that many before it, to see what changed among them while the client was away.
   */
  cursor(refresh = 0): string {
    if (this.lastSeq !== undefined && refresh > 0) return messageId(Math.max(0, this.lastSeq - refresh));
    return this.lastId ?? BEFORE_FIRST_MESSAGE;
  }

  /** A page of `history` after the cursor (oldest first). */
  fill(page: ChatMessageFrame[]): Delivery {
    const delivery: Delivery = { messages: [], changes: [], missed: 0 };
    for (const message of page) {
      const { seq } = message;
      if (seq === undefined) {
        delivery.messages.push(...this.unnumberedOnce(message));
      } else if (this.lastSeq !== undefined && seq <= this.lastSeq) {
        if (this.passedOver.delete(seq)) delivery.messages.push(this.record(message));
        else this.refresh(message, delivery.changes);
      } else {
        delivery.missed += this.passOverTo(seq);
        this.ahead.delete(seq);
        delivery.messages.push(this.record(message));
      }
    }
    delivery.messages.push(...this.drain());
    return delivery;
  }

  /**
   * History has been read to its end: what still waits past a gap came after it was read, so the
   * gap is what history no longer holds. Passed over and counted, and what waited delivered.
   */
  finishFill(): Delivery {
    const delivery: Delivery = { messages: [], changes: [], missed: 0 };
    for (const seq of [...this.ahead.keys()].sort((a, b) => a - b)) {
      const message = this.ahead.get(seq) as ChatMessageFrame;
      this.ahead.delete(seq);
      delivery.missed += this.passOverTo(seq);
      delivery.messages.push(this.record(message));
    }
    return delivery;
  }

  /** A live edit or delete: its state noted, so a refresh does not report it again. */
  change(frame: ChangeFrame): void {
    if (this.recent.has(frame.id)) this.note(frame.id, frame.type === "delete" ? "deleted" : (frame.editedAt ?? ""));
  }

  /** Delivers a message: it is now the last. */
  private record(message: ChatMessageFrame): ChatMessageFrame {
    if (message.seq !== undefined && (this.lastSeq === undefined || message.seq > this.lastSeq)) {
      this.lastSeq = message.seq;
      this.lastId = message.id;
    } else if (message.seq === undefined && this.lastSeq === undefined) {
      this.lastId = message.id;
      this.unnumbered.add(message.id);
    }
    this.note(message.id, stateOf(message));
    return message;
  }

  /** What waits and follows on from the last message, in order. */
  private drain(): ChatMessageFrame[] {
    const messages: ChatMessageFrame[] = [];
    for (;;) {
      const next = this.lastSeq === undefined ? undefined : this.ahead.get(this.lastSeq + 1);
      if (!next) return messages;
      this.ahead.delete((this.lastSeq as number) + 1);
      messages.push(this.record(next));
    }
  }

  /** Passes over the numbers between the last and `seq`; how many. */
  private passOverTo(seq: number): number {
    if (this.lastSeq === undefined || seq <= this.lastSeq + 1) return 0;
    const count = seq - this.lastSeq - 1;
    if (count <= LATE_MESSAGES_KEPT) {
      for (let each = this.lastSeq + 1; each < seq; each++) this.passedOver.add(each);
      for (const old of this.passedOver) {
        if (this.passedOver.size <= LATE_MESSAGES_KEPT) break;
        this.passedOver.delete(old);
      }
    }
    return count;
  }

  private unnumberedOnce(message: ChatMessageFrame): ChatMessageFrame[] {
    if (this.unnumbered.has(message.id)) return [];
    this.unnumbered.add(message.id);
    return [this.record(message)];
  }

  /** A message read again: an edit or delete if its state is not the one last seen. */
  private refresh(message: ChatMessageFrame, changes: ChangeFrame[]): void {
    const seen = this.recent.get(message.id);
    const now = stateOf(message);
    if (seen === undefined || seen === now) return;
    this.note(message.id, now);
    const { room, id, seq } = message;
    changes.push(
      message.deleted
        ? { type: "delete", room, id, ...(seq !== undefined && { seq }), deletedAt: message.deletedAt }
        : { type: "edit", room, id, ...(seq !== undefined && { seq }), data: message.data, editedAt: message.editedAt },
    );
  }

  private note(id: string, state: string): void {
    this.recent.delete(id);
    this.recent.set(id, state);
    if (this.recent.size > this.keep) this.recent.delete(this.recent.keys().next().value as string);
  }
}

function stateOf(message: Pick<ChatMessageFrame, "deleted" | "editedAt">): string {
  return message.deleted ? "deleted" : (message.editedAt ?? "");
}

/**
 * The rooms a client is in, kept across reconnects. A room is joined once by the caller; after
 * each (re)connect the client joins it again (the first named room in the URL, `?room=`, the others
 * with `join`, in the order they were first joined), then reads its history: on the first join its
 * latest page, the join's answer; after that, from the last message delivered, page after page,
 * so that what was sent while the socket was down is delivered in order, and what history no longer
 * holds is counted. While connected, a number that jumps waits briefly for the late ones, then
 * history fills the gap too.
 */
import { ConnectionLostError, RequestRefusedError } from "./errors";
import type { AnswerFrame, ChangeFrame, ChatMessageFrame, HistoryFrame, RoomAnswerFrame } from "./protocol";
import { type Delivery, RoomTimeline } from "./timeline";

/** A room joined: its name, the other user of a direct room, and its latest page of history. */
export interface JoinedRoom {
  room: string;
  with?: string;
  messages: ChatMessageFrame[];
  /** Where "load earlier" continues (`history` with `before`); null at the start of the room's history. */
  before: string | null;
}

/** A gap filled: how many messages it held, and how many history no longer has. */
export interface GapFilled {
  room: string;
  filled: number;
  missed: number;
  /** After a reconnect, or a gap seen while connected. */
  after: "reconnect" | "gap";
}

export interface RoomsContext {
  request(action: string, fields: Record<string, unknown>): Promise<AnswerFrame>;
  /** Whether the connection that `connection` numbered is still the one open. */
  current(connection: number): boolean;
  deliver(room: string, delivery: Delivery): void;
  gapFilled(event: GapFilled): void;
  failed(room: string, error: unknown): void;
  settings: { historyLimit: number; refreshCount: number; reorderWaitMs: number };
}

/** Requests refused for a budget are tried again this many times, as long as the server says. */
const BUDGET_RETRIES = 5;

class Room {
  room: string | undefined;
  /** The connection (its number) the room was last joined on. */
  joinedOn = -1;
  filling = false;
  gapTimer: ReturnType<typeof setTimeout> | undefined;
  readonly timeline = new RoomTimeline();
  ready!: Promise<JoinedRoom>;
  resolve!: (joined: JoinedRoom) => void;
  reject!: (error: unknown) => void;

  constructor(
    target: { room: string } | { with: string },
    /** The other user, for a direct room. */
    readonly withUser = "with" in target ? target.with : undefined,
  ) {
    this.room = "room" in target ? target.room : undefined;
    this.expect();
  }

  /** A new promise of the room's first join (the last one was rejected, or there was none). */
  expect(): void {
    this.ready = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.ready.catch(() => {});
  }
}

export class Rooms {
  private list: Room[] = [];
  private connection = 0;

  constructor(private readonly context: RoomsContext) {}

  /** The rooms wanted, in the order they were joined. */
  get names(): Array<{ room: string; with?: string }> {
    return this.list.flatMap((each) =>
      each.room ? [{ room: each.room, ...(each.withUser && { with: each.withUser }) }] : [],
    );
  }

  /** The room `?room=` joins at the handshake: the first named (not direct) one. */
  get firstNamed(): string | undefined {
    return this.list.find((each) => each.room !== undefined && each.withUser === undefined)?.room;
  }

  /** Whether the room is joined on the connection open now. */
  isJoined(room: string): boolean {
    return this.list.some((each) => each.room === room && each.joinedOn === this.connection);
  }

  /** Wants a room (joining it now if `connection` is open); resolves once joined and its history read. */
  want(target: { room: string } | { with: string }, connection: number | undefined): Promise<JoinedRoom> {
    const known = this.list.find((each) =>
      "room" in target ? each.room === target.room : each.withUser === target.with,
    );
    if (known) return known.ready;
    const room = new Room(target);
    this.list.push(room);
    if (connection !== undefined) void this.join(room, connection);
    return room.ready;
  }

  /** Stops wanting a room: whether it was joined on the open connection. */
  drop(name: string): boolean {
    const room = this.list.find((each) => each.room === name);
    if (!room) return false;
    this.list = this.list.filter((each) => each !== room);
    clearTimeout(room.gapTimer);
    room.reject(new ConnectionLostError(`Left ${name} before it was joined`));
    return room.joinedOn === this.connection;
  }

  /** A connection opened, in `first` already (its `?room=`): every room wanted is joined again. */
  opened(connection: number, first: string): void {
    this.connection = connection;
    for (const room of this.list) {
      if (room.room === first) void this.sync(room, connection);
      else void this.join(room, connection);
    }
  }

  /** The client stopped: rooms never joined say so (and wait for it again, should it be opened again). */
  stopped(why: string): void {
    for (const room of this.list) {
      if (room.timeline.hasStarted) continue;
      room.reject(new ConnectionLostError(why));
      room.expect();
    }
  }

  /** The connection closed: no room is joined until the next one. */
  closed(): void {
    this.connection = -1;
    for (const room of this.list) {
      clearTimeout(room.gapTimer);
      room.filling = false;
    }
  }

  /** A live message: delivered in order, or held while a gap before it is filled. */
  receive(message: ChatMessageFrame): void {
    const room = this.list.find((each) => each.room === message.room);
    if (!room) return;
    const { messages, gap } = room.timeline.receive(message);
    this.context.deliver(message.room, { messages, changes: [], missed: 0 });
    if (gap) this.gapSeen(room);
  }

  change(frame: ChangeFrame): void {
    this.list.find((each) => each.room === frame.room)?.timeline.change(frame);
  }

  private async join(room: Room, connection: number): Promise<void> {
    try {
      const fields = room.withUser !== undefined ? { with: room.withUser } : { room: room.room };
      const answer = (await this.withBudget(connection, "join", fields)) as RoomAnswerFrame;
      if (!this.context.current(connection)) return;
      const twin = this.list.find((each) => each !== room && each.room === answer.room);
      if (twin) {
        // The same direct room, asked for twice before the first answer named it.
        this.list = this.list.filter((each) => each !== room);
        room.resolve(await twin.ready);
        return;
      }
      room.room = answer.room;
      await this.sync(room, connection);
    } catch (error) {
      this.refused(room, connection, error);
    }
  }

  /** Joined on `connection`: reads the room's history as of now, or from where the client left it. */
  private async sync(room: Room, connection: number): Promise<void> {
    room.joinedOn = connection;
    const name = room.room as string;
    try {
      if (room.timeline.hasStarted) {
        await this.fill(room, connection, "reconnect");
        return;
      }
      const limit = this.context.settings.historyLimit;
      const page = (await this.withBudget(connection, "history", { room: name, limit })) as HistoryFrame;
      if (!this.context.current(connection)) return;
      const { messages, gap } = room.timeline.start(page.messages);
      room.resolve({
        room: name,
        ...(room.withUser && { with: room.withUser }),
        messages: page.messages,
        before: page.before ?? null,
      });
      // After the caller has the page: what came live meanwhile follows it.
      await Promise.resolve();
      this.context.deliver(name, { messages, changes: [], missed: 0 });
      if (gap) this.gapSeen(room);
    } catch (error) {
      this.refused(room, connection, error);
    }
  }

  /** A gap while connected: the late messages get a moment to come, then history fills it. */
  private gapSeen(room: Room): void {
    if (room.filling || room.gapTimer !== undefined) return;
    const connection = this.connection;
    room.gapTimer = setTimeout(() => {
      room.gapTimer = undefined;
      if (room.timeline.hasGap && this.context.current(connection)) void this.fill(room, connection, "gap");
    }, this.context.settings.reorderWaitMs);
  }

  /** Reads history after the last message delivered until it reaches the newest. */
  private async fill(room: Room, connection: number, after: GapFilled["after"]): Promise<void> {
    const name = room.room as string;
    room.filling = true;
    clearTimeout(room.gapTimer);
    room.gapTimer = undefined;
    let filled = 0;
    let missed = 0;
    let cursor: string | null = room.timeline.cursor(after === "reconnect" ? this.context.settings.refreshCount : 0);
    try {
      while (cursor !== null) {
        const fields = { room: name, after: cursor, limit: 100 };
        const page = (await this.withBudget(connection, "history", fields)) as HistoryFrame;
        if (!this.context.current(connection)) return;
        const delivery = room.timeline.fill(page.messages);
        filled += delivery.messages.length;
        missed += delivery.missed;
        this.context.deliver(name, delivery);
        cursor = page.after ?? null;
      }
      const rest = room.timeline.finishFill();
      filled += rest.messages.length;
      missed += rest.missed;
      this.context.deliver(name, rest);
      this.context.gapFilled({ room: name, filled, missed, after });
    } catch (error) {
      if (!(error instanceof ConnectionLostError)) this.context.failed(name, error);
    } finally {
      if (this.context.current(connection)) room.filling = false;
    }
  }

  /** A request, tried again while the server refuses it for a budget and says when to come back. */
  private async withBudget(connection: number, action: string, fields: Record<string, unknown>): Promise<AnswerFrame> {
    for (let tries = 0; ; tries++) {
      try {
        return await this.context.request(action, fields);
      } catch (error) {
        const wait = error instanceof RequestRefusedError ? error.retryAfterSeconds : undefined;
        if (wait === undefined || tries >= BUDGET_RETRIES || !this.context.current(connection)) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      }
    }
  }

  /** A join or its history refused: a room never joined is given up; a lost connection tries again on the next. */
  private refused(room: Room, connection: number, error: unknown): void {
    if (error instanceof ConnectionLostError || !this.context.current(connection)) return;
    if (room.timeline.hasStarted) {
      this.context.failed(room.room ?? "", error);
      return;
    }
    this.list = this.list.filter((each) => each !== room);
    room.reject(error);
  }
}

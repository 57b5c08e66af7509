/**
 * One room's timeline in the client library: each message once and in order, a gap noticed when
 * the room's numbers jump, filled from history, and what history no longer holds counted.
 */
import test from "ava";
import { RoomTimeline } from "../../../client/timeline";
import type { ChatMessageFrame } from "../../../functions/chat/message";

const message = (seq: number, extra: Partial<ChatMessageFrame> = {}): ChatMessageFrame => ({
  type: "message",
  id: `s${String(seq).padStart(12, "0")}`,
  seq,
  room: "kitchen",
  connectionId: "c=",
  data: `m${seq}`,
  sentAt: "2026-12-07T10:00:00.000Z",
  ...extra,
});
const seqs = (messages: ChatMessageFrame[]) => messages.map((each) => each.seq);

test("live messages in order are delivered as they come; the same number again is dropped", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([message(1), message(2)]);
  t.deepEqual(seqs(timeline.receive(message(3)).messages), [3]);
  t.deepEqual(seqs(timeline.receive(message(4)).messages), [4]);
  t.deepEqual(timeline.receive(message(4)), { messages: [], gap: false }, "a duplicate");
  t.deepEqual(timeline.receive(message(2)), { messages: [], gap: false }, "one the join's history held");
});

test("a jump is a gap: what comes early waits, and is delivered in order once the late one comes", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([message(1)]);
  t.deepEqual(timeline.receive(message(3)), { messages: [], gap: true });
  t.deepEqual(timeline.receive(message(4)), { messages: [], gap: true });
  t.true(timeline.hasGap);
  t.deepEqual(timeline.receive(message(3)), { messages: [], gap: false }, "a duplicate of one waiting");
  const { messages, gap } = timeline.receive(message(2));
  t.deepEqual(seqs(messages), [2, 3, 4]);
  t.false(gap);
  t.false(timeline.hasGap);
});

test("history fills a gap from the last message: what it holds is delivered once, what waited follows", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([message(1)]);
  timeline.receive(message(5));
  t.is(timeline.cursor(), message(1).id);
  const filled = timeline.fill([message(2), message(3), message(4), message(5)]);
  t.deepEqual(seqs(filled.messages), [2, 3, 4, 5]);
  t.is(filled.missed, 0);
  t.deepEqual(timeline.finishFill(), { messages: [], changes: [], missed: 0 });
  t.deepEqual(timeline.receive(message(5)).messages, [], "delivered once");
  t.is(timeline.cursor(), message(5).id);
});

test("messages history no longer holds are counted as missed, and delivered after all if one comes late", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([message(1)]);
  // 2 to 6 expired: history after 1 starts at 7.
  const filled = timeline.fill([message(7), message(8)]);
  t.deepEqual(seqs(filled.messages), [7, 8]);
  t.is(filled.missed, 5);
  t.deepEqual(seqs(timeline.receive(message(4)).messages), [4], "passed over, then it came: shown");
  t.deepEqual(timeline.receive(message(4)).messages, [], "once");
});

test("what still waits when history has been read to its end is past a gap history cannot fill", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([message(1)]);
  timeline.receive(message(9));
  timeline.receive(message(10));
  t.deepEqual(timeline.fill([]), { messages: [], changes: [], missed: 0 });
  const rest = timeline.finishFill();
  t.deepEqual(seqs(rest.messages), [9, 10]);
  t.is(rest.missed, 7);
  t.false(timeline.hasGap);
});

test("before the join's history is read live messages wait; those it holds are not delivered twice", (t) => {
  const timeline = new RoomTimeline();
  t.deepEqual(timeline.receive(message(3)), { messages: [], gap: false });
  t.deepEqual(timeline.receive(message(4)), { messages: [], gap: false });
  const started = timeline.start([message(1), message(2), message(3)]);
  t.deepEqual(seqs(started.messages), [4]);
  t.false(started.gap);
});

test("a room empty when joined starts at its first message, however numbered; no gap is counted before it", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([]);
  t.is(timeline.cursor(), "s000000000000");
  // Messages 1 to 56 expired before the client came.
  t.deepEqual(seqs(timeline.receive(message(57)).messages), [57]);
  t.deepEqual(seqs(timeline.receive(message(58)).messages), [58]);

  const other = new RoomTimeline();
  other.start([]);
  const filled = other.fill([message(57), message(58)]);
  t.deepEqual(seqs(filled.messages), [57, 58]);
  t.is(filled.missed, 0);
});

test("a refresh reads messages already delivered again: what was edited or deleted meanwhile is reported once", (t) => {
  const timeline = new RoomTimeline();
  timeline.start([message(1), message(2), message(3)]);
  t.is(timeline.cursor(2), message(1).id, "two before the last");
  const edited = message(2, { data: "better", editedAt: "2026-12-07T10:05:00.000Z" });
  const deleted = message(3, { data: "", deleted: true, deletedAt: "2026-12-07T10:06:00.000Z" });
  const delivery = timeline.fill([edited, deleted, message(4)]);
  t.deepEqual(seqs(delivery.messages), [4]);
  t.deepEqual(delivery.changes, [
    { type: "edit", room: "kitchen", id: edited.id, seq: 2, data: "better", editedAt: edited.editedAt },
    { type: "delete", room: "kitchen", id: deleted.id, seq: 3, deletedAt: deleted.deletedAt },
  ]);
  t.deepEqual(timeline.fill([edited, deleted]).changes, [], "told once");

  // A live edit noted: a later refresh does not report it again.
  timeline.change({
    type: "edit",
    room: "kitchen",
    id: message(4).id,
    data: "x",
    editedAt: "2026-12-07T10:07:00.000Z",
  });
  t.deepEqual(timeline.fill([message(4, { data: "x", editedAt: "2026-12-07T10:07:00.000Z" })]).changes, []);
});

test("messages stored before rooms numbered them are delivered once, by id", (t) => {
  const timeline = new RoomTimeline();
  const old = message(0, { id: "2026-11-27T02:53:56.323Z#BFHPjGzrIAMFfXw=", seq: undefined });
  timeline.start([old]);
  t.is(timeline.cursor(), old.id, "history continues after it");
  t.deepEqual(timeline.fill([old, message(1)]).messages, [message(1)]);
});

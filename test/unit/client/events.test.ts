/**
 * Frames as the client library's typed events: each kind to its event, a room's messages only while
 * it is joined, typing notices sent at most every few seconds (and their refusals not worth a word),
 * and anything the client cannot read said as an error rather than dropped.
 */
import test from "ava";
import { ChatClient } from "../../../client/chat-client";
import { clientOnFakes, connected, texts } from "./client-support";

test.serial(
  "each frame to its event: presence, typing, invite, edit, delete, and a refusal that answers nothing",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    const { ws, events } = fixture;
    await connected(fixture, ["kitchen"]);
    const presence = { type: "presence", event: "join", room: "kitchen", connectionId: "b=", name: "Bob", at: "t" };
    const typing = { type: "typing", room: "kitchen", connectionId: "b=", userId: "guest-bob", name: "Bob" };
    const invite = { type: "invite", room: "dm-x", from: { userId: "guest-bob", name: "Bob" } };
    const edit = { type: "edit", room: "kitchen", id: "s000000000001", seq: 1, data: "new", editedAt: "t" };
    const remove = { type: "delete", room: "kitchen", id: "s000000000001", seq: 1, deletedAt: "t" };
    for (const frame of [presence, typing, invite, edit, remove]) ws.last.receive(frame);
    ws.last.receive({
      type: "error",
      message: 'This connection is not in room "attic": join it first',
      requestId: "r",
    });
    ws.last.receive("not JSON");
    ws.last.receive({ type: "surprise" });
    t.deepEqual(events.presence, [presence]);
    t.deepEqual(events.typing, [typing]);
    t.deepEqual(events.invite, [invite]);
    t.deepEqual(events.edit, [edit]);
    t.deepEqual(events.delete, [remove]);
    t.deepEqual(events.error, [
      { message: 'This connection is not in room "attic": join it first', requestId: "r" },
      { message: "Unexpected frame from the server: not JSON" },
      { message: 'Unexpected frame from the server: {"type":"surprise"}' },
    ]);
  },
);

test.serial("a room left sends nothing more, and is not joined again after a reconnect", async (t) => {
  const fixture = clientOnFakes();
  t.teardown(fixture.done);
  const { chat, ws, events, client, clock, settle } = fixture;
  await connected(fixture, ["kitchen", "garden"]);
  await client.leave("garden");
  t.deepEqual(
    ws.last.requests("leave").map((leave) => leave.room),
    ["garden"],
  );
  ws.last.receive(chat.post("garden", "after leaving"));
  ws.last.receive(chat.post("kitchen", "still here"));
  t.deepEqual(texts(events, "garden"), []);
  t.deepEqual(texts(events, "kitchen"), ["still here"]);
  ws.last.drop();
  await clock.tickAsync(250);
  ws.last.open();
  await settle();
  t.deepEqual(ws.last.requests("join"), []);
  t.deepEqual(client.joinedRooms, [{ room: "kitchen" }]);
});

test.serial("typing notices go at most every few seconds per room; their refusals are not errors", async (t) => {
  const fixture = clientOnFakes({ typingIntervalMs: 3000 });
  t.teardown(fixture.done);
  const { client, ws, events, clock } = fixture;
  await connected(fixture, ["kitchen", "garden"]);
  client.typing("kitchen");
  client.typing("kitchen");
  client.typing("garden");
  await clock.tickAsync(2999);
  client.typing("kitchen");
  t.deepEqual(
    ws.last.requests("typing").map((notice) => notice.room),
    ["kitchen", "garden"],
  );
  await clock.tickAsync(1);
  client.typing("kitchen");
  client.typing("attic");
  t.deepEqual(
    ws.last.requests("typing").map((notice) => notice.room),
    ["kitchen", "garden", "kitchen"],
  );
  ws.last.receive({
    type: "error",
    message: "Too many typing notices",
    requestId: "r",
    ref: "typing",
    retryAfterSeconds: 2,
  });
  t.deepEqual(events.error, []);
});

test.serial("without a WebSocket class on the platform or in the options, the client says how to give it one", (t) => {
  // Node 20 has none; Node 22 on and browsers have theirs.
  const platform = Object.getOwnPropertyDescriptor(globalThis, "WebSocket");
  delete (globalThis as { WebSocket?: unknown }).WebSocket;
  t.teardown(() => {
    if (platform) Object.defineProperty(globalThis, "WebSocket", platform);
  });
  t.throws(() => new ChatClient({ url: "wss://chat.example/dev" }), { message: /pass one as options.WebSocket/ });
});

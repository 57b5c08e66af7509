/**
 * The client library across reconnects: rooms joined again in order (the first in the URL, the
 * others with `join`), each room's gap filled from its last message (paging, once, in order, what
 * changed meanwhile reported, what history lost counted), and gaps seen while connected.
 */
import test from "ava";
import { clientOnFakes, connected, texts } from "./client-support";

test.serial(
  "rejoin order: the first named room in ?room=, the others joined in the order they were, direct rooms with `with`",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    const { client, ws, settle } = fixture;
    await connected(fixture, ["kitchen", "garden"]);
    t.is(ws.sockets[0]?.room, "kitchen");
    t.deepEqual(
      ws.sockets[0]?.requests("join").map((join) => join.room),
      ["garden"],
    );
    const direct = await client.joinDirect("guest-bob");
    t.is(direct.room, "dm-guest-bob", "the answer names the room");
    await client.join("attic");
    t.deepEqual(client.joinedRooms, [
      { room: "kitchen" },
      { room: "garden" },
      { room: "dm-guest-bob", with: "guest-bob" },
      { room: "attic" },
    ]);

    ws.last.drop();
    await fixture.clock.tickAsync(250);
    t.is(ws.sockets.length, 2, "one reconnect, after the jittered delay");
    ws.last.open();
    await settle();
    t.is(ws.last.room, "kitchen");
    t.deepEqual(
      ws.last.requests("join").map(({ room, with: other }) => room ?? `with ${other}`),
      ["garden", "with guest-bob", "attic"],
    );
    t.deepEqual(ws.last.requests("leave"), []);

    // Leaving the first room: the next named one is the URL's on the next connection.
    await client.leave("kitchen");
    ws.last.drop();
    await fixture.clock.tickAsync(1000);
    ws.last.open();
    await settle();
    t.is(ws.last.room, "garden");
    t.deepEqual(
      ws.last.requests("join").map(({ room, with: other }) => room ?? `with ${other}`),
      ["with guest-bob", "attic"],
    );
  },
);

test.serial("with only direct rooms wanted, the handshake's lobby is left again", async (t) => {
  const fixture = clientOnFakes();
  t.teardown(fixture.done);
  const joined = fixture.client.joinDirect("guest-bob");
  const opened = fixture.client.open();
  await fixture.settle();
  t.is(fixture.ws.last.room, "lobby");
  fixture.ws.last.open();
  await opened;
  t.is((await joined).room, "dm-guest-bob");
  t.deepEqual(
    fixture.ws.last.requests("leave").map((leave) => leave.room),
    ["lobby"],
  );
});

test.serial(
  "after a reconnect every room's gap is filled from its last message: page after page, once, in order",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    const { chat, ws, events, settle } = fixture;
    chat.post("kitchen", "k0");
    await connected(fixture, ["kitchen", "garden"]);
    chat.post("kitchen", "k1");
    ws.last.receive(chat.rooms.get("kitchen")?.at(-1) as object);

    ws.last.drop();
    // 150 in the kitchen (two pages of history), 3 in the garden, while the socket is down.
    for (let i = 2; i < 152; i++) chat.post("kitchen", `k${i}`);
    for (let i = 0; i < 3; i++) chat.post("garden", `g${i}`);
    await fixture.clock.tickAsync(250);
    ws.last.open();
    await settle();
    // A message sent as the client came back, live, while its history is read: once, in its place.
    const live = chat.post("kitchen", "k152");
    ws.last.receive(live);
    ws.last.receive(live);
    await settle();

    t.deepEqual(
      texts(events, "kitchen"),
      Array.from({ length: 152 }, (_, i) => `k${i + 1}`),
    );
    t.deepEqual(texts(events, "garden"), ["g0", "g1", "g2"]);
    const kitchenReads = ws.last.requests("history").filter((request) => request.room === "kitchen");
    t.deepEqual(
      kitchenReads.map((request) => request.after),
      ["s000000000000", "s000000000100"],
      "from 20 before the last seen (edits made meanwhile), then the next page",
    );
    t.deepEqual(
      events["gap-filled"]
        .map(({ room, filled, missed, after }) => ({ room, filled, missed, after }))
        .sort((a, b) => a.room.localeCompare(b.room)),
      [
        { room: "garden", filled: 3, missed: 0, after: "reconnect" },
        { room: "kitchen", filled: 150, missed: 0, after: "reconnect" },
      ],
    );
  },
);

test.serial("edits and deletes made while away are reported after the reconnect; live ones as they come", async (t) => {
  const fixture = clientOnFakes();
  t.teardown(fixture.done);
  const { chat, ws, events, settle } = fixture;
  for (const text of ["a", "b", "c"]) chat.post("kitchen", text);
  await connected(fixture, ["kitchen"]);
  const [first, second] = chat.rooms.get("kitchen") ?? [];
  ws.last.receive({
    type: "edit",
    room: "kitchen",
    id: first?.id,
    seq: 1,
    data: "a!",
    editedAt: "2026-12-07T10:00:00.000Z",
  });
  Object.assign(first as object, { data: "a!", editedAt: "2026-12-07T10:00:00.000Z" });

  ws.last.drop();
  Object.assign(second as object, { data: "", deleted: true, deletedAt: "2026-12-07T10:01:00.000Z" });
  await fixture.clock.tickAsync(250);
  ws.last.open();
  await settle();

  t.deepEqual(
    events.edit.map(({ id, data }) => ({ id, data })),
    [{ id: first?.id, data: "a!" }],
    "the live edit, once",
  );
  t.deepEqual(
    events.delete.map(({ id }) => id),
    [second?.id],
    "the delete made while away",
  );
  t.deepEqual(events.message, []);
});

test.serial(
  "a jump while connected waits briefly: a late message fills it without a read; else history does",
  async (t) => {
    const fixture = clientOnFakes({ reorderWaitMs: 500 });
    t.teardown(fixture.done);
    const { chat, ws, events, settle, clock } = fixture;
    await connected(fixture, ["kitchen"]);
    const [m1, m2, m3, m4, m5] = ["1", "2", "3", "4", "5"].map((text) => chat.post("kitchen", text));
    ws.last.receive(m1 as object);
    ws.last.receive(m3 as object);
    await clock.tickAsync(200);
    ws.last.receive(m2 as object);
    await clock.tickAsync(500);
    t.deepEqual(texts(events, "kitchen"), ["1", "2", "3"]);
    t.is(ws.last.requests("history").length, 1, "only the join's read");

    // 4 never comes (API Gateway dropped the post): after the wait, history brings it.
    ws.last.receive(m5 as object);
    await clock.tickAsync(499);
    t.deepEqual(texts(events, "kitchen"), ["1", "2", "3"]);
    await clock.tickAsync(1);
    await settle();
    t.deepEqual(texts(events, "kitchen"), ["1", "2", "3", "4", "5"]);
    t.like(ws.last.requests("history").at(-1), { room: "kitchen", after: m3?.id });
    t.like(events["gap-filled"].at(-1), { room: "kitchen", filled: 2, missed: 0, after: "gap" });
    t.is(m4?.data, "4");
  },
);

test.serial("a gap past history's reach is reported as missed; what history still has is delivered", async (t) => {
  const fixture = clientOnFakes();
  t.teardown(fixture.done);
  const { chat, ws, events, settle } = fixture;
  chat.post("kitchen", "seen");
  await connected(fixture, ["kitchen"]);
  ws.last.drop();
  for (let i = 0; i < 30; i++) chat.post("kitchen", `away ${i}`);
  // The oldest 25 expired: history no longer answers them.
  chat.rooms.get("kitchen")?.splice(1, 25);
  await fixture.clock.tickAsync(250);
  ws.last.open();
  await settle();
  t.deepEqual(texts(events, "kitchen"), ["away 25", "away 26", "away 27", "away 28", "away 29"]);
  t.like(events["gap-filled"][0], { room: "kitchen", filled: 5, missed: 25, after: "reconnect" });
});

test.serial("a read refused for the budget is tried again when the server says", async (t) => {
  const fixture = clientOnFakes();
  t.teardown(fixture.done);
  const { chat, ws, events, settle, clock } = fixture;
  chat.post("kitchen", "seen");
  await connected(fixture, ["kitchen"]);
  ws.last.drop();
  chat.post("kitchen", "while away");
  await clock.tickAsync(250);
  const socket = ws.last;
  let refusals = 1;
  socket.answer = (request, s) => {
    if (request.action === "history" && refusals-- > 0) {
      s.receive({ type: "error", message: "Too many reads", requestId: "r", ref: request.ref, retryAfterSeconds: 3 });
    } else chat.serve(request, s);
  };
  socket.open();
  await settle();
  t.deepEqual(texts(events, "kitchen"), []);
  await clock.tickAsync(3000);
  await settle();
  t.deepEqual(texts(events, "kitchen"), ["while away"]);
  t.deepEqual(events.error, []);
});

/**
 * One connection in many rooms, over real sockets against the embedded DynamoDB: `join` and
 * `leave` without reconnecting, each room's frames to its members only, `$disconnect` telling every
 * room, typing, edits and deletes by their author alone, and direct rooms no third user can enter.
 * The protocol is docs/protocol.md.
 */
import test from "ava";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { chatGateway, messagesAt, signIn, within } from "../../support/chat";
import { connect, eventually, type TestClient } from "../../support/websocket";

type Frame = { type: string; [field: string]: unknown };

const framesAt = (client: TestClient, type: string): Frame[] =>
  client.received
    .filter((raw): raw is string => typeof raw === "string")
    .map((raw) => JSON.parse(raw) as Frame)
    .filter((frame) => frame.type === type);

/** Sends `request` with a fresh `ref` and resolves the frame that answers it. */
let refs = 0;
async function ask(client: TestClient, request: object): Promise<Frame> {
  const ref = `r${++refs}`;
  client.socket.send(JSON.stringify({ ...request, ref }));
  let answer: Frame | undefined;
  await within(
    5000,
    JSON.stringify(request),
    eventually(() => {
      answer = [
        ...framesAt(client, "ack"),
        ...framesAt(client, "joined"),
        ...framesAt(client, "left"),
        ...framesAt(client, "error"),
        ...framesAt(client, "who"),
        ...framesAt(client, "history"),
      ].find((frame) => frame.ref === ref);
      return answer !== undefined;
    }),
  );
  return answer as Frame;
}

test("a connection in three rooms receives each room's messages and only those; leave stops them", async (t) => {
  const gw = await chatGateway();
  t.teardown(gw.close);
  const ada = await connect(`${gw.url}?room=kitchen&name=Ada`);
  t.like(await ask(ada, { action: "join", room: "garden" }), { type: "joined", room: "garden" });
  t.like(await ask(ada, { action: "join", room: "attic" }), { type: "joined", room: "attic" });
  const others = await Promise.all(
    ["kitchen", "garden", "attic", "cellar"].map((room) => connect(`${gw.url}?room=${room}`)),
  );
  for (const [i, room] of ["kitchen", "garden", "attic", "cellar"].entries()) {
    t.like(await ask(others[i] as TestClient, { action: "sendmessage", data: `in the ${room}` }), {
      type: "ack",
      room,
    });
  }
  await eventually(() => messagesAt(ada).length === 3);
  t.deepEqual(
    messagesAt(ada)
      .map((m) => `${m.room}: ${m.data}`)
      .sort(),
    ["attic: in the attic", "garden: in the garden", "kitchen: in the kitchen"],
  );

  t.like(await ask(ada, { action: "leave", room: "garden" }), { type: "left", room: "garden" });
  await ask(others[1] as TestClient, { action: "sendmessage", data: "garden again" });
  await ask(others[0] as TestClient, { action: "sendmessage", data: "kitchen again" });
  await eventually(() => messagesAt(ada).some((m) => m.data === "kitchen again"));
  t.false(
    messagesAt(ada).some((m) => m.data === "garden again"),
    "the garden, left, sends nothing",
  );
  // A room it is not in is refused, and names the room.
  const refused = await ask(ada, { action: "sendmessage", room: "garden", data: "hello?" });
  t.like(refused, { type: "error", message: 'This connection is not in room "garden": join it first' });
});

test("$disconnect tells every room the connection was in, once each", async (t) => {
  const gw = await chatGateway();
  t.teardown(gw.close);
  const ada = await connect(`${gw.url}?room=kitchen&name=Ada`);
  await ask(ada, { action: "join", room: "garden" });
  await ask(ada, { action: "join", room: "attic" });
  const listeners = await Promise.all(["kitchen", "garden", "attic"].map((room) => connect(`${gw.url}?room=${room}`)));
  ada.socket.close();
  for (const listener of listeners)
    await eventually(() => framesAt(listener, "presence").some((f) => f.event === "leave"));
  for (const [i, room] of ["kitchen", "garden", "attic"].entries()) {
    const leaves = framesAt(listeners[i] as TestClient, "presence").filter((f) => f.event === "leave");
    t.deepEqual(
      leaves.map((f) => `${f.room} ${f.name}`),
      [`${room} Ada`],
    );
  }
  await eventually(async () => (await gw.table.memberships()).length === 3, 5000);
  t.is((await gw.table.rows()).length, 3, "Ada's row and memberships are gone; the listeners' stay");
});

test("typing reaches the room's others, not the typist, and past its budget is refused", async (t) => {
  const gw = await chatGateway({
    functionEnvironment: { RATE_LIMITS: JSON.stringify({ typing: { perUser: 2, perAddress: 100, seconds: 3600 } }) },
  });
  t.teardown(gw.close);
  const ada = await connect(`${gw.url}?room=kitchen&name=Ada`);
  const bob = await connect(`${gw.url}?room=kitchen&name=Bob`);
  for (let i = 0; i < 3; i++) ada.socket.send(JSON.stringify({ action: "typing", room: "kitchen", ref: `t${i}` }));
  await eventually(() => framesAt(bob, "typing").length === 2 && framesAt(ada, "error").length === 1);
  t.like(framesAt(bob, "typing")[0], { room: "kitchen", name: "Ada" });
  t.is(framesAt(ada, "typing").length, 0);
  t.like(framesAt(ada, "error")[0], { ref: "t2" });
  t.regex(String(framesAt(ada, "error")[0]?.message), /^Too many typing notices: at most 2 every 3600 s from one user/);
});

test("only the author edits or deletes a message; the room sees each change and history answers the result", async (t) => {
  const gw = await chatGateway({ auth: { mode: "guest" } });
  t.teardown(gw.close);
  const origin = `http://127.0.0.1:${gw.port}`;
  const join = async (name: string) => connect(`${gw.url}?room=kitchen&token=${(await signIn(origin, name)).token}`);
  const ada = await join("Ada");
  const eve = await join("Eve");
  const sent = await ask(ada, { action: "sendmessage", data: "first draft" });
  const doomed = await ask(ada, { action: "sendmessage", data: "regrettable" });
  const id = sent.id as string;
  t.like(await ask(eve, { action: "edit", id, data: "Eve was here" }), {
    type: "error",
    message: "Only its author may edit a message, while it is there",
  });
  t.like(await ask(eve, { action: "delete", id }), { type: "error" });
  t.like(await ask(ada, { action: "edit", id, data: "final text" }), { type: "ack", id });
  t.like(await ask(ada, { action: "delete", id: doomed.id }), { type: "ack", id: doomed.id });
  t.like(
    await ask(ada, { action: "edit", id: doomed.id, data: "undo?" }),
    { type: "error" },
    "a deleted message stays deleted",
  );
  await eventually(() => framesAt(eve, "edit").length === 1 && framesAt(eve, "delete").length === 1);
  t.like(framesAt(eve, "edit")[0], { room: "kitchen", id, data: "final text" });
  t.like(framesAt(eve, "delete")[0], { room: "kitchen", id: doomed.id });
  const history = (await ask(eve, { action: "history" })).messages as ChatMessageFrame[];
  t.like(history[0], { id, data: "final text", seq: 1 });
  t.truthy(history[0]?.editedAt);
  t.like(history[1], { id: doomed.id, data: "", deleted: true, seq: 2 });
});

test("a direct room: the two join it from each other's ids, an invite reaches the other, a third user cannot get in", async (t) => {
  const gw = await chatGateway({ auth: { mode: "guest" }, functionEnvironment: { RATE_LIMITS: "{}" } });
  t.teardown(gw.close);
  const origin = `http://127.0.0.1:${gw.port}`;
  const people = await Promise.all(["Ada", "Bob", "Eve"].map((name) => signIn(origin, name)));
  const [ada, bob, eve] = await Promise.all(people.map((person) => connect(`${gw.url}?token=${person.token}`)));
  const [adaId, bobId] = people.map((person) => person.userId);
  const opened = await ask(ada as TestClient, { action: "join", with: bobId });
  t.like(opened, { type: "joined", with: bobId });
  const room = opened.room as string;
  t.regex(room, /^dm-[A-Za-z0-9_-]{43}$/);
  await eventually(() => framesAt(bob as TestClient, "invite").length === 1);
  t.like(framesAt(bob as TestClient, "invite")[0], { room, from: { userId: adaId, name: "Ada" } });
  t.like(await ask(bob as TestClient, { action: "join", with: adaId }), { type: "joined", room });
  await ask(ada as TestClient, { action: "sendmessage", room, data: "just us" });
  await eventually(() => messagesAt(bob as TestClient).some((m) => m.data === "just us"));
  // Eve knows both ids: with Bob's she reaches her own room with Bob; by its name, nothing.
  t.not((await ask(eve as TestClient, { action: "join", with: bobId })).room, room);
  t.like(await ask(eve as TestClient, { action: "join", room }), { type: "error" });
  t.like(await ask(eve as TestClient, { action: "sendmessage", room, data: "let me in" }), { type: "error" });
  t.false(messagesAt(eve as TestClient).some((m) => m.data === "just us"));
});

test("with no sign-in there are no direct rooms: there is no identity to check", async (t) => {
  const gw = await chatGateway();
  t.teardown(gw.close);
  const ada = await connect(gw.url);
  t.like(await ask(ada, { action: "join", with: "guest-someone" }), {
    type: "error",
    message: "Direct rooms need signed-in users: this chat has no sign-in",
  });
});

test("a connection is in at most roomsPerConnection rooms", async (t) => {
  const gw = await chatGateway({ functionEnvironment: { ROOMS_PER_CONNECTION: "3" } });
  t.teardown(gw.close);
  const ada = await connect(`${gw.url}?room=one`);
  await ask(ada, { action: "join", room: "two" });
  await ask(ada, { action: "join", room: "three" });
  t.like(await ask(ada, { action: "join", room: "four" }), {
    type: "error",
    message: "A connection may be in at most 3 rooms at once: leave one first",
  });
  await ask(ada, { action: "leave", room: "one" });
  t.like(await ask(ada, { action: "join", room: "four" }), { type: "joined" });
});

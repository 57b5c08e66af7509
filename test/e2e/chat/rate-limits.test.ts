/**
 * What one identity may do, over real sockets against the embedded DynamoDB, each attack as it was
 * tried against the deployed design: one guest token across many connections, many users behind
 * one address, reads without end, a connection flood, and joins used to flood a room. API Gateway's
 * stage throttling counts every client together ("Protect your WebSocket APIs", throttling: limits
 * apply per route, across all clients), and WAF cannot be attached to a WebSocket API, so the chat
 * limits each user and each source address itself, before every route a client can call.
 */
import test from "ava";
import type { LocalGatewayOptions } from "../../../local/express-server";
import { chatGateway, messagesAt, say, signIn, within } from "../../support/chat";
import { connect, eventually, type TestClient } from "../../support/websocket";

/** Budgets over windows long enough that nothing refills while a test runs. */
function limited(limits: object): LocalGatewayOptions {
  return { auth: { mode: "guest" }, functionEnvironment: { RATE_LIMITS: JSON.stringify(limits) } };
}

async function guestGateway(limits: object) {
  const gw = await chatGateway(limited(limits));
  const origin = `http://127.0.0.1:${gw.port}`;
  const token = async (name: string) => (await signIn(origin, name)).token;
  return { gw, token, join: (token: string, room: string) => connect(`${gw.url}?room=${room}&token=${token}`) };
}

function errorsAt(client: TestClient) {
  return client.received
    .filter((raw): raw is string => typeof raw === "string")
    .map((raw) => JSON.parse(raw) as { type: string; message?: string; retryAfterSeconds?: number })
    .filter((frame) => frame.type === "error");
}

const refusedStatus = (attempt: Promise<TestClient>) =>
  attempt.then(
    (client) => {
      client.socket.close();
      return 101;
    },
    (error: Error & { status?: number }) => error.status ?? 0,
  );

test("one user's message limit holds across all their connections: 4 tabs sending 6 each get 5 through", async (t) => {
  const { gw, token, join } = await guestGateway({ messages: { perUser: 5, perAddress: 1000, seconds: 3600 } });
  t.teardown(gw.close);
  const eve = await token("Eve");
  const tabs = await Promise.all(Array.from({ length: 4 }, () => join(eve, "limits")));
  const listener = await join(await token("Ear"), "limits");
  for (const [i, tab] of tabs.entries()) for (let m = 0; m < 6; m++) say(tab, `tab ${i} message ${m}`);
  const refusals = () => tabs.flatMap(errorsAt);
  await within(
    15_000,
    "24 answers",
    eventually(() => messagesAt(listener).length === 5 && refusals().length === 19, 15_000),
  );
  for (const error of refusals()) {
    t.regex(error.message ?? "", /^Too many messages: at most 5 every 3600 s from one user; try again in \d+ s$/);
    t.true((error.retryAfterSeconds ?? 0) > 0);
  }
  // The refusal is a 429 in the execution log, as the handler answered it.
  t.is(gw.log.filter((line) => / sendmessage .*status=429/.test(line)).length, 19);
  // Another user's budget is untouched.
  say(listener, "still here");
  await within(
    5000,
    "the listener's message",
    eventually(() => messagesAt(tabs[0] as TestClient).some((m) => m.data === "still here")),
  );
  t.is(messagesAt(listener).length, 6);
  // A refused message is not stored: the room's history holds what was delivered, nothing else.
  listener.socket.send(JSON.stringify({ action: "history", room: "limits", ref: "h" }));
  const history = () =>
    listener.received
      .map((raw) => JSON.parse(String(raw)) as { type: string; messages?: { data: string }[] })
      .find((frame) => frame.type === "history");
  await within(
    5000,
    "history",
    eventually(() => history() !== undefined),
  );
  t.deepEqual(
    history()
      ?.messages?.map((message) => message.data)
      .sort(),
    messagesAt(listener)
      .map((message) => message.data)
      .sort(),
  );
});

test("users behind one source address share its budget: past it, each gets the address's refusal", async (t) => {
  const { gw, token, join } = await guestGateway({ messages: { perUser: 100, perAddress: 6, seconds: 3600 } });
  t.teardown(gw.close);
  const [ada, bob] = await Promise.all([join(await token("Ada"), "office"), join(await token("Bob"), "office")]);
  for (let m = 0; m < 4; m++) {
    say(ada, `ada ${m}`);
    say(bob, `bob ${m}`);
  }
  await within(
    10_000,
    "8 answers",
    eventually(() => messagesAt(ada).length === 6 && errorsAt(ada).length + errorsAt(bob).length === 2, 10_000),
  );
  for (const error of [...errorsAt(ada), ...errorsAt(bob)]) {
    t.regex(error.message ?? "", /^Too many messages: at most 6 every 3600 s from one address; try again in \d+ s$/);
  }
});

test("who and history are limited too: past the read budget each answers the error frame, with a 429", async (t) => {
  const { gw, token, join } = await guestGateway({ reads: { perUser: 3, perAddress: 1000, seconds: 3600 } });
  t.teardown(gw.close);
  const reader = await join(await token("Reader"), "reads");
  const answers: { type: string; message?: string }[] = [];
  for (const action of ["who", "history", "who", "history", "who"]) {
    reader.socket.send(JSON.stringify({ action }));
    answers.push(await within(5000, action, reader.nextJson<{ type: string; message?: string }>()));
  }
  t.deepEqual(
    answers.map((answer) => answer.type),
    ["who", "history", "who", "error", "error"],
  );
  t.regex(answers[3]?.message ?? "", /^Too many requests: at most 3 every 3600 s from one user; try again in \d+ s$/);
  t.is(gw.log.filter((line) => / (who|history) .*status=429/.test(line)).length, 2);
});

test("a user holds at most connectionsPerUser open; the next handshake is 429 before any row or notice", async (t) => {
  const { gw, token, join } = await guestGateway({ connectionsPerUser: 3 });
  t.teardown(gw.close);
  const listener = await join(await token("Ear"), "cap");
  const eve = await token("Eve");
  const open = await Promise.all(Array.from({ length: 3 }, () => join(eve, "cap")));
  await within(
    5000,
    "3 join notices",
    eventually(() => listener.received.length === 3),
  );
  const rows = (await gw.table.rows()).length;
  t.is(await refusedStatus(join(eve, "cap")), 429);
  t.is((await gw.table.rows()).length, rows, "no row for the refused connection");
  // Closing one frees its place once its $disconnect has run.
  (open[0] as TestClient).socket.close();
  await within(
    5000,
    "the leave",
    eventually(async () => (await gw.table.rows()).length === rows - 1),
  );
  const again = await join(eve, "cap");
  t.is(again.socket.readyState, again.socket.OPEN);
  t.true(listener.received.length >= 4);
});

test("a connection whose $disconnect never ran does not hold its user's place: a full set is checked against the rows", async (t) => {
  const { gw, token, join } = await guestGateway({ connectionsPerUser: 2 });
  t.teardown(gw.close);
  const eve = await token("Eve");
  await Promise.all([join(eve, "lost"), join(eve, "lost")]);
  // One row lost as a missed $disconnect leaves it: gone from the table, still in the user's set.
  const [row] = await gw.table.rows();
  await gw.table.remove(row?.connectionId as string);
  const third = await join(eve, "lost");
  t.is(third.socket.readyState, third.socket.OPEN);
  t.is(await refusedStatus(join(eve, "lost")), 429);
});

test("new connections from one address are capped: past connects.perAddress the handshake is 429", async (t) => {
  const { gw, token, join } = await guestGateway({
    connects: { perAddress: 4, seconds: 3600 },
    connectionsPerUser: 100,
  });
  t.teardown(gw.close);
  const eve = await token("Eve");
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push(await refusedStatus(join(eve, "door")));
  t.deepEqual(statuses, [101, 101, 101, 101, 429, 429]);
  t.is(gw.log.filter((line) => /\$connect .*status=429/.test(line)).length, 2);
});

test("joins cannot flood a room: 20 connect-and-close cycles with one token tell the room of only the presence budget", async (t) => {
  const { gw, token, join } = await guestGateway({ presence: { perUser: 3, perAddress: 1000, seconds: 3600 } });
  t.teardown(gw.close);
  const listeners = await Promise.all(Array.from({ length: 5 }, async (_, i) => join(await token(`L${i}`), "quiet")));
  await within(
    5000,
    "the listeners' own joins",
    eventually(() => (listeners[0] as TestClient).received.length === 4),
  );
  const before = listeners.map((listener) => listener.received.length);
  const eve = await token("Eve");
  for (let i = 0; i < 20; i++) {
    const tab = await join(eve, "quiet");
    tab.socket.close();
    await eventually(() => tab.socket.readyState === tab.socket.CLOSED);
  }
  // Every cycle's $disconnect has run once no row of Eve's is left.
  await within(
    10_000,
    "Eve's rows gone",
    eventually(async () => (await gw.table.rows()).length === 5, 10_000),
  );
  const notices = listeners.map((listener, i) => listener.received.length - (before[i] as number));
  // Three joins told, and their three leaves; the other 17 came and went quietly.
  t.deepEqual(notices, [6, 6, 6, 6, 6]);
});

test("without limits set (the local gateway's default), a connection may send as many as it likes", async (t) => {
  const gw = await chatGateway();
  t.teardown(gw.close);
  const sender = await connect(`${gw.url}?room=nolimit`);
  const listener = await connect(`${gw.url}?room=nolimit`);
  for (let i = 0; i < 30; i++) say(sender, `m${i}`);
  await within(
    10_000,
    "30 messages",
    eventually(() => messagesAt(listener).length === 30, 10_000),
  );
  t.is(messagesAt(listener).length, 30);
});

/**
 * The per-connection message limit, over real sockets against the embedded DynamoDB. API
 * Gateway's stage throttling counts every client together ("Protect your WebSocket APIs",
 * throttling: limits apply per route, across all clients), so one client could use all of it; the
 * chat limits each connection itself, in `sendmessage`, with a counter on the connection's row.
 */
import test from "ava";
import type { HistoryFrame } from "../../../functions/handlers/history";
import { chatGateway, messagesAt, say, within } from "../../support/chat";
import { connect, eventually } from "../../support/websocket";

const LIMIT = { CONNECTION_MESSAGE_LIMIT: "5", CONNECTION_MESSAGE_WINDOW_SECONDS: "3600" };

test("a connection over its limit gets an error frame per message refused; others still speak", async (t) => {
  const gw = await chatGateway({ functionEnvironment: LIMIT });
  t.teardown(gw.close);
  const flooder = await connect(`${gw.url}?room=limits&name=flood`);
  const listener = await connect(`${gw.url}?room=limits&name=ear`);
  for (let i = 0; i < 8; i++) say(flooder, `flood ${i}`);
  const errors = () =>
    flooder.received
      .filter((raw): raw is string => typeof raw === "string")
      .map((raw) => JSON.parse(raw) as { type: string; message?: string })
      .filter((frame) => frame.type === "error");
  await within(
    10_000,
    "8 answers",
    eventually(() => messagesAt(listener).length === 5 && errors().length === 3, 10_000),
  );
  t.is(messagesAt(listener).length, 5);
  for (const error of errors()) {
    t.regex(error.message ?? "", /^Too many messages: at most 5 every 3600 s from one connection; try again in \d+ s$/);
  }
  // The refusal is a 429 in the execution log, as the handler answered it.
  t.is(gw.log.filter((line) => / sendmessage .*status=429/.test(line)).length, 3, gw.log.join("\n"));
  // A refused message is not stored: the room's history holds the five delivered, and nothing else.
  listener.socket.send(JSON.stringify({ action: "history" }));
  const historyFrame = () =>
    listener.received.map((raw) => JSON.parse(String(raw)) as HistoryFrame).find((frame) => frame.type === "history");
  await within(
    5000,
    "history",
    eventually(() => historyFrame() !== undefined),
  );
  const history = historyFrame() as HistoryFrame;
  t.deepEqual(
    history.messages.map((message) => message.data).sort(),
    messagesAt(listener)
      .map((message) => message.data)
      .sort(),
  );
  // The listener's own budget is untouched.
  say(listener, "still here");
  await within(
    5000,
    "the listener's message",
    eventually(() => messagesAt(flooder).some((m) => m.data === "still here")),
  );
  t.pass();
});

test("without a limit set (the local default), a connection may send as many as it likes", async (t) => {
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

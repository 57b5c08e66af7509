/**
 * Each request the client library sends is answered: its promise settles with the answer that
 * carries its `ref` (in whatever order answers come), or rejects with the server's refusal, a
 * timeout, or the connection's loss.
 */
import test from "ava";
import { ChatClientError, ConnectionLostError, RequestRefusedError, RequestTimeoutError } from "../../../client/errors";
import { clientOnFakes, connected } from "./client-support";

test.serial("sends are answered by the acks that carry their refs, whatever the order they come in", async (t) => {
  const fixture = clientOnFakes();
  t.teardown(fixture.done);
  await connected(fixture, ["kitchen"]);
  const socket = fixture.ws.last;
  socket.answer = undefined;

  const first = fixture.client.send("kitchen", "one");
  const second = fixture.client.send("kitchen", "two");
  const [a, b] = socket.requests("sendmessage");
  t.like(a, { action: "sendmessage", room: "kitchen", data: "one" });
  t.like(b, { action: "sendmessage", room: "kitchen", data: "two" });
  t.not(a?.ref, b?.ref);
  socket.receive({ type: "ack", ref: b?.ref, room: "kitchen", id: "s000000000002", seq: 2 });
  socket.receive({ type: "ack", ref: a?.ref, room: "kitchen", id: "s000000000001", seq: 1 });
  t.deepEqual(await first, { id: "s000000000001", seq: 1 });
  t.deepEqual(await second, { id: "s000000000002", seq: 2 });
});

test.serial(
  "a refusal rejects with the server's message and when to retry; the other requests are untouched",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    await connected(fixture, ["kitchen"]);
    const socket = fixture.ws.last;
    socket.answer = undefined;

    const refused = fixture.client.send("kitchen", "too fast");
    const fine = fixture.client.send("kitchen", "fine");
    const [over, ok] = socket.requests("sendmessage");
    const message = "Too many messages: at most 20 every 10 s from one user; try again in 4 s";
    socket.receive({ type: "error", message, requestId: "r1", ref: over?.ref, retryAfterSeconds: 4 });
    socket.receive({ type: "ack", ref: ok?.ref, room: "kitchen", id: "s000000000001", seq: 1 });
    const error = (await t.throwsAsync(refused, { instanceOf: RequestRefusedError })) as RequestRefusedError;
    t.is(error.message, message);
    t.is(error.retryAfterSeconds, 4);
    t.is(error.requestId, "r1");
    t.deepEqual(await fine, { id: "s000000000001", seq: 1 });
    t.deepEqual(fixture.events.error, [], "an answered refusal is the request's, not an event");
  },
);

test.serial("no answer in time rejects with a timeout; a lost socket rejects what waits on it", async (t) => {
  const fixture = clientOnFakes({ requestTimeoutMs: 2000 });
  t.teardown(fixture.done);
  await connected(fixture, ["kitchen"]);
  const socket = fixture.ws.last;
  socket.answer = undefined;

  const unanswered = fixture.client.send("kitchen", "into the void");
  const timedOut = t.throwsAsync(unanswered, {
    instanceOf: RequestTimeoutError,
    message: /No answer to sendmessage within 2 s/,
  });
  await fixture.clock.tickAsync(2000);
  await timedOut;

  const lost = fixture.client.send("kitchen", "as the line drops");
  socket.drop();
  await t.throwsAsync(lost, {
    instanceOf: ConnectionLostError,
    message: /the connection was lost: no answer to sendmessage/,
  });
  await t.throwsAsync(fixture.client.send("kitchen", "while away"), {
    instanceOf: ConnectionLostError,
    message: "Not connected: sendmessage was not sent",
  });
});

test.serial(
  "API Gateway's error frame, which has no ref, answers the one request waiting; with two it is an event",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    await connected(fixture, ["kitchen"]);
    const socket = fixture.ws.last;
    socket.answer = undefined;
    const gatewayError = { message: "Internal server error", connectionId: "c=", requestId: "r2" };

    const alone = fixture.client.send("kitchen", "fail");
    socket.receive(gatewayError);
    await t.throwsAsync(alone, {
      instanceOf: RequestRefusedError,
      message: "The server could not handle sendmessage: Internal server error",
    });
    t.deepEqual(fixture.events.error, []);

    const one = fixture.client.send("kitchen", "a");
    const two = fixture.client.send("kitchen", "b");
    socket.receive(gatewayError);
    t.deepEqual(fixture.events.error, [{ message: "Internal server error", requestId: "r2" }]);
    const [a, b] = socket.requests("sendmessage").slice(-2);
    socket.receive({ type: "ack", ref: a?.ref, room: "kitchen", id: "s000000000001", seq: 1 });
    socket.receive({ type: "ack", ref: b?.ref, room: "kitchen", id: "s000000000002", seq: 2 });
    await Promise.all([one, two]);
  },
);

test.serial(
  "a room not joined (yet) is refused before anything is sent; a bad room name is refused at join",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    await connected(fixture, ["kitchen"]);
    await t.throwsAsync(fixture.client.send("garden", "hello?"), {
      instanceOf: ChatClientError,
      message: "Not in #garden (yet): sendmessage was not sent",
    });
    await t.throwsAsync(fixture.client.join("not a room"), { message: /1 to 64 letters/ });
    await t.throwsAsync(fixture.client.join("dm-abc"), { message: /not dm-/ });
    t.deepEqual(fixture.ws.last.requests("sendmessage"), []);
  },
);

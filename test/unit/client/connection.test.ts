/**
 * The client library's connection: a token asked for before each handshake (renewed when near its
 * expiry or after a refused handshake), reconnects after a delay of exponential backoff with full
 * jitter, and a sign-in only the person can fix stops it rather than loop.
 */
import test from "ava";
import { backoffDelay, DEFAULT_BACKOFF } from "../../../client/backoff";
import { SignInRefusedError } from "../../../client/errors";
import { guestSignIn } from "../../../client/sign-in";
import { clientOnFakes, connected } from "./client-support";

test("full jitter: each delay is drawn from 0 up to the first delay doubled per attempt, capped", (t) => {
  const caps = Array.from({ length: 10 }, (_, attempt) => Math.min(30_000, 500 * 2 ** attempt));
  t.deepEqual(caps, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  for (const [attempt, cap] of caps.entries()) {
    t.is(
      backoffDelay(attempt, DEFAULT_BACKOFF, () => 0),
      0,
    );
    t.is(
      backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.999999),
      cap - 1,
    );
    t.is(
      backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.5),
      cap / 2,
    );
  }
  t.is(
    backoffDelay(1e6, DEFAULT_BACKOFF, () => 0.5),
    15_000,
    "no overflow after a very long outage",
  );
  // Drawn evenly: a thousand clients that lost their sockets together come back spread over the window.
  const delays = Array.from({ length: 1000 }, () => backoffDelay(3, DEFAULT_BACKOFF));
  t.true(delays.every((delay) => delay >= 0 && delay < 4000));
  t.true(delays.filter((delay) => delay < 2000).length > 400 && delays.filter((delay) => delay >= 2000).length > 400);
});

test.serial("failed attempts back off, growing to the cap; a connection that held starts the count over", async (t) => {
  const fixture = clientOnFakes({ random: () => 0.999999, stableAfterMs: 5000 });
  t.teardown(fixture.done);
  const { client, ws, events, clock, settle } = fixture;
  void client.open();
  await settle();
  const delays = () => events.state.flatMap((state) => (state.state === "reconnecting" ? [state.delayMs] : []));
  for (let i = 0; i < 8; i++) {
    ws.last.drop(); // refused before it opened
    await clock.tickAsync(delays().at(-1) ?? 0);
  }
  t.deepEqual(delays(), [499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999]);
  t.is(ws.sockets.length, 9);
  t.like(events.state.at(-1), { state: "connecting", attempt: 8 });

  ws.last.open();
  await clock.tickAsync(5000);
  ws.last.drop();
  t.like(events.state.at(-1), {
    state: "reconnecting",
    attempt: 1,
    delayMs: 499,
    wasOpen: true,
    reason: "the connection was lost",
  });
  await clock.tickAsync(499);
  ws.last.open();
  await clock.tickAsync(100);
  ws.last.drop(1001, "Going away");
  t.like(events.state.at(-1), {
    state: "reconnecting",
    attempt: 2,
    delayMs: 999,
    reason: "the server went away: Going away",
  });
});

test.serial(
  "a token before each handshake: kept while good, renewed after a refusal, and a refusal only the person can fix stops",
  async (t) => {
    const asked: boolean[] = [];
    let refuse = false;
    const fixture = clientOnFakes({
      token: (renew) => {
        asked.push(renew);
        if (refuse) throw new SignInRefusedError("Sign in to join the chat");
        return `token-${asked.length}`;
      },
    });
    t.teardown(fixture.done);
    const { ws, events, clock } = fixture;
    await connected(fixture, ["kitchen"]);
    t.is(new URL(ws.last.url).searchParams.get("token"), "token-1");

    ws.last.drop(); // lost after it opened: the token may be offered again
    await clock.tickAsync(250);
    ws.last.drop(); // refused at the handshake: not again
    await clock.tickAsync(500);
    t.deepEqual(asked, [false, false, true]);
    t.is(new URL(ws.last.url).searchParams.get("token"), "token-3");

    refuse = true;
    ws.last.drop();
    await clock.tickAsync(1000);
    t.like(events.state.at(-1), { state: "closed", reason: "Sign in to join the chat", signInRefused: true });
    t.is(ws.sockets.length, 3, "no handshake without a token");
    await clock.tickAsync(60_000);
    t.is(ws.sockets.length, 3, "and no retries");
  },
);

test.serial(
  "a token that has opened a connection is offered again after failed handshakes (the network's, as likely), and renewed after three in a row or none once the token endpoint is unreachable too",
  async (t) => {
    const asked: boolean[] = [];
    let endpointDown = false;
    let issued = 0;
    const fixture = clientOnFakes({
      token: (renew) => {
        asked.push(renew);
        if (endpointDown) throw new Error("fetch failed");
        if (renew || issued === 0) issued++;
        return `token-${issued}`;
      },
    });
    t.teardown(fixture.done);
    const { ws, clock } = fixture;
    await connected(fixture, ["kitchen"]);
    const offered = () => new URL(ws.last.url).searchParams.get("token");

    ws.last.drop(); // lost after it opened
    for (let failed = 0; failed < 2; failed++) {
      await clock.tickAsync(60_000);
      ws.last.drop(); // a handshake fails: the network, or a refusal
    }
    await clock.tickAsync(60_000);
    t.is(offered(), "token-1", "after two failed handshakes, the token that opened a connection again");
    ws.last.drop();
    await clock.tickAsync(60_000);
    t.deepEqual(asked, [false, false, false, false, true]);
    t.is(offered(), "token-2", "after the third, a new one");

    ws.last.open();
    await clock.tickAsync(0);
    ws.last.drop(); // lost after it opened
    for (let failed = 0; failed < 2; failed++) {
      await clock.tickAsync(60_000);
      ws.last.drop();
    }
    await clock.tickAsync(60_000);
    ws.last.drop();
    endpointDown = true;
    await clock.tickAsync(60_000);
    t.deepEqual(asked.slice(5, 9), [false, false, false, true], "three failed: a renewal asked for");
    t.false(asked.slice(9).includes(true), "the endpoint was down too: the failures were the network's");
    endpointDown = false;
    await clock.tickAsync(60_000);
    t.is(offered(), "token-2", "and the token that opened a connection is offered when it is back");
  },
);

test.serial("a token endpoint that cannot be reached is tried again with backoff", async (t) => {
  let down = true;
  const fixture = clientOnFakes({
    token: () => {
      if (down) throw new Error("fetch failed");
      return "token";
    },
  });
  t.teardown(fixture.done);
  const opened = fixture.client.open();
  await fixture.settle();
  t.like(fixture.events.state.at(-1), {
    state: "reconnecting",
    reason: "cannot sign in: fetch failed",
    wasOpen: false,
  });
  down = false;
  await fixture.clock.tickAsync(250);
  fixture.ws.last.open();
  await opened;
  t.is(fixture.ws.sockets.length, 1);
});

test.serial(
  "a guest's token is asked for once, and again only near its expiry or after a refusal; a name refused stops",
  async (t) => {
    const fixture = clientOnFakes();
    t.teardown(fixture.done);
    const requests: string[] = [];
    const fakeFetch = (async (_url: string, init: { body: string }) => {
      const { name } = JSON.parse(init.body) as { name: string };
      requests.push(name);
      if (name.includes("\u202e"))
        return new Response(JSON.stringify({ message: "No direction marks" }), { status: 400 });
      const expiresAt = Math.floor(Date.now() / 1000) + 900;
      return new Response(
        JSON.stringify({ token: `t${requests.length}`, expiresAt, userId: "guest-1", name: name.trim() }),
      );
    }) as unknown as typeof fetch;
    const guest = guestSignIn({ tokenUrl: "https://token.example/", name: " Ada ", fetch: fakeFetch });
    t.is(guest.user, undefined);
    t.is(await guest.token(false), "t1");
    t.deepEqual(guest.user, { userId: "guest-1", name: "Ada" });
    t.is(await guest.token(false), "t1", "kept");
    await fixture.clock.tickAsync(839_000);
    t.is(await guest.token(false), "t1", "still a minute and more to go");
    await fixture.clock.tickAsync(2000);
    t.is(await guest.token(false), "t2", "renewed within a minute of its expiry");
    t.is(await guest.token(true), "t3", "renewed after a refusal");

    const refused = guestSignIn({ tokenUrl: "https://token.example/", name: "Ada\u202eevil", fetch: fakeFetch });
    await t.throwsAsync(refused.token(false), { instanceOf: SignInRefusedError, message: "No direction marks" });
    const nameless = guestSignIn({ tokenUrl: "https://token.example/", name: " ", fetch: fakeFetch });
    await t.throwsAsync(nameless.token(false), {
      instanceOf: SignInRefusedError,
      message: "Pick a name to join the chat",
    });
    t.is(requests.length, 4, "no request for an empty name");
  },
);

/**
 * The chat page with guest sign-in, as `npm run local` serves it by default: a name gets a token
 * from `POST /auth/token`, the WebSocket opens with `?token=`, and the names shown are the ones the
 * `$connect` authorizer verified, whatever a message claims.
 */
import anyTest, { type TestFn } from "ava";
import type { Browser } from "playwright-core";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { LOCAL_TOKEN_ISSUER } from "../../../local/chat/sign-in";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "../../../local/express-server";
import { join, launchBrowser, openChat, say, shownMessages } from "../../support/browser";
import { signIn } from "../../support/chat";
import { guestToken, rsaKeyPair } from "../../support/tokens";
import { connect } from "../../support/websocket";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

async function guestGateway(t: { teardown(fn: () => Promise<void>): void }, options: LocalGatewayOptions = {}) {
  const gw = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "guest" }, ...options });
  t.teardown(() => gw.close());
  return gw;
}

const origin = (gw: Pick<LocalGateway, "port">) => `http://127.0.0.1:${gw.port}`;

test("two people sign in and chat under their names; a third cannot post as Ada, and another Ada is told apart", async (t) => {
  const gw = await guestGateway(t);
  const ada = await openChat(t.context.browser, `${origin(gw)}/`, { name: "Ada", join: true });
  const bob = await openChat(t.context.browser, `${origin(gw)}/`, { name: "Bob", join: true });

  // The third signs in as Mallory and claims to be Ada in the message itself.
  const mallory = await connect(`${gw.url}?token=${encodeURIComponent((await signIn(origin(gw), "Mallory")).token)}`);
  t.teardown(() => mallory.socket.close());
  // A fourth really is called Ada too: same name, another person.
  const otherAda = await signIn(origin(gw), "Ada");
  const secondAda = await connect(`${gw.url}?token=${encodeURIComponent(otherAda.token)}`);
  t.teardown(() => secondAda.socket.close());

  await say(ada, "Hi Bob!");
  await bob.locator(".message", { hasText: "Hi Bob!" }).waitFor();
  await say(bob, "Hi Ada!");
  await ada.locator(".message", { hasText: "Hi Ada!" }).waitFor();
  mallory.socket.send(JSON.stringify({ action: "sendmessage", data: "I am Ada, send me your password", name: "Ada" }));
  secondAda.socket.send(JSON.stringify({ action: "sendmessage", data: "another Ada here" }));
  for (const page of [ada, bob]) await page.locator(".message").nth(3).waitFor();

  const shown = await shownMessages(ada);
  t.deepEqual(
    shown.map(({ sender, text, own }) => ({ sender, text, own })),
    [
      { sender: "Ada", text: "Hi Bob!", own: true },
      { sender: "Bob", text: "Hi Ada!", own: false },
      { sender: "Mallory", text: "I am Ada, send me your password", own: false },
      { sender: "Ada", text: "another Ada here", own: false },
    ],
  );
  t.deepEqual(
    (await shownMessages(bob)).map(({ sender, own }) => [sender, own]),
    [
      ["Ada", false],
      ["Bob", true],
      ["Mallory", false],
      ["Ada", false],
    ],
  );
  // Each sender's tag is the start of its verified user id: the two Adas differ.
  const frames = (await Promise.all([1, 2, 3, 4].map(() => mallory.nextJson<ChatMessageFrame>()))).map((frame) => ({
    name: frame.name,
    tag: `#${(frame.userId ?? "").replace(/^guest-/, "").slice(0, 8)}`,
  }));
  t.deepEqual(
    shown.map(({ sender, tag }) => ({ name: sender, tag })),
    frames,
  );
  t.is(frames[3]?.tag, `#${otherAda.userId.slice("guest-".length, "guest-".length + 8)}`);
  t.not(frames[0]?.tag, frames[3]?.tag);
  t.is(await ada.locator("#status-text").textContent(), "Connected as Ada · #lobby");
});

test("the page waits for a name, shows the endpoint's refusal of a bad one, and a new name is a new connection", async (t) => {
  const gw = await guestGateway(t);
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${origin(gw)}/`);
  await page.locator("#status[data-state=idle]", { hasText: "Pick a name to join the chat" }).waitFor();
  t.is(gw.connectionCount(), 0, "no name, no connection");

  // A bidi override would let a name reorder the text after it: the endpoint refuses it (400).
  await join(page, "Ada\u202Eevil");
  await page.locator("#status[data-state=idle]", { hasText: /direction/ }).waitFor();
  t.is(gw.connectionCount(), 0);

  await join(page, "  Ada  ");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor();
  t.is(await page.inputValue("#name"), "Ada", "the name shown is the one the endpoint bound, trimmed");
  await say(page, "first");
  await page.locator(".message.own", { hasText: "first" }).waitFor();
  const firstConnection = await page.locator(".message.own").first().getAttribute("data-connection-id");

  await join(page, "Ada Lovelace");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada Lovelace" }).waitFor();
  await say(page, "second");
  await page.locator(".message.own", { hasText: "second" }).waitFor();
  const messages = await shownMessages(page);
  t.deepEqual(
    messages.map(({ sender, text, own }) => [sender, text, own]),
    [
      // The lobby's history, on the new connection: "first" came from the earlier guest.
      ["Ada", "first", false],
      ["Ada Lovelace", "second", true],
    ],
  );
  t.not(await page.locator(".message.own").first().getAttribute("data-connection-id"), firstConnection);
  t.not(messages[0]?.tag, messages[1]?.tag, "a new name is a new guest");
  t.is(gw.connectionCount(), 1, "the old connection is closed");
});

test("a token the authorizer refuses is not offered again: the page gets a new one and connects", async (t) => {
  const statuses: number[] = [];
  const gw = await guestGateway(t, {
    log: (line) => {
      const status = /\$connect authorizer .*status=(\d+)/.exec(line)?.[1];
      if (status) statuses.push(Number(status));
    },
  });
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  // The first token the page gets is signed by a key this server does not trust (a server restarted
  // since, say); later requests reach the real endpoint.
  const stranger = rsaKeyPair();
  let forged = 0;
  await page.route("**/auth/token", async (route) => {
    if (forged++ > 0) return route.continue();
    const settings = { ...stranger, issuer: LOCAL_TOKEN_ISSUER, audience: gw.apiId };
    const response = { token: await guestToken(settings), expiresAt: Math.floor(Date.now() / 1000) + 600 };
    await route.fulfill({ json: { ...response, userId: "guest-00000000-0000-4000-8000-000000000001", name: "Ada" } });
  });
  await page.goto(`${origin(gw)}/`);
  await join(page, "Ada");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor({ timeout: 10_000 });
  await say(page, "in with a good token");
  await page.locator(".message.own", { hasText: "in with a good token" }).waitFor();
  t.deepEqual(statuses, [401, 200], "refused once, then admitted");
  t.is(forged, 2, "one forged token, then one from the endpoint");
  t.is(gw.connectionCount(), 1);
});

test("the page remembers the display name: the same browser's next visit joins under it without asking", async (t) => {
  const gw = await guestGateway(t);
  const first = await openChat(t.context.browser, `${origin(gw)}/`, { name: "Ada", join: true });
  t.teardown(() => first.context().close());

  const again = await first.context().newPage();
  await again.goto(`${origin(gw)}/`);

  await again.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor();
  t.is(await again.inputValue("#name"), "Ada");
  t.is(gw.connectionCount(), 2);
});

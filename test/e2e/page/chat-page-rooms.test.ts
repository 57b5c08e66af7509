/**
 * The chat page with rooms, in Chromium: three people in two rooms, the room in the page's address,
 * who is online, join and leave notices, history on entering with "load earlier", date lines, and
 * the composer's small courtesies (hints that go when they no longer hold, nothing silent).
 */
import anyTest, { type TestFn } from "ava";
import type { Browser, Page } from "playwright-core";
import { type LocalGateway, startLocalGateway } from "../../../local/express-server";
import { join, launchBrowser, openChat, say, shownMessages } from "../../support/browser";
import { invoked, signIn } from "../../support/chat";
import { connect, eventually } from "../../support/websocket";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

async function guestGateway(t: { teardown(fn: () => Promise<void>): void }): Promise<LocalGateway & { log: string[] }> {
  const log: string[] = [];
  const gw = await startLocalGateway({ port: 0, log: (line) => log.push(line), auth: { mode: "guest" } });
  t.teardown(() => gw.close());
  return { ...gw, log };
}

const online = async (page: Page) => ({
  summary: await page.locator("#online").textContent(),
  members: await page.locator("#members li").allTextContents(),
});
const notes = (page: Page) => page.locator("#messages .note.presence").allTextContents();

test("three people in two rooms: each room hears only its own, knows who is there, and sees them come and go", async (t) => {
  const gw = await guestGateway(t);
  const base = `http://127.0.0.1:${gw.port}/`;
  const ada = await openChat(t.context.browser, `${base}?room=kitchen`, { name: "Ada", join: true });
  const bob = await openChat(t.context.browser, `${base}?room=kitchen`, { name: "Bob", join: true });
  const cy = await openChat(t.context.browser, `${base}?room=garden`, { name: "Cy", join: true });
  t.teardown(() => Promise.all([ada, bob, cy].map((page) => page.context().close())).then(() => undefined));

  await ada.locator("#online", { hasText: "2 online in #kitchen" }).waitFor();
  t.deepEqual(await online(ada), { summary: "2 online in #kitchen", members: ["Ada", "Bob"] });
  t.deepEqual(await online(cy), { summary: "1 online in #garden", members: ["Cy"] });
  t.deepEqual(await notes(ada), ["Bob joined"]);
  t.is(await ada.locator("#room").inputValue(), "kitchen");
  t.is(await cy.locator("#status-text").textContent(), "Connected as Cy · #garden");

  await say(ada, "kitchen talk");
  await say(cy, "garden talk");
  await bob.locator(".message", { hasText: "kitchen talk" }).waitFor();
  await cy.locator(".message", { hasText: "garden talk" }).waitFor();
  // Nothing more can come of the two: both broadcasts are done (each logged after its posts were
  // handed to their sockets), and a later frame on each socket has been shown: a visitor's join
  // in the garden for Cy here, Cy's own in the kitchen for Bob below.
  await invoked(gw.log, "sendmessage", 2);
  const { token: visitorToken } = await signIn(`http://127.0.0.1:${gw.port}`, "Visitor");
  const visitor = await connect(`${gw.url}?room=garden&token=${encodeURIComponent(visitorToken)}`);
  await cy.locator(".note.presence", { hasText: "Visitor joined" }).waitFor();
  visitor.socket.close();
  t.deepEqual(
    (await shownMessages(cy)).map(({ sender, text }) => `${sender}: ${text}`),
    ["Cy: garden talk"],
  );

  // Cy walks into the kitchen with the room picker: the address follows, the kitchen hears it.
  await cy.fill("#room", "kitchen");
  await cy.press("#room", "Enter");
  await cy.locator("#status[data-state=open]", { hasText: "#kitchen" }).waitFor();
  t.regex(cy.url(), /\?room=kitchen$/);
  await cy.locator(".message", { hasText: "kitchen talk" }).waitFor();
  t.deepEqual(
    (await shownMessages(cy)).map(({ sender, text }) => `${sender}: ${text}`),
    ["Ada: kitchen talk"],
    "the kitchen's history, not the garden's",
  );
  await ada.locator("#online", { hasText: "3 online in #kitchen" }).waitFor();
  t.deepEqual((await online(ada)).members, ["Ada", "Bob", "Cy"]);
  await bob.locator(".note.presence", { hasText: "Cy joined" }).waitFor();
  t.deepEqual(
    (await shownMessages(bob)).map(({ sender, text }) => `${sender}: ${text}`),
    ["Ada: kitchen talk"],
    "the garden's talk never reached the kitchen",
  );

  // Bob closes his tab: the kitchen is told, and the list shrinks.
  await bob.context().close();
  await ada.locator(".note.presence", { hasText: "Bob left" }).waitFor();
  await ada.locator("#online", { hasText: "2 online in #kitchen" }).waitFor();
  t.deepEqual(await notes(ada), ["Bob joined", "Cy joined", "Bob left"]);
  t.deepEqual((await online(cy)).members, ["Ada", "Cy"]);

  // Back returns Cy to the garden, where the garden's history waits.
  await cy.goBack();
  await cy.locator("#status[data-state=open]", { hasText: "#garden" }).waitFor();
  await cy.locator(".message", { hasText: "garden talk" }).waitFor();
  t.is(await cy.locator("#room").inputValue(), "garden");
});

test("history on entering a room, then 'Load earlier' pages back, keeping one date line per day", async (t) => {
  const gw = await guestGateway(t);
  const base = `http://127.0.0.1:${gw.port}/`;
  // 70 messages from a signed-in client, one at a time: the first page shows the latest 50.
  const { token } = await signIn(`http://127.0.0.1:${gw.port}`, "Writer");
  const signed = await connect(`${gw.url}?room=archive&token=${encodeURIComponent(token)}`);
  t.teardown(() => signed.socket.close());
  for (let i = 0; i < 70; i++) {
    signed.socket.send(JSON.stringify({ action: "sendmessage", data: `note ${i}` }));
    await eventually(() => signed.received.filter((frame) => String(frame).includes(`"note ${i}"`)).length === 1);
  }

  const page = await openChat(t.context.browser, `${base}?room=archive`, { name: "Reader", join: true });
  t.teardown(() => page.context().close());
  await page.locator(".message", { hasText: "note 69" }).waitFor();
  t.is(await page.locator(".message").count(), 50);
  t.is(await page.locator(".message .text").first().textContent(), "note 20");
  t.deepEqual(await page.locator(".date").allTextContents(), ["Today"]);

  await page.click(".load-earlier button");
  await page.locator(".message", { hasText: /^Writer.*note 0$/ }).waitFor();
  t.is(await page.locator(".message").count(), 70);
  t.deepEqual(
    await page.locator(".message .text").allTextContents(),
    Array.from({ length: 70 }, (_, i) => `note ${i}`),
  );
  t.is(await page.locator(".load-earlier").count(), 0, "the start of the history: nothing earlier to load");
  t.deepEqual(await page.locator(".date").allTextContents(), ["Today"], "still one date line");
  t.false(await page.locator("#messages").evaluate((list) => list.classList.contains("empty")));
});

test("the composer: an empty room says so once connected (not before), hints go when they no longer hold, Send waits for a connection", async (t) => {
  const gw = await guestGateway(t);
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${gw.port}/?room=quiet`);
  await page.locator("#status[data-state=idle]", { hasText: "Pick a name" }).waitFor();
  t.false(
    await page.locator("#messages").evaluate((list) => list.classList.contains("empty")),
    "not connected: no claim",
  );
  t.true(await page.locator("#send").isDisabled());
  t.is(await page.locator("#online").textContent(), "Not connected");

  await join(page, "Quinn");
  await page.locator("#status[data-state=open]").waitFor();
  await page.locator("#messages.empty").waitFor({ state: "attached" });
  t.false(await page.locator("#send").isDisabled());

  // Only spaces: told, not ignored.
  await page.fill("#text", "   ");
  await page.press("#text", "Enter");
  t.is(await page.locator("#composer-hint").textContent(), "A message of only spaces is not sent.");
  // Too long, then cleared: the warning goes with the text.
  await page.fill("#text", "é".repeat(17_000));
  await page.press("#text", "Enter");
  await page.locator("#composer-hint.error", { hasText: "Too long" }).waitFor();
  await page.fill("#text", "");
  await page.dispatchEvent("#text", "input");
  t.is(await page.locator("#composer-hint").textContent(), "");

  // A bad room name is refused on the page, with the rule; the connection stays where it was.
  await page.fill("#room", "not a room!");
  await page.press("#room", "Enter");
  t.regex((await page.locator("#room-hint").textContent()) ?? "", /1 to 64 letters, digits, - or _/);
  t.regex(page.url(), /\?room=quiet$/);
  t.is(await page.locator("#status").getAttribute("data-state"), "open");

  await say(page, "hello?");
  await page.locator(".message.own", { hasText: "hello?" }).waitFor();
  t.false(await page.locator("#messages").evaluate((list) => list.classList.contains("empty")));
});

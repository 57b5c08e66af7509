/**
 * The page on the client library, in Chromium: two signed-in people in two rooms and a direct
 * conversation on one connection each, unread counts in the rooms list, the typing line, edits and
 * deletes of one's own messages as the other sees them, and a network that goes and comes back
 * without a message missed. Bob's page is served through a TCP proxy the test cuts (his socket
 * reset, new connections refused) while the browser is told it is offline, as a phone losing its
 * signal; back online, the page reconnects at once and fills each room from its history.
 */
import anyTest, { type TestFn } from "ava";
import type { Browser, Page } from "playwright-core";
import { type LocalGateway, startLocalGateway } from "../../../local/express-server";
import { join, launchBrowser, say, shownMessages } from "../../support/browser";
import { DEFAULT_RATE_LIMITS } from "../../support/rate-limits";
import { startTcpProxy } from "../../support/tcp-proxy";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

const origin = (gw: Pick<LocalGateway, "port">) => `http://127.0.0.1:${gw.port}`;

/** A guest's page at `url`, signed in as `name`. */
async function signedIn(browser: Browser, url: string, name: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.locator("#status[data-state=idle]", { hasText: "Pick a name" }).waitFor();
  await join(page, name);
  await page.locator("#status[data-state=open]", { hasText: `Connected as ${name}` }).waitFor();
  return page;
}

/** Joins a named room with the room picker; it is then the room shown. */
async function enter(page: Page, room: string): Promise<void> {
  await page.fill("#room", room);
  await page.press("#room", "Enter");
  await page.locator("#room-title", { hasText: `#${room}` }).waitFor();
}

/** Shows a room (or direct conversation) of the rooms list by its title. */
async function show(page: Page, title: string): Promise<void> {
  await page.locator(".room-list button.room", { hasText: title }).click();
  await page.locator("#room-title", { hasText: title }).waitFor();
}

/** The unread count beside a room of the list ("" for none). */
const unread = (page: Page, title: string) =>
  page
    .locator(".room-list li", { has: page.locator("button.room", { hasText: title }) })
    .evaluate((item) => item.querySelector(".unread")?.textContent ?? "");

/** Says `text` and waits for the server's echo of it in the conversation shown. */
async function sayAndSee(page: Page, text: string): Promise<void> {
  await say(page, text);
  await page.locator(".message", { hasText: text }).waitFor();
}

/** Edits one's own message, as a person does: Edit beside it, the new text, Enter; waits for the change. */
async function edit(page: Page, text: string, next: string): Promise<void> {
  const mine = page.locator(".message.own", { hasText: text });
  await mine.hover();
  await mine.locator("button.edit").click();
  if ((await page.inputValue("#text")) !== text)
    throw new Error(`the composer holds ${await page.inputValue("#text")}`);
  await page.fill("#text", next);
  await page.press("#text", "Enter");
  await page.locator(".message.own.edited", { hasText: next }).waitFor();
}

const texts = async (page: Page) => (await shownMessages(page)).map(({ sender, text }) => `${sender}: ${text}`);

test("two people in two rooms and a direct conversation: unread counts, typing, an edit and a delete seen by the other, and nothing missed across an outage", async (t) => {
  t.timeout(120_000);
  // The stack's budgets, as `npm run local` has them: invitations go to the connections they count.
  const gw = await startLocalGateway({
    port: 0,
    log: () => {},
    auth: { mode: "guest" },
    functionEnvironment: { RATE_LIMITS: JSON.stringify(DEFAULT_RATE_LIMITS) },
  });
  t.teardown(() => gw.close());
  const proxy = await startTcpProxy(gw.port);
  t.teardown(() => proxy.close());
  const ada = await signedIn(t.context.browser, `${origin(gw)}/?room=kitchen`, "Ada");
  const bob = await signedIn(t.context.browser, `http://127.0.0.1:${proxy.port}/?room=kitchen`, "Bob");
  for (const page of [ada, bob]) await enter(page, "garden");
  t.deepEqual(await ada.locator("#rooms button.room").allTextContents(), ["#kitchen", "#garden"]);

  // Ada reads the kitchen; what Bob says in the garden is counted beside it until she opens it.
  await show(ada, "#kitchen");
  await say(bob, "the roses are out");
  await bob.locator(".message", { hasText: "the roses are out" }).waitFor();
  await ada.locator(".room-list li", { hasText: "#garden" }).locator(".unread", { hasText: "1" }).waitFor();
  t.is(await unread(ada, "#kitchen"), "");
  await show(ada, "#garden");
  t.is(await unread(ada, "#garden"), "");
  t.deepEqual(await texts(ada), ["Bob: the roses are out"]);

  // A direct conversation: Ada picks Bob among who is online; Bob is invited and finds it listed.
  await ada.locator("#members button.person", { hasText: "Bob" }).click();
  await ada.locator("#room-title", { hasText: "Bob" }).waitFor();
  await bob.locator("#directs button.room", { hasText: "Ada" }).waitFor();
  await say(ada, "just between us");
  await bob.locator("#directs li", { hasText: "Ada" }).locator(".unread", { hasText: "1" }).waitFor();
  await show(bob, "Ada");
  await bob.locator(".message", { hasText: "just between us" }).waitFor();

  // Bob types: Ada, in the same conversation, sees it; his message ends it.
  await bob.locator("#text").pressSequentially("a secret?");
  await ada.locator("#typing", { hasText: "Bob is typing…" }).waitFor();
  await bob.press("#text", "Enter");
  await ada.locator(".message", { hasText: "a secret?" }).waitFor();
  await ada.locator("#typing:empty").waitFor({ state: "attached" });

  // Ada edits one of her messages and deletes another; Bob sees both changes where they are.
  await sayAndSee(ada, "no, a surprise");
  await bob.locator(".message", { hasText: "no, a surprise" }).waitFor();
  await edit(ada, "just between us", "just between the two of us");
  const surprise = ada.locator(".message.own", { hasText: "no, a surprise" });
  await surprise.hover();
  await surprise.locator("button.delete").click();
  await surprise.locator("button.delete", { hasText: "Click again" }).click();
  await bob.locator(".message.edited", { hasText: "just between the two of us" }).waitFor();
  await bob.locator(".message.deleted").waitFor();
  t.deepEqual(await texts(bob), ["Ada: just between the two of us", "Bob: a secret?", "Ada: This message was deleted"]);
  t.is(await bob.locator(".message:not(.own) button.edit").count(), 0, "no one edits another's message");

  // Bob's network goes. Meanwhile Ada talks in all three, and edits a message he has seen.
  await bob.context().setOffline(true);
  await proxy.cut("refuse");
  await bob.locator("#status[data-state=reconnecting]").waitFor();
  await show(ada, "#kitchen");
  for (const text of ["anyone home?", "the kettle is on"]) await sayAndSee(ada, text);
  await show(ada, "#garden");
  await sayAndSee(ada, "and the tulips");
  await show(ada, "Bob");
  await sayAndSee(ada, "call me when you are back");
  await edit(ada, "just between the two of us", "just between us two");
  t.is(await ada.locator(".message", { hasText: "a secret?" }).locator("button.edit").count(), 0, "not Ada's to edit");

  // Back: the page reconnects at once (the browser's online event) and fills each room's gap.
  await proxy.restore();
  await bob.context().setOffline(false);
  await bob.locator("#status[data-state=open]").waitFor();
  await bob.locator(".message", { hasText: "call me when you are back" }).waitFor();
  await bob.locator(".note.gap", { hasText: "1 message arrived while you were away" }).waitFor();
  await bob.locator(".message.edited", { hasText: "just between us two" }).waitFor();
  t.deepEqual(await texts(bob), [
    "Ada: just between us two",
    "Bob: a secret?",
    "Ada: This message was deleted",
    "Ada: call me when you are back",
  ]);
  // Still Bob: his message is his own, and the direct conversation is the one he had.
  t.is(await bob.locator(".message.own", { hasText: "a secret?" }).count(), 1);
  t.is(await bob.locator("#directs li").count(), 1);
  await bob.locator(".room-list li", { hasText: "#kitchen" }).locator(".unread", { hasText: "2" }).waitFor();
  t.is(await unread(bob, "#garden"), "1");
  await show(bob, "#kitchen");
  t.deepEqual(await texts(bob), ["Ada: anyone home?", "Ada: the kettle is on"]);
  await show(bob, "#garden");
  t.deepEqual(await texts(bob), ["Bob: the roses are out", "Ada: and the tulips"]);
  t.is(await bob.locator(".note.gap.missed").count(), 0, "nothing was past history's reach");
});

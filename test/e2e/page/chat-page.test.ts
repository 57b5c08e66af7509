/**
 * The chat page at `/`, end to end: headless Chromium pages and a plain WebSocket client talking
 * through the local gateway.
 */
import anyTest, { type TestFn } from "ava";
import type { Browser, Page } from "playwright-core";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { routes } from "../../../functions/routes";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "../../../local/express-server";
import { launchBrowser, openChat, say, shownMessages } from "../../support/browser";
import { connect } from "../../support/websocket";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

async function gateway(t: { teardown(fn: () => Promise<void>): void }, options: LocalGatewayOptions = {}) {
  const gw = await startLocalGateway({ port: 0, log: () => {}, ...options });
  t.teardown(() => gw.close());
  return gw;
}

const pageUrl = (gw: Pick<LocalGateway, "port">) => `http://127.0.0.1:${gw.port}/`;

/** Collects any dialog (alert, confirm...) a page opens: text rendered as HTML could run script. */
function watchDialogs(...pages: Page[]): string[] {
  const dialogs: string[] = [];
  for (const page of pages) {
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  }
  return dialogs;
}

const XSS = "<img src=x onerror=alert(1)>";

test("two pages and a plain client chat: each sees both messages in order, with names, own ones marked", async (t) => {
  const gw = await gateway(t);
  const observer = await connect(gw.url);
  t.teardown(() => observer.socket.close());
  const ada = await openChat(t.context.browser, pageUrl(gw), { name: "Ada" });
  const bob = await openChat(t.context.browser, pageUrl(gw), { name: "Bob" });
  const dialogs = watchDialogs(ada, bob);
  t.is(await ada.inputValue("#url"), gw.url, "the URL field is prefilled with this server's stage");

  await say(ada, "Hi Bob!");
  await bob.locator(".message", { hasText: "Hi Bob!" }).waitFor();
  await say(bob, XSS);
  for (const page of [ada, bob]) await page.locator(".message").nth(1).waitFor();

  t.deepEqual(await shownMessages(ada), [
    { sender: "Ada", text: "Hi Bob!", own: true },
    { sender: "Bob", text: XSS, own: false },
  ]);
  t.deepEqual(await shownMessages(bob), [
    { sender: "Ada", text: "Hi Bob!", own: false },
    { sender: "Bob", text: XSS, own: true },
  ]);
  const first = await observer.nextJson<ChatMessageFrame>();
  const second = await observer.nextJson<ChatMessageFrame>();
  t.like(first, { type: "message", name: "Ada", data: "Hi Bob!" });
  t.like(second, { type: "message", name: "Bob", data: XSS });

  t.is(await ada.locator("#messages img").count(), 0, "the markup stays text");
  t.regex((await ada.locator(".message .time").first().textContent()) ?? "", /\d{1,2}:\d{2}/);
  t.is(await ada.inputValue("#text"), "", "a sent message leaves the text box");
  t.deepEqual(dialogs, []);
});

test("the page shows the closed state when the server stops, and reconnects to one restarted on the same port", async (t) => {
  const first = await startLocalGateway({ port: 0, log: () => {} });
  const { port } = first;
  const page = await openChat(t.context.browser, pageUrl(first), { name: "Ada" });

  await first.close();
  await page.locator(".note.closed", { hasText: "the server went away: Going away" }).waitFor();
  // The status then follows the retries (each refused while no server listens): reconnecting, with
  // backoff, said in words rather than close codes.
  const reconnecting = page.locator("#status[data-state=reconnecting]", {
    hasText: /(The server went away: Going away|Could not connect) · reconnecting in \d+ s/,
  });
  await reconnecting.waitFor();
  t.false(/\d{4}/.test((await reconnecting.textContent()) ?? ""), "no bare close code");
  t.true(await page.locator("#send").isDisabled(), "nothing can be sent while disconnected");

  const second = await gateway(t, { port });
  // The next attempt comes when the status said it would (full-jitter backoff): wait that, and more.
  const inSeconds = Number(
    /reconnecting in (\d+) s/.exec((await page.locator("#status").textContent()) ?? "")?.[1] ?? 0,
  );
  await page.locator("#status[data-state=open]").waitFor({ timeout: (inSeconds + 10) * 1000 });
  const observer = await connect(second.url);
  t.teardown(() => observer.socket.close());
  await say(page, "back again");
  t.like(await observer.nextJson<ChatMessageFrame>(), { name: "Ada", data: "back again" });
  await page.locator(".message.own", { hasText: "back again" }).waitFor();
  t.pass();
});

test("a message over 32 KB is refused on the page with an inline error, and the connection stays open", async (t) => {
  const gw = await gateway(t);
  const page = await openChat(t.context.browser, pageUrl(gw), { name: "Ada" });
  const tooLong = "é".repeat(17_000); // 34,000 bytes in UTF-8, though only 17,000 characters

  await say(page, tooLong);
  const hint = page.locator("#composer-hint.error");
  await hint.waitFor();
  t.regex((await hint.textContent()) ?? "", /Too long to send: this message is 33\.2 KB/);
  t.is(await page.inputValue("#text"), tooLong, "the text stays, to be shortened");
  t.is(await page.locator("#status").getAttribute("data-state"), "open");

  await say(page, "short one");
  await page.locator(".message.own", { hasText: "short one" }).waitFor();
  t.is(await hint.count(), 0, "the error goes once a message is sent");
  t.is(gw.connectionCount(), 1);
});

test("error frames from the handler and from API Gateway show inline as errors, not as chat", async (t) => {
  // The handler refuses data over 16 bytes; a message saying "fail" makes the integration throw.
  const gw = await gateway(t, {
    functionEnvironment: { MAX_MESSAGE_BYTES: "16" },
    routes: routes.map((route) =>
      route.routeKey !== "sendmessage"
        ? route
        : {
            ...route,
            createHandler: (deps) => {
              const handler = route.createHandler(deps);
              return async (event, context) => {
                if (event.body?.includes('"fail"')) throw new Error("integration failure");
                return handler(event, context);
              };
            },
          },
    ),
  });
  const page = await openChat(t.context.browser, pageUrl(gw));

  await say(page, "more than sixteen bytes");
  await page.locator(".note.error", { hasText: '"data" is 23 bytes; the limit is 16' }).waitFor();
  await say(page, "fail");
  await page.locator(".note.error", { hasText: "Internal server error" }).waitFor();
  await say(page, "fine");
  await page.locator(".message.own", { hasText: "fine" }).waitFor();

  t.deepEqual(await shownMessages(page), [{ sender: `Anonymous ${await ownIdPrefix(page)}`, text: "fine", own: true }]);
});

/** The first four characters of the page's connection id, as it shows an anonymous sender. */
async function ownIdPrefix(page: Page): Promise<string> {
  const id = await page.locator(".message.own").first().getAttribute("data-connection-id");
  return (id ?? "").slice(0, 4);
}

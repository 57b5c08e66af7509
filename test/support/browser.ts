/**
 * Headless Chromium for the chat page's tests: the browser the machine has (`./find-browser.ts`),
 * driven by playwright-core, which never downloads one.
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { findBrowser } from "./find-browser";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findBrowser(),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/**
 * Opens the chat page in a fresh context (its own storage) and waits until it is connected. With
 * `join`, the page signs in first, as a person would: it waits for a name, which is typed and
 * entered; without, the open chat connects at once and the name goes with each message.
 */
export async function openChat(
  browser: Browser,
  pageUrl: string,
  options: { name?: string; join?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 900, height: 700 } });
  const page = await context.newPage();
  await page.goto(pageUrl);
  if (options.join && options.name !== undefined) {
    await page.locator("#status[data-state=idle]", { hasText: "Pick a name" }).waitFor();
    await join(page, options.name);
    await page.locator("#status[data-state=open]", { hasText: `Connected as ${options.name}` }).waitFor();
    return page;
  }
  await page.locator("#status[data-state=open]").waitFor();
  if (options.name !== undefined) await page.fill("#name", options.name);
  return page;
}

/** Types a name in the name field and presses Enter: a guest's sign-in, or a change of name. */
export async function join(page: Page, name: string): Promise<void> {
  await page.fill("#name", name);
  await page.press("#name", "Enter");
}

/** Types a message and presses Enter, as a user would. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

export interface ShownMessage {
  sender: string;
  text: string;
  own: boolean;
  /** The short user id shown beside a verified name (auth on). */
  tag?: string;
}

/** The page's chat messages, as shown: sender, text, whether they are marked as its own, and tag. */
export function shownMessages(page: Page): Promise<ShownMessage[]> {
  return page.locator("#messages .message").evaluateAll((items) =>
    items.map((item) => {
      const tag = item.querySelector(".tag")?.textContent;
      return {
        sender: item.querySelector(".sender")?.textContent ?? "",
        text: item.querySelector(".text")?.textContent ?? "",
        own: item.classList.contains("own"),
        ...(tag && { tag }),
      };
    }),
  );
}

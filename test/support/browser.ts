/**
 * Headless Chromium for the chat page's tests: the system's browser (Debian's `chromium`), driven by
 * playwright-core, which never downloads one.
 */
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
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

/** Opens the chat page in a fresh context (its own storage) and waits until it is connected. */
export async function openChat(
  browser: Browser,
  pageUrl: string,
  options: { name?: string; viewport?: { width: number; height: number } } = {},
): Promise<Page> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 900, height: 700 } });
  const page = await context.newPage();
  await page.goto(pageUrl);
  await page.locator("#status[data-state=open]").waitFor();
  if (options.name !== undefined) await page.fill("#name", options.name);
  return page;
}

/** Types a message and presses Enter, as a user would. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

/** The page's chat messages, as shown: sender, text and whether they are marked as its own. */
export function shownMessages(page: Page): Promise<Array<{ sender: string; text: string; own: boolean }>> {
  return page.locator("#messages .message").evaluateAll((items) =>
    items.map((item) => ({
      sender: item.querySelector(".sender")?.textContent ?? "",
      text: item.querySelector(".text")?.textContent ?? "",
      own: item.classList.contains("own"),
    })),
  );
}

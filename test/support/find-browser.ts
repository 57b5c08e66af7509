/**
 * Finds a Chromium-family browser for the page's tests the way a developer has one: `CHROMIUM_PATH`
 * if set; else Chromium, Google Chrome or Edge on `PATH` (Debian's and Ubuntu's `chromium` and
 * `chromium-browser` among them) or where their installers put them; else Playwright's own
 * downloaded Chromium. None found: one error that says how to get one.
 */
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

/** Executable names, by what people install. */
const ON_PATH = [
  "chromium",
  "chromium-browser",
  "google-chrome",
  "google-chrome-stable",
  "microsoft-edge",
  "microsoft-edge-stable",
];

/** Where Chrome's, Chromium's and Edge's installers put them off `PATH` (macOS, Windows). */
const INSTALLED = [
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
  "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
  "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
];

/** No browser was found; the message says how to get one. */
export class NoBrowserError extends Error {
  constructor() {
    super(
      "The page's tests need Chromium, Google Chrome or Edge, and none was found. Install one " +
        "(Debian and Ubuntu: sudo apt-get install chromium; or npx playwright install chromium), " +
        "or set CHROMIUM_PATH to a browser's executable.",
    );
    this.name = "NoBrowserError";
    // The message is the whole story: no stack to read past.
    this.stack = `${this.name}: ${this.message}`;
  }
}

export interface BrowserSearch {
  env?: Record<string, string | undefined>;
  /** Where Playwright keeps the Chromium it downloads. */
  playwrightChromium?: () => string;
  isExecutable?: (file: string) => boolean;
}

/** The executable to launch; throws {@link NoBrowserError} when there is none. */
export function findBrowser(search: BrowserSearch = {}): string {
  const { env = process.env, playwrightChromium = () => chromium.executablePath(), isExecutable = executable } = search;
  const chosen = env.CHROMIUM_PATH?.trim();
  if (chosen) {
    if (!isExecutable(chosen)) throw new Error(`CHROMIUM_PATH is ${chosen}, which is not an executable file`);
    return chosen;
  }
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
  const candidates = [...ON_PATH.flatMap((name) => dirs.map((dir) => path.join(dir, name))), ...INSTALLED];
  const found = candidates.find(isExecutable);
  if (found) return found;
  const downloaded = playwrightChromium();
  if (isExecutable(downloaded)) return downloaded;
  throw new NoBrowserError();
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

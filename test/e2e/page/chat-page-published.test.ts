/**
 * The page as a stack publishes it: the same objects (`infra/chat-page.ts`: each file with its
 * content type, and a `config.json` naming the API's URL), served from another origin than the
 * API, as CloudFront serves them beside API Gateway. Headless Chromium loads it and chats through
 * the local gateway; WebSockets need no CORS, so only the URL in `config.json` joins the two.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import test from "ava";
import { CONTENT_TYPES, PAGE_DIR, pageFiles } from "../../../infra/chat-page";
import { startLocalGateway } from "../../../local/express-server";
import { launchBrowser, openChat, say, shownMessages } from "../../support/browser";
import { connect, eventually } from "../../support/websocket";

/**
 * A static origin holding exactly the published objects, as a bucket behind CloudFront would;
 * `publish` adds the `config.json` a deploy writes.
 */
async function publishedOrigin(): Promise<{
  server: Server;
  url: string;
  origin: string;
  publish(config: object): void;
}> {
  const objects = new Map(
    pageFiles().map(({ file, contentType }) => [`/${file}`, { body: readFileSync(join(PAGE_DIR, file)), contentType }]),
  );
  const publish = (config: object) =>
    objects.set("/config.json", {
      body: Buffer.from(JSON.stringify(config)),
      contentType: CONTENT_TYPES[".json"] as string,
    });
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://origin").pathname;
    const object = objects.get(path === "/" ? "/index.html" : path);
    if (!object) {
      response.writeHead(403).end(); // S3 answers a missing key behind OAC with 403
      return;
    }
    response.writeHead(200, { "content-type": object.contentType }).end(object.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url: `${origin}/`, origin, publish };
}

test("the published page, on an origin of its own, connects to the URL in config.json and chats", async (t) => {
  const origin = await publishedOrigin();
  t.teardown(() => new Promise<void>((resolve) => origin.server.close(() => resolve())));
  const gw = await startLocalGateway({
    port: 0,
    log: () => {},
    servePage: false,
    auth: { mode: "none" },
    allowedOrigins: [origin.origin],
  });
  t.teardown(() => gw.close());
  origin.publish({ url: gw.url, auth: "none" });
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const listener = await connect(gw.url);
  t.teardown(() => listener.socket.close());

  const page = await openChat(browser, origin.url, { name: "Ada" });
  t.is(await page.inputValue("#url"), gw.url, "the page takes the API's URL from config.json");
  await say(page, "hello from the published page");
  await page.locator(".message", { hasText: "hello from the published page" }).waitFor();
  t.deepEqual(await shownMessages(page), [{ sender: "Ada", text: "hello from the published page", own: true }]);
  await eventually(() => listener.received.some((raw) => String(raw).includes("published page")));
  const frame = JSON.parse(String(listener.received.find((raw) => String(raw).includes("published page"))));
  t.like(frame, { type: "message", name: "Ada", data: "hello from the published page" });
});

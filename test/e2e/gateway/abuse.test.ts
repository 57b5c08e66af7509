/**
 * What a web page on another origin, or another machine, can do to a gateway the command started:
 * it listens on the loopback address only, and refuses any request a page sends (it carries an
 * `Origin`; the SDKs send none) before `@connections` reads it, with no CORS grant, so a page can
 * neither read from nor post to the app's connections. An unsigned call without an `Origin` is
 * refused as AWS refuses it: 403 "Missing Authentication Token" (developer guide, "Use @connections
 * commands in your backend service": calls are signed with SigV4).
 */
import { networkInterfaces } from "node:os";
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect } from "../../support/websocket";

test("a page on another origin gets no CORS grant from @connections and cannot post unsigned", async (t) => {
  const gateway = await startFixture(path.join(FIXTURE_APPS, "sam-chat"));
  t.teardown(() => gateway.close());
  const alice = await connect(gateway.url);
  const connectionId = (await gateway.storedConnections("sam_chat_connections"))[0] as string;
  const target = `${gateway.managementUrl}/@connections/${encodeURIComponent(connectionId)}`;
  const origin = { origin: "http://evil.example" };

  const preflight = await fetch(target, {
    method: "OPTIONS",
    headers: { ...origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
  });
  t.is(preflight.status, 403);
  t.is(preflight.headers.get("access-control-allow-origin"), null);

  // A form's POST needs no preflight: it carries an Origin, and is refused before anything reads it.
  const simple = await fetch(target, {
    method: "POST",
    headers: { ...origin, "content-type": "text/plain" },
    body: "x",
  });
  t.is(simple.status, 403);
  t.is(simple.headers.get("access-control-allow-origin"), null);
  t.true(gateway.lines.some((line) => line.includes('Origin "http://evil.example"')));
  // Without one (a tool, not a page), it is unsigned, and refused as AWS refuses it.
  const unsigned = await fetch(target, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
  t.is(unsigned.status, 403);
  t.is(unsigned.headers.get("x-amzn-errortype"), "MissingAuthenticationTokenException");

  // Nothing reached the client: its next frame is the one its own message brings.
  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "mine" }));
  t.is(String(await alice.next()), "mine");
  alice.socket.close();
});

test("the gateway listens on the loopback address only", async (t) => {
  const gateway = await startFixture(path.join(FIXTURE_APPS, "sam-chat"));
  t.teardown(() => gateway.close());
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && !address.internal && address.family === "IPv4");
  await t.notThrowsAsync(fetch(`http://127.0.0.1:${gateway.port}/`));
  if (!external) {
    t.log("this machine has no other IPv4 address to try");
    return;
  }
  await t.throwsAsync(fetch(`http://${external.address}:${gateway.port}/`));
});

/**
 * A Serverless Framework service (`serverless.yml`: `websocket` events, an authorizer on `$connect`,
 * a table under `resources:`, `${self:}`, `${sls:stage}`, `${opt:stage, 'dev'}` and `${env:}`
 * variables) run unchanged on the generic gateway, over real sockets. Replayed:
 * - The authorizer decides before `$connect`: a token it refuses with "Unauthorized" answers the
 *   handshake 401, and a missing identity source answers 401 "without calling the Lambda function"
 *   (developer guide, "Create a Lambda REQUEST authorizer for WebSocket APIs"); its `context`
 *   reaches later events' `requestContext.authorizer`.
 * - `$disconnect` runs after the client closes (developer guide, "Work with the $connect and
 *   $disconnect routes"); the handlers' `PostToConnection`, to `https://{domainName}/{stage}`,
 *   reaches `@connections`.
 * - `routeResponseSelectionExpression: $default` makes `$default` two-way: its body comes back to
 *   the caller (the Framework's websocket events page; developer guide, "Set up a WebSocket API
 *   integration response").
 */
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect, eventually } from "../../support/websocket";

const SERVERLESS_CHAT = path.join(FIXTURE_APPS, "serverless-chat");

test("two signed-in clients chat through the service's handlers; $disconnect forgets the one that leaves", async (t) => {
  const gateway = await startFixture(SERVERLESS_CHAT);
  t.teardown(() => gateway.close());
  t.regex(gateway.url, /\/dev$/, "opt:stage's fallback, dev, without --stage");
  const table = "serverless-chat-dev-connections";

  const alice = await connect(`${gateway.url}?token=alice-token`);
  const bob = await connect(`${gateway.url}?token=bob-token`);
  t.is((await gateway.storedConnections(table)).length, 2, "$connect stored each connection");

  bob.socket.send(JSON.stringify({ action: "sendmessage", data: "hi alice" }));
  t.is(String(await alice.next()), "bob: hi alice");
  t.is(String(await bob.next()), "bob: hi alice");

  alice.socket.close();
  await eventually(async () => (await gateway.storedConnections(table)).length === 1, 15_000);
  await eventually(() => gateway.lines.some((line) => /\$disconnect .*status=200/.test(line)));
  bob.socket.close();
});

test("the two-way $default route answers the caller with its body, an env variable's value", async (t) => {
  process.env.SERVERLESS_CHAT_UNKNOWN_ACTION_REPLY = "no such action here";
  t.teardown(() => delete process.env.SERVERLESS_CHAT_UNKNOWN_ACTION_REPLY);
  const gateway = await startFixture(SERVERLESS_CHAT);
  t.teardown(() => gateway.close());
  const alice = await connect(`${gateway.url}?token=alice-token`);

  alice.socket.send(JSON.stringify({ action: "dance" }));
  t.is(String(await alice.next()), "no such action here");
  alice.socket.close();
});

test("a token the authorizer refuses, or none, answers the handshake 401 and $connect never runs", async (t) => {
  const gateway = await startFixture(SERVERLESS_CHAT);
  t.teardown(() => gateway.close());

  const refused = await t.throwsAsync(connect(`${gateway.url}?token=mallory-token`));
  t.is((refused as Error & { status?: number }).status, 401);
  const missing = await t.throwsAsync(connect(gateway.url));
  t.is((missing as Error & { status?: number }).status, 401);

  t.deepEqual(await gateway.storedConnections("serverless-chat-dev-connections"), []);
  t.false(gateway.lines.some((line) => / \$connect connection=/.test(line), "no $connect invocation"));
  t.true(gateway.lines.some((line) => /authorizer .*status=401/.test(line), "the authorizer ran for the bad token"));
});

test("--stage names the stage, the functions and the table through the opt:stage and sls:stage variables", async (t) => {
  const gateway = await startFixture(SERVERLESS_CHAT, { stage: "prod" });
  t.teardown(() => gateway.close());
  t.regex(gateway.url, /\/prod$/);
  t.deepEqual(
    gateway.app.routes.map((route) => route.function.name),
    [
      "serverless-chat-prod-connect",
      "serverless-chat-prod-disconnect",
      "serverless-chat-prod-sendMessage",
      "serverless-chat-prod-default",
    ],
  );
  const alice = await connect(`${gateway.url}?token=alice-token`);
  t.is((await gateway.storedConnections("serverless-chat-prod-connections")).length, 1);
  alice.socket.close();
});

test("what the service holds that is not replayed is named, one line each", async (t) => {
  const gateway = await startFixture(SERVERLESS_CHAT);
  t.teardown(() => gateway.close());
  t.deepEqual(gateway.app.unmapped, ["plugins serverless-offline are not run locally"]);
});

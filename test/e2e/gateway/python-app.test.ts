/**
 * A Python app (boto3, as Debian's python3-boto3 installs it) behind a Lambda REQUEST authorizer,
 * run unchanged on the generic gateway through Lambda's Runtime API, over real sockets. Replayed:
 * - The authorizer decides before `$connect`: a token it refuses with "Unauthorized" answers the
 *   handshake 401, and a missing identity source answers 401 "without calling the Lambda function"
 *   (developer guide, "Create a Lambda REQUEST authorizer for WebSocket APIs"; API reference,
 *   CreateAuthorizer, IdentitySource).
 * - Its `context` reaches every later event's `requestContext.authorizer` (developer guide, "Output
 *   from an API Gateway Lambda authorizer").
 * - boto3's calls reach the local DynamoDB and `@connections`, the management endpoint built from
 *   `requestContext.domainName` and `stage`, which API Gateway sets to the API's own
 *   `{apiId}.execute-api.{region}.amazonaws.com` (the developer guide's `$connect` input).
 */
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect, eventually } from "../../support/websocket";

const PYTHON_CHAT = path.join(FIXTURE_APPS, "python-chat");
const TABLE = "python-chat-Connections";

test("two signed-in clients chat through boto3 handlers; the authorizer's user reaches them; $disconnect runs", async (t) => {
  const gateway = await startFixture(PYTHON_CHAT);
  t.teardown(() => gateway.close());

  const alice = await connect(`${gateway.url}?token=alice-token`);
  const bob = await connect(`${gateway.url}?token=bob-token`);
  t.is((await gateway.storedConnections(TABLE)).length, 2);

  bob.socket.send(JSON.stringify({ action: "sendmessage", data: "hi alice" }));
  t.is(String(await alice.next()), "bob: hi alice");
  t.is(String(await bob.next()), "bob: hi alice");

  alice.socket.close();
  await eventually(async () => (await gateway.storedConnections(TABLE)).length === 1, 15_000);
  bob.socket.close();
});

test("a token the authorizer refuses, or none, answers the handshake 401 and $connect never runs", async (t) => {
  const gateway = await startFixture(PYTHON_CHAT);
  t.teardown(() => gateway.close());

  const refused = await t.throwsAsync(connect(`${gateway.url}?token=mallory-token`));
  t.is((refused as Error & { status?: number }).status, 401);
  const missing = await t.throwsAsync(connect(gateway.url));
  t.is((missing as Error & { status?: number }).status, 401);

  t.deepEqual(await gateway.storedConnections(TABLE), []);
  t.false(
    gateway.lines.some((line) => / \$connect connection=/.test(line)),
    "no $connect invocation",
  );
  t.true(
    gateway.lines.some((line) => /authorizer .*status=401/.test(line)),
    "the authorizer ran for the bad token",
  );
});

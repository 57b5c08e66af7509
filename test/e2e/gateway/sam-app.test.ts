/**
 * A SAM app in the style of AWS's simple-websockets-chat-app (ES module handlers, no SDK in their
 * package.json, the management endpoint built from `apiId` and `AWS_REGION`, the table named by a
 * parameter) run unchanged on the generic gateway, over real sockets. What each test replays:
 * - `$connect` and `$disconnect` invoke their functions; `$disconnect` runs after the client closes
 *   ("The $disconnect route is executed after the connection is closed", developer guide, "Work
 *   with the $connect and $disconnect routes").
 * - The message's `action` selects the route (`RouteSelectionExpression: $request.body.action`).
 * - The handler's `PostToConnection` reaches the connection through `@connections`; a connection
 *   that is gone answers 410, which SDK v3 throws as `GoneException` (developer guide, "Use
 *   @connections commands in your backend service").
 * - Lambda's Node.js runtimes provide the AWS SDK v3 to code that declares none (Lambda developer
 *   guide, "Building Lambda functions with Node.js": "runtimes include the AWS SDK for JavaScript").
 */
import path from "node:path";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect, eventually } from "../../support/websocket";

const SAM_CHAT = path.join(FIXTURE_APPS, "sam-chat");
const TABLE = "sam_chat_connections";

test("two clients chat through the SAM app's own handlers; $disconnect forgets the one that leaves", async (t) => {
  const gateway = await startFixture(SAM_CHAT);
  t.teardown(() => gateway.close());
  t.regex(gateway.url, /\/Prod$/, "the stage is the template's StageName parameter's default");

  const alice = await connect(gateway.url);
  const bob = await connect(gateway.url);
  t.is((await gateway.storedConnections(TABLE)).length, 2, "$connect stored each connection");

  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "hello from alice" }));
  t.is(String(await alice.next()), "hello from alice");
  t.is(String(await bob.next()), "hello from alice");

  bob.socket.close();
  await eventually(async () => (await gateway.storedConnections(TABLE)).length === 1, 10_000);
  await eventually(() => gateway.lines.some((line) => /\$disconnect .*status=200/.test(line)));
  alice.socket.close();
});

test("a stale connection answers the handler's post with GoneException, and the handler removes its row", async (t) => {
  const gateway = await startFixture(SAM_CHAT);
  t.teardown(() => gateway.close());
  const alice = await connect(gateway.url);
  const dynamodb = new DynamoDBClient({
    region: "eu-west-1",
    endpoint: gateway.dynamodbEndpoint,
    credentials: gateway.credentials,
  });
  await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { connectionId: { S: "Gone0000000000=" } } }));

  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "anyone?" }));
  t.is(String(await alice.next()), "anyone?");
  await eventually(async () => !(await gateway.storedConnections(TABLE)).includes("Gone0000000000="), 10_000);
  alice.socket.close();
});

test("--parameter-overrides names the table the gateway creates and the handlers use", async (t) => {
  const gateway = await startFixture(SAM_CHAT, { parameterOverrides: { ConnectionsTableName: "other_connections" } });
  t.teardown(() => gateway.close());
  const alice = await connect(gateway.url);
  t.is((await gateway.storedConnections("other_connections")).length, 1);
  alice.socket.close();
});

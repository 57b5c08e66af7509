/**
 * AWS's own simple-websockets-chat-app (aws-samples/simple-websockets-chat-app, vendored unchanged
 * in test/fixtures/apps/simple-websockets-chat-app, see its ORIGIN.md) run with one command, as its
 * user would: `npx websocket-gateway` in its folder, no argument, no change to its files. What holds
 * on AWS holds here:
 * - Two clients chat: `sendmessage` scans the table and posts the message's `data` to every
 *   connection, the sender's included (its README: "Send a message ... all connected clients get it").
 * - `$disconnect` deletes the connection's row ("The $disconnect route is executed after the
 *   connection is closed", developer guide, "Work with the $connect and $disconnect routes").
 * - A stale row: `@connections` answers 410 GoneException for a connection that is gone (developer
 *   guide, "Use @connections commands in your backend service"). The sample's published code,
 *   rewritten for the AWS SDK v3 (its commit 0632033), still tests `e.statusCode === 410`, a field of
 *   SDK v2's errors: SDK v3 puts the status in `$metadata.httpStatusCode`, so the branch that would
 *   delete a row never runs, the error is rethrown and the function answers 500 (with the stack as
 *   its body). The connected clients still get the message, the stale row stays, and since the route
 *   has no route response the 500 reaches no client, as on AWS.
 */
import path from "node:path";
import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import test from "ava";
import { FIXTURE_APPS } from "../../support/app-gateway";
import { GATEWAY_BIN, runCommand } from "../../support/gateway-command";
import { connect, eventually } from "../../support/websocket";

const SAMPLE = path.join(FIXTURE_APPS, "simple-websockets-chat-app");
/** The sample's `TableName` parameter's default. */
const TABLE = "simplechat_connections";

/** `npx websocket-gateway --port 0` in the sample's folder; its URL and a client of its DynamoDB. */
async function startSample(t: { teardown(fn: () => Promise<void>): void }) {
  const command = runCommand(process.execPath, [GATEWAY_BIN, "--port", "0"], SAMPLE);
  t.teardown(command.stop);
  const [, url] = await command.printed(/WebSocket API\s+(ws:\/\/localhost:\d+\/Prod)\n/);
  const [, endpoint] = await command.printed(
    /DynamoDB\s+(http:\/\/127\.0\.0\.1:\d+) \(embedded\) tables simplechat_connections\n/,
  );
  // Signed as the command says your own calls must be: the embedded DynamoDB takes no other keys.
  const [, accessKeyId, secretAccessKey] = await command.printed(
    /your calls\s+sign with AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)\n/,
  );
  const dynamodb = new DynamoDBClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: accessKeyId as string, secretAccessKey: secretAccessKey as string },
  });
  const stored = async () => {
    const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: TABLE }));
    return Items.map((item) => item.connectionId?.S as string).sort();
  };
  return { url: url as string, command, dynamodb, stored };
}

test("two clients chat through the sample's own handlers; the sender gets its message too; $disconnect deletes the row", async (t) => {
  const sample = await startSample(t);
  const alice = await connect(sample.url);
  const bob = await connect(sample.url);
  t.is((await sample.stored()).length, 2, "onconnect put each connection");

  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "hello world" }));
  t.is(String(await alice.next()), "hello world");
  t.is(String(await bob.next()), "hello world");
  bob.socket.send(JSON.stringify({ action: "sendmessage", data: "hello alice" }));
  t.is(String(await alice.next()), "hello alice", "nothing else came first: no error frame");

  bob.socket.close();
  await eventually(async () => (await sample.stored()).length === 1, 15_000);
  alice.socket.close();
});

test("a stale row: the post answers 410, the sample's SDK v2-era check misses it, the row stays and the function answers 500 to no client", async (t) => {
  const sample = await startSample(t);
  const alice = await connect(sample.url);
  const bob = await connect(sample.url);
  await sample.dynamodb.send(
    new PutItemCommand({ TableName: TABLE, Item: { connectionId: { S: "GoneAAAAAAAAAAA=" } } }),
  );

  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "anyone?" }));
  t.is(String(await alice.next()), "anyone?");
  t.is(String(await bob.next()), "anyone?");
  await sample.command.printed(/sendmessage .*status=500/);

  t.deepEqual(
    (await sample.stored()).filter((id) => id === "GoneAAAAAAAAAAA=").length,
    1,
    "the stale row is not deleted",
  );
  t.is((await sample.stored()).length, 3, "nor is the sender's");
  t.notRegex(sample.command.output(), /Found stale connection/, "the 410 branch never ran");
  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "still here" }));
  t.is(String(await alice.next()), "still here", "the 500 sent the sender nothing");
  alice.socket.close();
  bob.socket.close();
});

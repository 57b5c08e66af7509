/**
 * A CDK app's synthesized cloud assembly (`cdk.out`, in the shape aws-cdk-lib 2 writes it: the
 * manifest, the stack's template with `aws:asset:path` metadata, the unzipped asset folder) run on
 * the generic gateway: CommonJS handlers sharing one asset, `TABLE_NAME` from the table's `Ref`, the
 * management endpoint from `domainName` and `stage`. Pseudo parameters (`AWS::Partition`,
 * `AWS::URLSuffix`) as the user guide's "Pseudo parameters reference" gives them.
 */
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect, eventually } from "../../support/websocket";

test("two clients chat through a cdk.out's asset handlers; $disconnect runs", async (t) => {
  const gateway = await startFixture(path.join(FIXTURE_APPS, "cdk-chat", "cdk.out"));
  t.teardown(() => gateway.close());
  t.regex(gateway.url, /\/prod$/);
  const table = "ChatStack-Connections827CEF2F";

  const alice = await connect(gateway.url);
  const bob = await connect(gateway.url);
  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "from the asset" }));
  t.is(String(await alice.next()), "from the asset");
  t.is(String(await bob.next()), "from the asset");

  bob.socket.close();
  await eventually(async () => (await gateway.storedConnections(table)).length === 1, 10_000);
  // Each function's role is read: no line calls a role or policy not replayed.
  t.false(
    gateway.app.unmapped.some((line) => /AWS::IAM::|role is not enforced/.test(line)),
    gateway.app.unmapped.join("\n"),
  );
  alice.socket.close();
});

/**
 * A template's roles, enforced for its functions as Lambda's execution roles are: each function's
 * SDK calls sign with its own role's keys, and DynamoDB and `@connections` allow what the role's
 * statements allow (SAM's `Policies`, expanded as `policy_templates.json` defines them), refusing
 * the rest with the service's AccessDeniedException, so a policy missing from the template fails
 * here as it would once deployed. The fixture's other tests run with their roles enforced.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect, eventually } from "../../support/websocket";

/** sam-chat with `edit` applied to its template. */
function samChatWith(t: { teardown(fn: () => void): void }, edit: (template: string) => string): string {
  const folder = mkdtempSync(path.join(tmpdir(), "sam-roles-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  cpSync(path.join(FIXTURE_APPS, "sam-chat"), folder, { recursive: true });
  const file = path.join(folder, "template.yaml");
  const changed = edit(readFileSync(file, "utf8"));
  writeFileSync(file, changed);
  return folder;
}

test("a function whose role lacks execute-api:ManageConnections cannot post: its calls are refused, nothing is delivered", async (t) => {
  const folder = samChatWith(t, (template) => {
    const withoutManage = template.replace(
      / {8}- Statement:\n {12}- Effect: Allow\n {14}Action: execute-api:ManageConnections\n.*\n/,
      "",
    );
    t.not(withoutManage, template, "the fixture's ManageConnections statement was found");
    return withoutManage;
  });
  const gateway = await startFixture(folder);
  t.teardown(() => gateway.close());
  const alice = await connect(gateway.url);
  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "not allowed" }));
  await eventually(() => gateway.lines.some((line) => /execute-api:ManageConnections/.test(line)), 10_000);
  const denied = gateway.lines.find((line) => /execute-api:ManageConnections/.test(line)) as string;
  t.regex(denied, /AccessDeniedException/);
  t.regex(denied, /SendFunction/);
  // The invocation ends (as the handler's code answers a failed post), and the message reached no one.
  await eventually(() => gateway.lines.some((line) => / sendmessage connection=.* status=/.test(line)), 10_000);
  t.false(alice.received.map(String).includes("not allowed"), "nothing was delivered");
  alice.socket.close();
});

test("a function without a DynamoDB policy is refused the table: $connect fails and the handshake with it", async (t) => {
  const folder = samChatWith(t, (template) =>
    template.replace(
      "      Handler: connect.handler\n      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref ConnectionsTableName\n",
      "      Handler: connect.handler\n",
    ),
  );
  const gateway = await startFixture(folder);
  t.teardown(() => gateway.close());
  const refused = await t.throwsAsync(connect(gateway.url));
  t.regex(String(refused?.message), /handshake refused: 5\d\d/);
  t.true(
    gateway.lines.some((line) =>
      /dynamodb:PutItem .*AccessDeniedException|AccessDeniedException.*dynamodb:PutItem/.test(line),
    ),
    gateway.lines.join("\n"),
  );
  t.deepEqual(await gateway.storedConnections(gateway.app.tables[0]?.definition.TableName as string), []);
});

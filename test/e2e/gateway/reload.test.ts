/**
 * Reload: a handler file saved is the next invocation's code, as after Lambda's
 * UpdateFunctionCode new invocations run in new environments with the new code while those under
 * way finish with the old (developer guide, "Lambda runtime environment"), and as serverless-offline's
 * `--reloadHandler` and `sam local` users expect.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS, startFixture } from "../../support/app-gateway";
import { connect, eventually } from "../../support/websocket";

test("editing a handler makes the next message run the new code, on the same connection", async (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), "sam-chat-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  cpSync(path.join(FIXTURE_APPS, "sam-chat"), folder, { recursive: true });
  const gateway = await startFixture(folder, { reload: true });
  t.teardown(() => gateway.close());
  const alice = await connect(gateway.url);

  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "one" }));
  t.is(String(await alice.next()), "one");

  const send = path.join(folder, "src", "send.js");
  writeFileSync(send, readFileSync(send, "utf8").replace("Data: data", "Data: 'v2 ' + data"));
  await eventually(() => gateway.lines.some((line) => /send\.js changed: .*SendFunction/.test(line)));

  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "two" }));
  t.is(String(await alice.next()), "v2 two");
  alice.socket.close();
});

/**
 * `npm run gateway -- <template>` as a user runs it: a child process that prints the WebSocket URL
 * once ready, names in one line each what of the template it does not replay, serves the app, and
 * stops on SIGTERM; a template it cannot run stops it with one line naming the file.
 */
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS } from "../../support/app-gateway";
import { runCommand } from "../../support/gateway-command";
import { connect } from "../../support/websocket";

const run = (args: string[]) => runCommand("npm", ["run", "--silent", "gateway", "--", ...args]);

test("the command serves a SAM template with parameter overrides, lists what it does not replay, and stops on SIGTERM", async (t) => {
  const gateway = run([
    path.join(FIXTURE_APPS, "sam-chat", "template.yaml"),
    "--port",
    "0",
    "--parameter-overrides",
    "StageName=Dev",
  ]);
  t.teardown(() => gateway.child.kill("SIGKILL"));
  const [, url] = await gateway.printed(/WebSocket API\s+(ws:\/\/localhost:\d+\/Dev)\n/);
  const lines = gateway.output().split("\n");
  for (const part of [
    /not replayed\s+AWS::ApiGatewayV2::Deployment Deployment: not needed locally/,
    /not replayed\s+AWS::Lambda::Permission ConnectPermission, DisconnectPermission, SendPermission: /,
  ]) {
    t.is(lines.filter((line) => part.test(line)).length, 1, `one line for ${part}`);
  }
  // The functions' Policies are read as their roles: nothing of them is left aside.
  t.false(
    lines.some((line) => /Policies|role is not enforced/.test(line)),
    gateway.output(),
  );

  const alice = await connect(url as string);
  alice.socket.send(JSON.stringify({ action: "sendmessage", data: "over the command" }));
  t.is(String(await alice.next()), "over the command");
  alice.socket.close();

  process.kill(-(gateway.child.pid as number), "SIGTERM");
  await gateway.exited;
  t.regex(gateway.output(), /SIGTERM: closing \d+ connection\(s\)\.\.\.\n(.*\n)*Stopped\.\n/);
});

test("a template with no WebSocket API stops the command with one line naming the file", async (t) => {
  const gateway = run([path.join(FIXTURE_APPS, "sam-chat", "src", "package.json"), "--port", "0"]);
  t.not(await gateway.exited, 0);
  t.regex(gateway.output(), /package\.json: no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET/);
});

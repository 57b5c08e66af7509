/**
 * `npm run gateway -- <template>` as a user runs it: a child process that prints the WebSocket URL
 * once ready, names in one line each what of the template it does not replay, serves the app, and
 * stops on SIGTERM; a template it cannot run stops it with one line naming the file.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import test from "ava";
import { FIXTURE_APPS } from "../../support/app-gateway";
import { connect } from "../../support/websocket";

const ROOT = path.join(__dirname, "..", "..", "..");

function run(args: string[]) {
  const child = spawn("npm", ["run", "--silent", "gateway", "--", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
  // "close" comes once every process holding the output pipes has exited, the gateway included.
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const printed = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
      };
      for (const stream of [child.stdout, child.stderr]) stream.on("data", check);
      void exited.then(() => reject(new Error(`exited before printing ${pattern}:\n${output}`)));
    });
  return { child, exited, printed, output: () => output };
}

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
    /not replayed\s+AWS::Serverless::Function ConnectFunction, DisconnectFunction, SendFunction: Policies not enforced/,
  ]) {
    t.is(lines.filter((line) => part.test(line)).length, 1, `one line for ${part}`);
  }

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

/**
 * `npm run local` as a newcomer runs it: a child process with no AWS settings at all.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import test from "ava";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { signIn } from "../../support/chat";
import { connect } from "../../support/websocket";

const ROOT = path.join(__dirname, "..", "..", "..");

/** The environment without any AWS setting, as on a machine that never saw an AWS account. */
function environmentWithoutAws(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_")));
  return { ...env, ...extra };
}

function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        child.stdout?.off("data", onData);
        resolve(match);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${output}`)));
  });
}

test("npm run local serves the chat with guest sign-in, logs each invocation, and stops cleanly on SIGTERM", async (t) => {
  const child = spawn("npm", ["run", "--silent", "local"], {
    cwd: ROOT,
    env: environmentWithoutAws({ WS_PORT: "0" }),
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so SIGTERM reaches npm and the server as a terminal's Ctrl-C would.
    detached: true,
  });
  let output = "";
  let errors = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  // "close" comes once every process holding the output pipes has exited, the server included.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => process.kill(-(child.pid as number), signal);
  t.teardown(() => {
    try {
      signalGroup("SIGKILL");
    } catch {
      // already gone
    }
  });

  const [, port] = (await waitForOutput(child, /WebSocket API\s+ws:\/\/localhost:(\d+)\/dev/)) as [string, string];
  t.regex(output, new RegExp(`chat page\\s+http://localhost:${port}/`));
  t.regex(output, new RegExp(`@connections\\s+http://localhost:${port}/dev/@connections/\\{connectionId\\}`));

  const page = await fetch(`http://127.0.0.1:${port}/`);
  t.is(page.status, 200);
  t.regex(page.headers.get("content-type") ?? "", /text\/html/);

  // Auth is on by default, as in the dev stack: no token, no connection.
  t.regex(output, new RegExp(`sign-in\\s+guest tokens: POST http://localhost:${port}/auth/token`));
  await t.throwsAsync(connect(`ws://127.0.0.1:${port}/dev`), { message: /401/ });
  const adaToken = await signIn(`http://127.0.0.1:${port}`, "Ada");
  const ada = await connect(`ws://127.0.0.1:${port}/dev?token=${adaToken.token}`);
  const bob = await connect(
    `ws://127.0.0.1:${port}/ws?token=${(await signIn(`http://127.0.0.1:${port}`, "Bob")).token}`,
  );
  ada.socket.send(JSON.stringify({ action: "sendmessage", data: "over the real server", name: "Bob" }));
  const [atAda, atBob] = await Promise.all([ada.nextJson<ChatMessageFrame>(), bob.nextJson<ChatMessageFrame>()]);
  t.like(atAda, { data: "over the real server", name: "Ada", userId: adaToken.userId });
  t.deepEqual(atBob, atAda);

  signalGroup("SIGTERM");
  await closed;
  t.deepEqual(await ada.closed, { code: 1001, reason: "Going away" });
  t.deepEqual(await bob.closed, { code: 1001, reason: "Going away" });
  t.regex(output, /POST \/auth\/token function=token status=200 \d+\.\d ms/);
  t.regex(output, /\$connect authorizer connection=\S+ status=401 identity source missing \(authorizer not invoked\)/);
  t.regex(output, /\$connect authorizer connection=\S+ status=200 \d+\.\d ms/);
  t.regex(output, /\$connect connection=\S+ status=200 \d+\.\d ms/);
  t.regex(output, /sendmessage connection=\S+ status=200 \d+\.\d ms/);
  t.is(output.match(/\$disconnect connection=\S+ status=200/g)?.length, 2, "both connections ran $disconnect");
  t.regex(output, /SIGTERM: closing 2 connection\(s\)\.\.\.\n(.*\$disconnect.*\n){2}Stopped\.\n/);
  t.notRegex(errors, /Error|Warning/);
});

/** `npm run local` in a process group of its own, its output collected. */
function npmRunLocal(t: { teardown(fn: () => void): void }) {
  const child = spawn("npm", ["run", "--silent", "local"], {
    cwd: ROOT,
    // The open chat: these tests are about stopping, not signing in.
    env: environmentWithoutAws({ WS_PORT: "0", AUTH: "none" }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output = { stdout: "" };
  child.stdout.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  // "close" comes once every process holding the output pipes has exited, the server included.
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  t.teardown(() => {
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // already gone
    }
  });
  return { child, output, closed };
}

const stopsOn = test.macro(async (t, how: string, signal: (npm: ChildProcess) => void, said: RegExp) => {
  // Prepare
  const { child, output, closed } = npmRunLocal(t);
  const [, port] = (await waitForOutput(child, /WebSocket API\s+ws:\/\/localhost:(\d+)\/dev/)) as [string, string];
  const client = await connect(`ws://127.0.0.1:${port}/dev`);

  // Act
  signal(child);
  await closed;

  // Assess
  t.deepEqual(await client.closed, { code: 1001, reason: "Going away" }, "the server closed its connections");
  t.regex(output.stdout, said);
  t.regex(output.stdout, /\$disconnect connection=\S+ status=200[^\n]*\nStopped\.\n$/);
  t.log(`${how}: ${output.stdout.trim().split("\n").slice(-3).join(" | ")}`);
});

test(
  "npm run local stops the server when only npm is killed, as an IDE's stop button does",
  stopsOn,
  "kill <npm's pid>",
  (npm) => npm.kill("SIGTERM"),
  /parent process \d+ exited: closing 1 connection\(s\)\.\.\./,
);
test(
  "npm run local stops cleanly on SIGHUP, as when its terminal closes",
  stopsOn,
  "SIGHUP to the process group",
  (npm) => process.kill(-(npm.pid as number), "SIGHUP"),
  /SIGHUP: closing 1 connection\(s\)\.\.\./,
);

test("the server run directly stops on SIGINT as on Ctrl-C: connections closed with 1001, $disconnect run, exit code 0", async (t) => {
  const child = spawn(process.execPath, ["--require", "tsx/cjs", "local/express-server.ts"], {
    cwd: ROOT,
    env: environmentWithoutAws({ WS_PORT: "0", AUTH: "none" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const [, port] = (await waitForOutput(child, /WebSocket API\s+ws:\/\/localhost:(\d+)\/dev/)) as [string, string];
  const client = await connect(`ws://127.0.0.1:${port}/dev`);
  child.kill("SIGINT");
  t.is(await exited, 0, "the exit code docs/local-gateway.md promises");
  t.deepEqual(await client.closed, { code: 1001, reason: "Going away" });
  t.regex(output, /SIGINT: closing 1 connection\(s\)\.\.\.\n.*\$disconnect connection=\S+ status=200.*\nStopped\.\n$/);
});

const canIsolateNetwork = process.platform === "linux" && spawnSync("unshare", ["--net", "true"]).status === 0;

// Where unshare --net is not allowed, CI's summary names this test as skipped, and says why.
(canIsolateNetwork ? test : test.skip)(
  `with no AWS credentials and no network but loopback, the gateway still stores connections and chats${canIsolateNetwork ? "" : " (skipped: unshare --net is not allowed on this machine)"}`,
  async (t) => {
    // A fresh network namespace has only a loopback interface: an SDK that went looking for
    // credentials on the instance-metadata address would fail, and so would the chat.
    const script = `
      const { startLocalGateway } = require("./local/express-server");
      const { connect } = require("./test/support/websocket");
      (async () => {
        const gateway = await startLocalGateway({ port: 0, log: () => {} });
        const client = await connect(gateway.url);
        client.socket.send(JSON.stringify({ action: "sendmessage", data: "offline" }));
        const frame = await client.nextJson();
        await gateway.close();
        console.log(JSON.stringify(frame));
      })().catch((error) => { console.error(error); process.exit(1); });`;
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) =>
      execFile(
        "unshare",
        ["--net", "sh", "-c", 'ip link set lo up 2>/dev/null; exec node --import tsx -e "$0"', script],
        {
          cwd: ROOT,
          env: environmentWithoutAws({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }),
          timeout: 60_000,
        },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout })),
      ),
    );
    const frame = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as ChatMessageFrame;
    t.is(frame.type, "message");
    t.is(frame.data, "offline");
  },
);

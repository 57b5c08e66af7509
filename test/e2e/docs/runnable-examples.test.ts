/**
 * The docs' runnable examples, run as a reader would run them, against `npm run local` started as a
 * child process (guest sign-in, as a newcomer gets it). A block marked ```` ```sh runnable ```` runs
 * in bash from the project's root; a block marked ```` ```json runnable ```` is sent a line at a time
 * on one guest's connection; a block marked ```` ```ts runnable ```` is a whole program, run from
 * the project's root with tsx (it starts what it needs). The gateway listens on a free port, put where a block says
 * `localhost:8080`. So the docs cannot drift from the code: a renamed action, an answer of another
 * type, a flag the client lost, fails here.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import WebSocket from "ws";
import { signIn, within } from "../../support/chat";
import { type CodeBlock, ROOT, runnableBlocks } from "../../support/docs";

/** What each action is answered with; `typing` has no answer. */
const ANSWER_TYPE: Record<string, string | undefined> = {
  sendmessage: "ack",
  join: "joined",
  leave: "left",
  who: "who",
  history: "history",
  edit: "ack",
  delete: "ack",
  typing: undefined,
};
/** Frames the room sends that answer no request. */
const ROOM_FRAMES = new Set(["message", "presence", "typing", "edit", "delete", "invite"]);
const ANSWER_MS = 60_000;

const blocks = runnableBlocks();
const shellBlocks = blocks.filter((block) => block.info[0] === "sh");
const jsonBlocks = blocks.filter((block) => block.info[0] === "json");
const programBlocks = blocks.filter((block) => block.info[0] === "ts");
const hasCurl = spawnSync("sh", ["-c", "command -v curl"]).status === 0;

function environmentWithoutAws(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_")));
  return { ...env, ...extra };
}

/** `npm run local` on a free port, as its own process group; resolves with the port it printed. */
function startLocal(): { child: ChildProcess; port: Promise<number> } {
  const child = spawn("npm", ["run", "--silent", "local"], {
    cwd: ROOT,
    env: environmentWithoutAws({ WS_PORT: "0" }),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const port = new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /WebSocket API\s+ws:\/\/localhost:(\d+)\/dev/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`npm run local exited with ${code}:\n${output}`)));
  });
  return { child, port };
}

const local = startLocal();
test.after.always(() => {
  try {
    process.kill(-(local.child.pid as number), "SIGTERM");
  } catch {
    // already gone
  }
});

const where = (block: CodeBlock) => `${block.file}:${block.line}`;
const onPort = (text: string, port: number) => text.replaceAll("localhost:8080", `localhost:${port}`);

test.serial("the docs mark examples runnable: shell commands, the protocol's requests, programs", (t) => {
  t.true(shellBlocks.length >= 3, `sh blocks: ${shellBlocks.map(where).join(", ")}`);
  t.true(jsonBlocks.length >= 3, `json blocks: ${jsonBlocks.map(where).join(", ")}`);
  t.true(programBlocks.length >= 1, `ts blocks: ${programBlocks.map(where).join(", ")}`);
  t.true(
    blocks.every((block) => ["sh", "json", "ts"].includes(block.info[0] as string)),
    "only sh, json and ts blocks can be run",
  );
});

for (const block of programBlocks) {
  test.serial(`${where(block)}: the program runs, exits 0 and prints what its comments say`, (t) => {
    // In the project's root, so its imports resolve as the reader's copy of it would.
    const file = path.join(ROOT, `.runnable-${path.basename(block.file, ".md")}-${block.line}.ts`);
    writeFileSync(file, block.text);
    t.teardown(() => rmSync(file, { force: true }));
    const run = spawnSync(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 2 * ANSWER_MS,
    });
    t.is(run.status, 0, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    // `console.log(x); // output` in the block: each such output is printed.
    for (const printed of block.text.matchAll(/console\.log\(.*\);\s*\/\/\s*(.+)$/gm)) {
      t.true(run.stdout.includes(printed[1] as string), `prints ${printed[1]}:\n${run.stdout}`);
    }
  });
}

for (const block of shellBlocks) {
  const needsCurl = /(^|[\s|(])curl\s/m.test(block.text);
  const title = `${where(block)}: the shell example runs and is answered without an error`;
  if (needsCurl && !hasCurl) {
    test.skip(`${title} (curl is not installed here)`, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    const port = await local.port;
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", onPort(block.text, port)], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 4 * ANSWER_MS,
    });
    t.is(run.status, 0, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    t.not(run.stdout.trim(), "", "it printed nothing");
    t.notRegex(run.stdout, /"type":\s*"error"|^\{"message":/m, "an error frame or API Gateway's own");
    // Each request a pipe sends is answered with its own type, and the token endpoint with a token.
    for (const action of block.text.matchAll(/"action":\s*"(\w+)"/g)) {
      const answer = ANSWER_TYPE[action[1] as string];
      if (answer) t.regex(run.stdout, new RegExp(`"type":"${answer}"`), `the answer to ${action[1]}`);
    }
    if (needsCurl) t.regex(run.stdout, /"token":"[\w-]+\.[\w-]+\.[\w-]+"/);
  });
}

/** One guest in the room `kitchen`, and the frames that answer its requests, in order. */
async function guestConnection(port: number) {
  const { token } = await signIn(`http://127.0.0.1:${port}`, "Ada");
  const socket = new WebSocket(`ws://127.0.0.1:${port}/dev?room=kitchen&token=${token}`);
  const answers: Array<Record<string, unknown>> = [];
  const waiting: Array<(frame: Record<string, unknown>) => void> = [];
  socket.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    if (typeof frame.type === "string" && ROOM_FRAMES.has(frame.type)) return;
    const waiter = waiting.shift();
    if (waiter) waiter(frame);
    else answers.push(frame);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const nextAnswer = () =>
    within(
      ANSWER_MS,
      "the request",
      new Promise<Record<string, unknown>>((resolve) => {
        const frame = answers.shift();
        if (frame) resolve(frame);
        else waiting.push(resolve);
      }),
    );
  return { socket, nextAnswer };
}

for (const block of jsonBlocks) {
  test.serial(`${where(block)}: each request is answered as the protocol says`, async (t) => {
    const client = await guestConnection(await local.port);
    t.teardown(() => client.socket.close());
    for (const line of block.text.split("\n").filter((text) => text.trim() !== "")) {
      const request = JSON.parse(line) as { action: string };
      t.true(request.action in ANSWER_TYPE, `an action the protocol lists: ${line}`);
      client.socket.send(line);
      const expected = ANSWER_TYPE[request.action];
      if (!expected) continue;
      const answer = await client.nextAnswer();
      t.is(answer.type, expected, `${line} → ${JSON.stringify(answer)}`);
    }
  });
}

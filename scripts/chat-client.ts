/**
 * `npm run chat`: a terminal client of the chat, so the docs' examples need nothing but Node (no
 * wscat, no curl). Signs in as a guest when given `--name`, connects, sends each line of its input
 * as one text frame and prints each frame it receives on a line of its own. When its input ends
 * (Ctrl-D, or the end of a pipe) it waits for the answer to every request it sent, then closes.
 *
 *   npm run -s chat -- [--name Ada] [--room kitchen] [--token-url URL] [--wait SECONDS] [ws://localhost:8080/dev]
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { tokenEndpoint } from "../functions/routes";

const USAGE =
  "usage: npm run -s chat -- [--name NAME] [--room ROOM] [--token-url URL] [--wait SECONDS] [WEBSOCKET_URL]";

/** Frames that answer a request: the routes' answers, and API Gateway's own (`{"message": ...}`, no type). */
function isAnswer(frame: string): boolean {
  try {
    const parsed = JSON.parse(frame) as { type?: string; message?: unknown };
    if (parsed.type === undefined) return typeof parsed.message === "string";
    return ["ack", "joined", "left", "who", "history", "error"].includes(parsed.type);
  } catch {
    return false;
  }
}

/** Whether a line sent gets an answer: every request does but `typing` (and an empty line is not sent). */
function expectsAnswer(line: string): boolean {
  try {
    return (JSON.parse(line) as { action?: unknown }).action !== "typing";
  } catch {
    return true; // not JSON: API Gateway answers Forbidden
  }
}

/** A guest token for `name` from the token endpoint at `tokenUrl`. */
async function guestToken(tokenUrl: string, name: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = (await response.json()) as { token?: string; message?: string };
  if (response.status !== 200 || !body.token) {
    throw new Error(`${tokenUrl} refused a token for ${JSON.stringify(name)}: ${response.status} ${body.message}`);
  }
  return body.token;
}

async function connectionUrl(values: { name?: string; room?: string; "token-url"?: string }, base: string) {
  const url = new URL(base);
  if (values.room) url.searchParams.set("room", values.room);
  if (values.name) {
    const origin = `${url.protocol === "wss:" ? "https:" : "http:"}//${url.host}`;
    url.searchParams.set(
      "token",
      await guestToken(values["token-url"] ?? `${origin}${tokenEndpoint.localPath}`, values.name),
    );
  }
  return url.toString();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: "string" },
      room: { type: "string" },
      "token-url": { type: "string" },
      wait: { type: "string", default: "10" },
    },
  });
  const waitSeconds = Number(values.wait);
  if (positionals.length > 1 || !(waitSeconds > 0)) throw new Error(USAGE);
  const socket = new WebSocket(await connectionUrl(values, positionals[0] ?? "ws://localhost:8080/dev"));
  let awaited = 0;
  let inputEnded = false;
  const finishIfDone = () => {
    if (inputEnded && awaited <= 0) socket.close(1000);
  };
  socket.on("unexpected-response", (_request, response) => {
    console.error(`the handshake was refused: HTTP ${response.statusCode} ${response.statusMessage}`);
    process.exit(1);
  });
  socket.on("error", (error) => {
    console.error(error.message);
    process.exit(1);
  });
  socket.on("message", (data, isBinary) => {
    const frame = isBinary ? `(binary, ${(data as Buffer).length} bytes)` : data.toString();
    console.log(frame);
    if (isAnswer(frame)) awaited -= 1;
    finishIfDone();
  });
  socket.on("close", (code, reason) => {
    if (code === 1000 && inputEnded && awaited <= 0) process.exit(0);
    console.error(`the connection closed: ${code} ${reason.toString()}`);
    process.exit(1);
  });
  await new Promise<void>((resolve) => socket.once("open", () => resolve()));
  const input = createInterface({ input: process.stdin, terminal: false });
  input.on("line", (line) => {
    if (line.trim() === "") return;
    socket.send(line);
    if (expectsAnswer(line)) awaited += 1;
  });
  input.on("close", () => {
    inputEnded = true;
    finishIfDone();
    setTimeout(() => {
      console.error(`${awaited} request(s) unanswered after ${waitSeconds} s`);
      process.exit(1);
    }, waitSeconds * 1000).unref();
  });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

/**
 * Lambda's Node.js runtime as a function's package meets it, run by plain `node` in a fresh process
 * (compiled on its own by `./deployed-packages.ts`: no TypeScript loader in the process measured).
 * It loads `__index.js` (the init, timed), then calls `handler(event, context)` for each event in
 * turn, and writes what happened to file descriptor 3: stdout and stderr hold what the function
 * logged, as in CloudWatch.
 *
 * With `modelled`, AWS's HTTPS endpoints (the `@connections` API, Lambda's Invoke, KMS) answer in
 * this process after `latencyMs` instead of over the network, as `npm run bench:lambda` models them;
 * past an invocation's timeout nothing answers (Lambda has frozen the function). DynamoDB, on this
 * machine, stays real. Only Node's own modules may be imported here.
 */
import { writeSync } from "node:fs";
import https from "node:https";
import { PassThrough } from "node:stream";

export interface RunnerRequest {
  /** The package's folder, holding `__index.js`. */
  dir: string;
  events: unknown[];
  modelled?: { latencyMs: number; timeoutMs: number };
}

export interface RunnerInvocation {
  /** From the call to the handler's answer (or the timeout). */
  durationMs: number;
  result?: unknown;
  /** The error's stack, if the handler threw. */
  error?: string;
  /** With `modelled`: each post answered, `[connectionId, ms after the invocation began]`. */
  posts: [string, number][];
  /** With `modelled`: each Invoke's payload, and when it was answered. */
  handOffs: { job: unknown; atMs: number }[];
  /** When the invocation began, on the machine's clock (ms since the epoch). */
  startedAt: number;
}

export interface RunnerResult {
  initMs: number;
  /** Fewer than the events when one timed out: Lambda resets the environment after a timeout. */
  /** The init's error, if loading the package threw: no invocation ran. */
  initError?: string;
  invocations: RunnerInvocation[];
}

const CONTEXT = {
  awsRequestId: "7f5c3f1e-0000-4000-8000-000000000001",
  functionName: "package-test",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = () => performance.timeOrigin + performance.now();

interface Timeline {
  current?: RunnerInvocation;
  started: number;
  deadline: number;
}

/** AWS's answer to a request: a post 200, an Invoke 202, KMS's Sign a signature (of zeros: nothing verifies it here). */
function answerOf(path: string, target: string): { statusCode: number; body: string } {
  if (target === "TrentService.Sign") {
    return { statusCode: 200, body: JSON.stringify({ Signature: Buffer.alloc(256).toString("base64") }) };
  }
  return { statusCode: path.includes("/@connections/") ? 200 : 202, body: "" };
}

/** `https.request` answered here: enough of a ClientRequest for the SDK's Node HTTP handler. */
function modelHttps(latencyMs: number, timeline: Timeline): void {
  const { request: overNetwork } = https;
  https.request = ((
    options: { host?: string; path?: string; headers?: Record<string, string> },
    onResponse: (response: PassThrough) => void,
  ) => {
    // The benchmark's own endpoints (DynamoDB) are on this machine: they answer over TLS.
    if (options.host === "127.0.0.1") return overNetwork(options, onResponse as never);
    const request = new PassThrough();
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    Object.assign(request, {
      socket: { connecting: false, setKeepAlive() {}, setTimeout() {}, removeListener() {}, destroy() {} },
      setTimeout() {},
    });
    request.on("finish", async () => {
      await sleep(latencyMs);
      // Past the timeout Lambda has frozen the function: nothing it sent is answered.
      if (performance.now() > timeline.deadline) return;
      const path = options.path ?? "";
      const at = performance.now() - timeline.started;
      const answer = answerOf(path, options.headers?.["x-amz-target"] ?? "");
      if (path.includes("/@connections/")) {
        timeline.current?.posts.push([decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)), at]);
      } else if (path.endsWith("/invocations")) {
        timeline.current?.handOffs.push({ job: JSON.parse(Buffer.concat(chunks).toString()), atMs: at });
      }
      const response = Object.assign(new PassThrough(), {
        statusCode: answer.statusCode,
        statusMessage: "",
        headers: { "content-type": "application/x-amz-json-1.1", "content-length": String(answer.body.length) },
      });
      onResponse(response);
      response.end(answer.body);
    });
    return request;
  }) as unknown as typeof https.request;
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString()) as RunnerRequest;
  const timeline: Timeline = { started: 0, deadline: Number.POSITIVE_INFINITY };
  if (request.modelled) modelHttps(request.modelled.latencyMs, timeline);
  const timeoutMs = request.modelled?.timeoutMs ?? Number.POSITIVE_INFINITY;
  const result: RunnerResult = { initMs: 0, invocations: [] };
  const initStarted = performance.now();
  let handler: (event: unknown, context: typeof CONTEXT) => Promise<unknown>;
  try {
    ({ handler } = require(`${request.dir}/__index.js`));
    result.initMs = performance.now() - initStarted;
  } catch (error) {
    result.initError = error instanceof Error ? (error.stack ?? String(error)) : String(error);
    return finish(result);
  }
  for (const event of request.events) {
    const invocation: RunnerInvocation = { durationMs: 0, posts: [], handOffs: [], startedAt: clock() };
    timeline.current = invocation;
    timeline.started = performance.now();
    timeline.deadline = timeline.started + timeoutMs;
    const answered = await Promise.race([
      Promise.resolve()
        .then(() => handler(event, CONTEXT))
        .then(
          (value) => {
            invocation.result = value;
          },
          (error: unknown) => {
            invocation.error = error instanceof Error ? (error.stack ?? String(error)) : String(error);
          },
        )
        .then(() => true),
      ...(Number.isFinite(timeoutMs) ? [sleep(timeoutMs).then(() => false)] : []),
    ]);
    invocation.durationMs = Math.min(performance.now() - timeline.started, timeoutMs);
    result.invocations.push(invocation);
    // Lambda resets an environment whose invocation timed out: this one ends, its work unfinished,
    // and the events left are for a new one.
    if (!answered) break;
  }
  finish(result);
}

/** Writes the result and ends: a timed-out invocation's work never settles, as Lambda would drop it. */
function finish(result: RunnerResult): void {
  writeSync(3, JSON.stringify(result));
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

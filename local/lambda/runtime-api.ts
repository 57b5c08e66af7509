/**
 * Lambda's Runtime API for one execution environment, on a loopback port of its own: the runtime
 * process (`./runtimes/`) long-polls `GET /2018-06-01/runtime/invocation/next` for the event, and
 * posts the result to `.../invocation/{id}/response`, a failure to `.../invocation/{id}/error`, or a
 * failed start to `/runtime/init/error`. Headers and error bodies as the API reference gives them;
 * a result over 6 MB fails the invocation (Lambda's synchronous payload quota).
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * Only the runtime process should reach it: a request that carries what browsers add (`Origin`,
 * `Referer`, `Sec-Fetch-*`) or names another host is refused, so a web page can neither take an
 * event nor answer for the function.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const PREFIX = "/2018-06-01/runtime";
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/** What the runtime answered for one invocation. */
export type RuntimeOutcome =
  | { kind: "response"; payload: Buffer }
  | { kind: "error"; errorType: string; errorMessage: string; stackTrace?: string[] };

interface Invocation {
  requestId: string;
  payload: string;
  deadlineMs: number;
  functionArn: string;
  settle(outcome: RuntimeOutcome): void;
}

export class RuntimeApi {
  private waiting: ServerResponse | undefined;
  private queued: Invocation | undefined;
  private current: Invocation | undefined;
  /** Set when the runtime reported a failed start: every invocation fails with it. */
  private initError: RuntimeOutcome | undefined;
  private initDone: () => void = () => {};
  /**
   * Settles when the runtime's Init phase is over: its first `GET /invocation/next` (the handler's
   * module loaded), a reported failed start, or its end.
   */
  readonly initialized = new Promise<void>((resolve) => {
    this.initDone = resolve;
  });

  private constructor(
    private readonly server: Server,
    /** `127.0.0.1:{port}`, for `AWS_LAMBDA_RUNTIME_API`. */
    readonly address: string,
  ) {}

  static async start(): Promise<RuntimeApi> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const api = new RuntimeApi(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (request, response) => api.route(request, response));
    return api;
  }

  /** Hands `payload` to the runtime and resolves with its answer. One invocation at a time. */
  invoke(
    payload: string,
    meta: { requestId: string; deadlineMs: number; functionArn: string },
  ): Promise<RuntimeOutcome> {
    if (this.initError) return Promise.resolve(this.initError);
    return new Promise((settle) => {
      this.queued = { ...meta, payload, settle };
      this.deliver();
    });
  }

  /** The runtime failed to start or ended: no invocation can run here any more. */
  get ended(): boolean {
    return this.initError !== undefined;
  }

  /** The runtime process ended: what it was running fails with `outcome`. */
  fail(outcome: RuntimeOutcome): void {
    this.initError ??= outcome;
    this.initDone();
    for (const invocation of [this.current, this.queued]) invocation?.settle(outcome);
    this.current = this.queued = undefined;
  }

  close(): void {
    this.waiting?.destroy();
    this.server.closeAllConnections();
    this.server.close();
  }

  private deliver(): void {
    const { waiting, queued } = this;
    if (!waiting || !queued) return;
    this.waiting = this.queued = undefined;
    this.current = queued;
    waiting.writeHead(200, {
      "content-type": "application/json",
      "lambda-runtime-aws-request-id": queued.requestId,
      "lambda-runtime-deadline-ms": String(queued.deadlineMs),
      "lambda-runtime-invoked-function-arn": queued.functionArn,
      "lambda-runtime-trace-id": traceId(),
    });
    waiting.end(queued.payload);
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const fromBrowser = Object.keys(request.headers).some((name) => /^(origin|referer|sec-fetch-)/.test(name));
    if (fromBrowser || request.headers.host !== this.address) {
      answer(response, 403, { errorType: "Forbidden", errorMessage: "only the function's runtime may call this API" });
      request.resume();
      return;
    }
    const path = request.url ?? "";
    if (request.method === "GET" && path === `${PREFIX}/invocation/next`) {
      this.initDone();
      this.waiting?.destroy();
      this.waiting = response;
      response.once("close", () => {
        if (this.waiting === response) this.waiting = undefined;
      });
      this.deliver();
      request.resume();
      return;
    }
    const result = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    const initError = path === `${PREFIX}/init/error`;
    if (request.method !== "POST" || (!result && !initError)) {
      answer(response, 404, { errorType: "NotFound", errorMessage: `no route ${request.method} ${path}` });
      request.resume();
      return;
    }
    readBody(request, MAX_RESPONSE_BYTES).then((body) => {
      if (initError) {
        this.fail(errorOutcome(body, request));
        return answer(response, 202, { status: "OK" });
      }
      const [, requestId, kind] = result as RegExpExecArray;
      const invocation = this.current;
      if (!invocation || invocation.requestId !== requestId) {
        return answer(response, 400, { errorType: "InvalidRequestID", errorMessage: "Invalid request ID" });
      }
      this.current = undefined;
      if (body === undefined) {
        invocation.settle({
          kind: "error",
          errorType: "Function.ResponseSizeTooLarge",
          errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        });
        return answer(response, 413, { errorType: "RequestEntityTooLarge", errorMessage: "payload too large" });
      }
      invocation.settle(kind === "response" ? { kind: "response", payload: body } : errorOutcome(body, request));
      answer(response, 202, { status: "OK" });
    });
  }
}

/** The runtime's error body (`errorType`, `errorMessage`, `stackTrace`), or its type header alone. */
function errorOutcome(body: Buffer | undefined, request: IncomingMessage): RuntimeOutcome {
  const header = request.headers["lambda-runtime-function-error-type"];
  let parsed: { errorType?: unknown; errorMessage?: unknown; stackTrace?: unknown } = {};
  try {
    parsed = JSON.parse(body?.toString("utf8") ?? "{}") as typeof parsed;
  } catch {
    // Not JSON: the header still names the error.
  }
  return {
    kind: "error",
    errorType: String(parsed.errorType ?? header ?? "Unhandled"),
    errorMessage: String(parsed.errorMessage ?? ""),
    ...(Array.isArray(parsed.stackTrace) && { stackTrace: parsed.stackTrace.map(String) }),
  };
}

/** The body, or `undefined` once it passes `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    request.on("error", () => resolve(Buffer.alloc(0)));
  });
}

function answer(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/** An X-Ray trace header: `Root=1-{epoch seconds, hex}-{96 random bits, hex};Parent=...;Sampled=0`. */
export function traceId(): string {
  const seconds = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${seconds}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}

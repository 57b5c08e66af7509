/**
 * One Lambda execution environment for the fan-out model (`./fanout-model.ts`), run as a child
 * held to the function's CPU share (`./cpu-quota.ts`). It reads a request on stdin, builds the
 * real handler with the real SDK clients as a cold start would (timed: the init), runs the
 * invocations one after another (the first cold, the rest warm) and prints, per invocation, when
 * each PostToConnection completed and to whom, the jobs handed to workers and when, and the
 * DynamoDB read units consumed. AWS's side is modelled: every post is answered after
 * `postLatencyMs`, every asynchronous Invoke after `invokeLatencyMs`.
 */
import type { BroadcastJob } from "../functions/broadcast/fanout";

export interface SandboxRequest {
  kind: "sendmessage" | "broadcast";
  env: Record<string, string>;
  /** `sendmessage` events, or broadcast jobs. */
  events: unknown[];
  postLatencyMs: number;
  invokeLatencyMs: number;
  /** The function timeout: posts after it never complete (Lambda has stopped the function). */
  timeoutMs: number;
}

interface SandboxInvocation {
  durationMs: number;
  /** `[connectionId, ms after the invocation began]` of each completed post. */
  posts: [string, number][];
  /** Jobs handed off, with when their Invoke returned. */
  handOffs: { job: BroadcastJob; atMs: number }[];
  readUnits: number;
}

export interface SandboxResult {
  initMs: number;
  invocations: SandboxInvocation[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A transport answering every request after `latencyMs`, or never once the invocation timed out. */
function modelledTransport(
  latencyMs: number,
  state: { deadline: number },
  onAnswer: (path: string, body: string) => number,
) {
  return {
    metadata: { handlerProtocol: "http/1.1" },
    async handle(request: { path: string; body?: unknown }) {
      await sleep(latencyMs);
      // Past the timeout Lambda has frozen the function: nothing it sent is answered.
      if (performance.now() > state.deadline) await new Promise(() => {});
      const body = request.body === undefined ? "" : Buffer.from(request.body as Uint8Array).toString("utf8");
      const statusCode = onAnswer(request.path, body);
      return { response: { statusCode, headers: {}, body: new Uint8Array() } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

async function main(): Promise<void> {
  const request = JSON.parse(await new Response(process.stdin as unknown as ReadableStream).text()) as SandboxRequest;
  const state = { deadline: Number.POSITIVE_INFINITY, started: 0 };
  let current: SandboxInvocation | undefined;
  const since = () => performance.now() - state.started;

  const initStarted = performance.now();
  // Loaded here, not at the top: their loading is part of the cold start measured.
  const { readFunctionConfig } =
    require("../functions/runtime/function-config") as typeof import("../functions/runtime/function-config");
  const deps =
    require("../functions/runtime/handler-dependencies") as typeof import("../functions/runtime/handler-dependencies");
  const { routes, broadcastWorker } = require("../functions/routes") as typeof import("../functions/routes");
  const config = readFunctionConfig(request.env);
  const client = deps.tablesClient(config);
  // Every request asks for its capacity; each answer's is added to the invocation's count.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = "TOTAL";
      const output = await next(args);
      const consumed = (output.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
      // Reads only: the claim and the message stored are writes.
      if (current && consumed && /^(Query|Get)Command$/.test(context.commandName ?? "")) {
        const units = consumed.CapacityUnits ?? 0;
        // A Query that finds nothing is billed half a unit on AWS; the embedded DynamoDB says 0.
        current.readUnits += units === 0 && context.commandName === "QueryCommand" ? 0.5 : units;
      }
      return output;
    },
    { step: "initialize", name: "consumedCapacity" },
  );
  const posts = modelledTransport(request.postLatencyMs, state, (path) => {
    current?.posts.push([decodeURIComponent(path.slice(path.lastIndexOf("/") + 1)), since()]);
    return 200;
  });
  const invokes = modelledTransport(request.invokeLatencyMs, state, (_path, body) => {
    current?.handOffs.push({ job: JSON.parse(body) as BroadcastJob, atMs: since() });
    return 202;
  });
  const dependencies = {
    ...deps.createHandlerDependencies(config),
    ...deps.chatRepositories(client, config),
    managementApi: deps.createManagementApi(config, posts),
    ...(config.broadcastFunctionName && { broadcastWorker: deps.createBroadcastWorkerClient(config, invokes) }),
  };
  const sendmessage = routes.find((route) => route.routeKey === "sendmessage");
  const handler = (
    request.kind === "broadcast"
      ? broadcastWorker.createHandler(dependencies)
      : sendmessage?.createHandler(dependencies)
  ) as (event: unknown) => Promise<unknown>;
  const initMs = performance.now() - initStarted;

  const invocations: SandboxInvocation[] = [];
  for (const event of request.events) {
    current = { durationMs: 0, posts: [], handOffs: [], readUnits: 0 };
    state.started = performance.now();
    state.deadline = state.started + request.timeoutMs;
    const finished = await Promise.race([handler(event).then(() => true), sleep(request.timeoutMs).then(() => false)]);
    current.durationMs = Math.min(since(), request.timeoutMs);
    invocations.push(current);
    // The stopped invocation's last posts wake and hang before the next one moves the deadline.
    if (!finished) await sleep(1000);
  }
  // A timed-out invocation's posts never settle: end once the result is out, as Lambda would
  // freeze or drop the environment.
  process.stdout.write(JSON.stringify({ initMs, invocations } satisfies SandboxResult), () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

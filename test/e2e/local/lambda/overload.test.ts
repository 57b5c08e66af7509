/**
 * More load than Lambda's concurrency admits, made exact: the test sets the limit and the handlers
 * wait until the test releases them, so what is admitted and what is refused never depends on this
 * machine's speed. Lambda refuses an invocation past the account's concurrency limit with 429
 * TooManyRequestsException (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html),
 * and API Gateway answers a rejected invocation as an internal error: "If the Lambda API rejects
 * the invocation request, API Gateway returns a 500 error code [...] the body of the response from
 * API Gateway is {"message": "Internal server error"}"
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html). So a throttled
 * `$connect` is refused with 500 and a throttled message gets the Internal server error frame.
 * What this machine serves under a flood is measured by `npm run bench:overload`, not here.
 * And a burst of honest clients is no overload: a fresh `npm run local` serves 100 at once.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import test from "ava";
import { type RouteDefinition, routes } from "../../../../functions/routes";
import { chatGateway, messagesAt, say, within } from "../../../support/chat";
import { deferred } from "../../../support/function-fixtures";
import { connect, eventually, type TestClient } from "../../../support/websocket";

const ROOT = path.join(__dirname, "..", "..", "..", "..");
const THROTTLED =
  / status=500 .* throttled: TooManyRequestsException \(ConcurrentInvocationLimitExceeded, limit \d+\)$/;

test("past the concurrency limit $connect is refused with 500 and a message answered Internal server error, until an execution ends", async (t) => {
  // Prepare: one concurrent execution, taken by a handler that waits for the test.
  const release = deferred();
  const started = deferred();
  const hold: RouteDefinition = {
    routeKey: "hold",
    name: "hold",
    tableActions: {},
    manageConnections: false,
    rateLimit: "none",
    createHandler: () => async () => {
      started.resolve();
      await release.promise;
      return { statusCode: 200 };
    },
  };
  const connectRoute: RouteDefinition = {
    ...hold,
    routeKey: "$connect",
    name: "onconnect",
    createHandler: () => async () => ({ statusCode: 200 }),
  };
  const gw = await chatGateway({ routes: [connectRoute, hold], limits: { concurrentExecutions: 1 } });
  t.teardown(() => {
    release.resolve();
    return gw.close();
  });
  const holder = await connect(gw.url);
  holder.socket.send(JSON.stringify({ action: "hold" }));
  await started.promise; // the one execution is taken

  // Act
  const refused = await t.throwsAsync(connect(gw.url));
  holder.socket.send(JSON.stringify({ action: "hold" }));
  const answer = await holder.nextJson<{ message: string; connectionId: string; requestId: string }>();
  release.resolve();
  await eventually(() => gw.log.some((line) => / hold connection=\S+ status=200 /.test(line)));
  const later = await connect(gw.url);

  // Assess
  t.is((refused as Error & { status?: number }).status, 500);
  t.is(answer.message, "Internal server error");
  t.deepEqual(Object.keys(answer), ["message", "connectionId", "requestId"]);
  const throttled = gw.log.filter((line) => line.includes("throttled"));
  t.is(throttled.length, 2);
  for (const line of throttled) t.regex(line, THROTTLED);
  t.is(later.socket.readyState, later.socket.OPEN, "capacity is back as soon as the execution ends");
});

test("a flood past the limit: each message answered once, each admitted one delivered to every client once, one log line each, admitted again at once", async (t) => {
  // Prepare: 20 clients in one room; the project's sendmessage waits for the test before it runs,
  // and 4 executions are all there are.
  const CLIENTS = 20;
  const LIMIT = 4;
  const release = deferred();
  const waiting: number[] = [];
  const gated = routes.map(
    (route): RouteDefinition =>
      route.routeKey !== "sendmessage"
        ? route
        : {
            ...route,
            createHandler: (deps) => {
              const handler = route.createHandler(deps);
              return async (event, context) => {
                waiting.push(1);
                await release.promise;
                return handler(event, context);
              };
            },
          },
  );
  const gw = await chatGateway({ routes: gated, limits: { concurrentExecutions: LIMIT } });
  t.teardown(() => {
    release.resolve(); // a failed assertion must not leave the gateway's close waiting on them
    return gw.close();
  });
  const clients: TestClient[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await connect(`${gw.url}?room=flood`));
  const senders = clients.slice(0, 5);

  // Act: 5 senders send 6 messages each while the 4 admitted wait.
  for (let round = 0; round < 6; round++) for (const [s, sender] of senders.entries()) say(sender, `${s}:${round}`);
  const refusals = () => senders.flatMap((sender) => sender.received).filter((f) => String(f).includes('"message":'));
  await eventually(() => waiting.length === LIMIT && refusals().length === 30 - LIMIT);
  release.resolve();
  const admitted = () =>
    new Set(
      senders.flatMap((sender, s) =>
        messagesAt(sender)
          .map((m) => m.data)
          .filter((d) => d.startsWith(`${s}:`)),
      ),
    );
  await eventually(() => admitted().size === LIMIT && clients.every((client) => messagesAt(client).length === LIMIT));
  // Their executions are given back before their log lines are written.
  await eventually(
    () => gw.log.filter((line) => / sendmessage connection=\S+ status=200 /.test(line)).length === LIMIT,
  );
  say(senders[0] as TestClient, "after");
  await eventually(() => clients.every((client) => messagesAt(client).some((m) => m.data === "after")));

  // Assess: every message got exactly one answer, a delivery or the throttle's frame.
  t.is(admitted().size + refusals().length, 30);
  t.true(refusals().every((frame) => JSON.parse(String(frame)).message === "Internal server error"));
  for (const client of clients) {
    const seen = messagesAt(client).map((m) => m.data);
    t.deepEqual([...new Set(seen)].sort(), [...admitted(), "after"].sort(), "each admitted message reached everyone");
    t.is(new Set(seen).size, seen.length, "none twice");
  }
  const sends = gw.log.filter((line) => / sendmessage connection=/.test(line));
  t.is(sends.length, 31, "one log line per invocation");
  t.is(sends.filter((line) => THROTTLED.test(line)).length, 30 - LIMIT);
  t.is(sends.filter((line) => / status=200 /.test(line)).length, LIMIT + 1, "the rest ran, the last admitted at once");
});

/** `npm run local`'s server in a process of its own, so its clients arrive as a crowd's would. */
async function startLocalServer(t: { teardown(fn: () => unknown): void }) {
  const child: ChildProcess = spawn(process.execPath, ["--require", "tsx/cjs", "local/express-server.ts"], {
    cwd: ROOT,
    // The stage's throttling (and the limits per address) are another test's: this one is the machine's.
    env: { ...process.env, WS_PORT: "0", AUTH: "none", THROTTLING: "off" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  t.teardown(() => child.kill("SIGKILL"));
  const url = await within(
    30_000,
    "the server to start",
    new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", () => {
        const match = /WebSocket API\s+ws:\/\/localhost(:\d+\/\S+)/.exec(output);
        if (match) resolve(`ws://127.0.0.1${match[1]}`);
      });
      child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
    }),
  );
  return { url, log: () => output };
}

test("a burst of honest clients is no overload: 100 connecting at once to a fresh npm run local are all served", async (t) => {
  // A class opening the same link, or every client reconnecting after a deploy: Lambda would
  // serve every one, and this machine finishes them well within their timeout.
  const server = await startLocalServer(t);

  const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => connect(`${server.url}?room=class`)));

  const refused = outcomes.filter((outcome) => outcome.status === "rejected");
  t.deepEqual(
    refused.map((outcome) => String(outcome.reason)),
    [],
  );
  await eventually(() => server.log().match(/ \$connect connection=\S+ status=200 /g)?.length === 100);
  t.false(
    server.log().includes("throttled"),
    server
      .log()
      .split("\n")
      .find((line) => line.includes("throttled")),
  );
  for (const outcome of outcomes) if (outcome.status === "fulfilled") outcome.value.socket.terminate();
});

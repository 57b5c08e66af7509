/**
 * More load than the machine can serve. Lambda refuses an invocation past the account's
 * concurrency limit with 429 TooManyRequestsException
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), and API Gateway answers
 * a rejected invocation as an internal error: "If the Lambda API rejects the invocation request,
 * API Gateway returns a 500 error code [...] the body of the response from API Gateway is
 * {"message": "Internal server error"}"
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html). So a throttled
 * `$connect` is refused with 500 and a throttled message gets the Internal server error frame.
 * What is admitted is delivered; memory and the log stay bounded; service resumes at once.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import test from "ava";
import type { RouteDefinition } from "../../../../functions/routes";
import { chatGateway, messagesAt, say, within } from "../../../support/chat";
import { deferred } from "../../../support/function-fixtures";
import { connect, eventually, type TestClient } from "../../../support/websocket";

const ROOT = path.join(__dirname, "..", "..", "..", "..");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  t.teardown(async () => {
    gw.table.close();
    await gw.close();
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
  for (const line of throttled) {
    t.regex(line, / status=500 .* throttled: TooManyRequestsException \(ConcurrentInvocationLimitExceeded, limit 1\)$/);
  }
  t.is(later.socket.readyState, later.socket.OPEN, "capacity is back as soon as the execution ends");
});

/** `npm run local`'s server in a process of its own, so its memory and log are its alone. */
async function startServer(env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, ["--require", "tsx/cjs", "local/express-server.ts"], {
    cwd: ROOT,
    // A load test: the stage's throttling, which would refuse most of it first, is off.
    env: {
      ...process.env,
      WS_PORT: "0",
      AUTH: "none",
      THROTTLING: "off",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString();
  });
  const url = await within(
    30_000,
    "the server to start",
    new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /WebSocket API\s+(ws:\/\/\S+)/.exec(output.stdout);
        if (match) {
          clearInterval(poll);
          resolve((match[1] as string).replace("localhost", "127.0.0.1"));
        }
      }, 20);
      child.once("exit", (code) => {
        clearInterval(poll);
        reject(new Error(`server exited with ${code}: ${output.stdout}${output.stderr}`));
      });
    }),
  );
  /** Peak resident memory so far, from Linux's accounting of the process. */
  const peakRssMb = () => {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
    return Number(match?.[1]) / 1024;
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  return { url, output, peakRssMb, stop };
}

test("sustained load past what this machine can serve: each message answered once, the admitted delivered to all, memory and log bounded, back at once", async (t) => {
  t.timeout(120_000);
  // Prepare: 100 clients; 5 senders each send a message every 20 ms for 8 s (25,000 deliveries a
  // second asked for, several times what 2 cores deliver).
  const CLIENTS = 100;
  const SENDERS = 5;
  const server = await startServer({});
  t.teardown(() => server.stop());
  const clients: TestClient[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await connect(server.url));
  const senders = clients.slice(0, SENDERS);
  const restingRssMb = server.peakRssMb();
  // Counted as frames arrive: re-reading every frame on each poll would slow these clients down
  // until the server's send buffers, not the server, set the memory figure.
  const answered = senders.map(() => 0);
  for (const [s, sender] of senders.entries()) {
    sender.socket.on("message", (data: Buffer) => {
      const frame = data.toString();
      if (frame.includes('"message":') || frame.includes(`"data":"${s}:`)) answered[s] = (answered[s] ?? 0) + 1;
    });
  }

  // Act
  let rounds = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (const [s, sender] of senders.entries()) say(sender, `${s}:${rounds}`);
      if (++rounds === 400) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  await eventually(() => answered.every((count) => count === rounds), 60_000);
  const loadRssMb = server.peakRssMb();
  // Back to normal once the broadcasts admitted have finished: retry until a message is admitted.
  const probe = senders[0] as TestClient;
  const lastAnswer = Date.now();
  let probes = 0;
  let admitted = false;
  while (!admitted && probes < 50) {
    const before = probe.received.length;
    say(probe, `probe ${++probes}`);
    await eventually(() => probe.received.length > before, 10_000);
    admitted = !String(probe.received[before]).includes('"message":');
    if (!admitted) await sleep(100);
  }
  const recoveredMs = Date.now() - lastAnswer;
  const lastProbe = `probe ${probes}`;
  await eventually(() => clients.every((client) => messagesAt(client).some((m) => m.data === lastProbe)), 10_000);
  await server.stop();

  // Assess
  const sent = SENDERS * rounds;
  const delivered = new Set<string>();
  for (const [s, sender] of senders.entries()) {
    for (const m of messagesAt(sender)) if (m.data.startsWith(`${s}:`)) delivered.add(m.data);
  }
  const errorFrames = senders.flatMap((sender) => sender.received).filter((f) => String(f).includes('"message":'));
  const refused = errorFrames.filter((f) => String(f).includes('"Internal server error"'));
  const refusedProbes = probes - 1;
  t.is(delivered.size + errorFrames.length - refusedProbes, sent, "every message got exactly one answer");
  t.is(refused.length, errorFrames.length, "the only error answer is the throttle's");
  t.true(refused.length > 0, "more was asked than this machine serves");
  t.true(delivered.size > 0, "useful work went on");
  for (const client of clients) {
    const seen = messagesAt(client)
      .map((m) => m.data)
      .filter((data) => !data.startsWith("probe "));
    t.is(new Set(seen).size, seen.length, "no message arrived twice");
    t.is(seen.filter((data) => delivered.has(data)).length, delivered.size, "each admitted message reached everyone");
  }
  const lines = server.output.stdout.trim().split("\n");
  const invocations = lines.filter((line) => / (\$connect|\$disconnect|sendmessage) connection=/.test(line));
  const throttled = invocations.filter((line) => line.includes(" throttled: "));
  t.is(throttled.length, refused.length);
  t.true(admitted, "service came back");
  t.false(
    invocations.some((line) => line.includes("timeout")),
    "nothing admitted ran into a timeout",
  );
  t.true(lines.length <= invocations.length + 12, "one log line per invocation, and a few of start and stop");
  t.true(
    lines.every((line) => line.length < 400),
    "no stack traces",
  );
  const warnings = server.output.stderr.split("\n").filter((line) => line !== "");
  t.true(
    warnings.every((line) => line.startsWith("broadcast ")) && warnings.length <= delivered.size,
    `only one-line broadcast warnings, at most one per broadcast: ${warnings.slice(0, 3).join(" | ")}`,
  );
  // Bounded by the executions admitted (each environment keeps its SDK clients) and the garbage
  // collector's headroom; without the limits it passed 1 GB within 30 s.
  t.true(loadRssMb < 500, `peak RSS ${loadRssMb.toFixed(0)} MB, ${restingRssMb.toFixed(0)} MB at rest`);
  t.log(
    `${delivered.size} of ${sent} messages admitted and delivered to all ${CLIENTS} clients, ${refused.length} throttled; ` +
      `peak RSS ${restingRssMb.toFixed(0)} MB at rest, ${loadRssMb.toFixed(0)} MB under load; ${lines.length} log lines, ${server.output.stderr.split("\n").length - 1} warnings; ` +
      `a message admitted again ${recoveredMs} ms after the last answer (${probes} tries)`,
  );
});

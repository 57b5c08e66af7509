/**
 * Overload benchmark: `npm run bench:overload [-- --clients N --senders S --seconds T --interval-ms I --json]`.
 *
 * What the local gateway does with more than this machine can serve: Lambda would serve it all,
 * but here every execution shares one event loop, so the local overload guard throttles what the
 * machine is measured not to finish in time (`local/lambda/concurrency.ts`). The gateway runs with
 * its real limits in a process of its own (bench/server.ts) and N clients share one room.
 * 1. Baseline: S senders, each sending its next message once the last one came back (never more
 *    than S in flight, so never throttled): the deliveries a second this machine serves.
 * 2. Flood: the same S senders each send every I ms for T s, whatever comes back (by default 100
 *    clients, 5 senders every 20 ms: 25,000 deliveries a second asked for).
 * Then it counts what came back (each message answered once: delivered, or throttled with the
 * Internal server error frame), what timed out, what each client missed or got twice, the peak
 * memory and how soon a message is admitted again; the flood's deliveries a second against the
 * baseline's say how much of its capacity the machine kept while refusing the rest.
 */
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { startSoakServer } from "./soak-gateway";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "100" },
    senders: { type: "string", default: "5" },
    seconds: { type: "string", default: "8" },
    "interval-ms": { type: "string", default: "20" },
    "baseline-seconds": { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const whole = (name: string, value: string | undefined): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name} must be a whole number of at least 1, got ${value}`);
  return parsed;
};
const CLIENTS = whole("clients", args.clients);
const SENDERS = Math.min(whole("senders", args.senders), CLIENTS);
const FLOOD_MS = whole("seconds", args.seconds) * 1000;
const INTERVAL_MS = whole("interval-ms", args["interval-ms"]);
const BASELINE_MS = whole("baseline-seconds", args["baseline-seconds"]) * 1000;
/** Longest wait for the answers (and deliveries) still due after a phase: past the 29 s integration timeout. */
const SETTLE_MS = 35_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = performance.now() + ms; !condition(); await sleep(20)) if (performance.now() > end) return false;
  return true;
}

/** A client that counts the chat messages it gets, by their data, and the error frames. */
class Client {
  readonly socket: WebSocket;
  readonly seen = new Map<string, number>();
  errorFrames: string[] = [];
  /** Called with each chat message's data or error frame, in order. */
  onAnswer?: (data: string | undefined) => void;

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as { type?: string; data?: string; message?: string };
      if (frame.type === "presence") return;
      if (frame.type === "message" && typeof frame.data === "string") {
        this.seen.set(frame.data, (this.seen.get(frame.data) ?? 0) + 1);
        this.onAnswer?.(frame.data);
      } else {
        this.errorFrames.push(String(frame.message));
        this.onAnswer?.(undefined);
      }
    });
  }

  send(data: string): void {
    this.socket.send(JSON.stringify({ action: "sendmessage", data }));
  }
}

function open(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?room=overload`, { perMessageDeflate: false });
    socket.once("open", () => resolve(new Client(socket)));
    socket.once("error", reject);
  });
}

/** Messages admitted (delivered to their sender) with `prefix`, and the deliveries of them everywhere. */
function tally(clients: Client[], senders: Client[], prefix: string) {
  const admitted = new Set<string>();
  for (const sender of senders) for (const data of sender.seen.keys()) if (data.startsWith(prefix)) admitted.add(data);
  let deliveries = 0;
  let missing = 0;
  let duplicated = 0;
  for (const client of clients) {
    for (const data of admitted) {
      const count = client.seen.get(data) ?? 0;
      deliveries += Math.min(count, 1);
      missing += count === 0 ? 1 : 0;
      duplicated += Math.max(0, count - 1);
    }
  }
  return { admitted: admitted.size, deliveries, missing, duplicated };
}

async function main(): Promise<number> {
  const { server } = await startSoakServer((code, signal) => {
    console.error(`overload: the gateway process exited during the run (code ${code}, signal ${signal})`);
    process.exit(2);
  });
  const clients: Client[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await open(server.url));
  const senders = clients.slice(0, SENDERS);
  const atRest = await server.sample();

  // 1. Baseline: closed loop, S in flight at most.
  let stopBaseline = false;
  const baselineStart = performance.now();
  await Promise.all(
    senders.map(async (sender, s) => {
      for (let i = 0; !stopBaseline; i++) {
        const answered = new Promise<void>((resolve) => {
          sender.onAnswer = (data) => {
            if (data === undefined || data.startsWith(`baseline ${s}:`)) resolve();
          };
        });
        sender.send(`baseline ${s}:${i}`);
        await answered;
        if (performance.now() - baselineStart >= BASELINE_MS) stopBaseline = true;
      }
    }),
  );
  const baselineMs = performance.now() - baselineStart;
  await until(() => tally(clients, senders, "baseline ").missing === 0, SETTLE_MS);
  const baseline = tally(clients, senders, "baseline ");

  // 2. Flood: open loop.
  const answers = senders.map(() => 0);
  for (const [s, sender] of senders.entries()) {
    sender.onAnswer = (data) => {
      if (data === undefined || data.startsWith(`flood ${s}:`)) answers[s] = (answers[s] ?? 0) + 1;
    };
  }
  const errorsBefore = senders.map((sender) => sender.errorFrames.length);
  let rounds = 0;
  const floodStart = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (const [s, sender] of senders.entries()) sender.send(`flood ${s}:${rounds}`);
      if (++rounds * INTERVAL_MS >= FLOOD_MS) {
        clearInterval(timer);
        resolve();
      }
    }, INTERVAL_MS);
  });
  const allAnswered = await until(() => answers.every((count) => count === rounds), SETTLE_MS);
  const lastAnswerMs = performance.now() - floodStart;
  const afterFlood = await server.sample();

  // 3. Back to normal: how soon after the last answer a message is admitted again.
  const probe = senders[0] as Client;
  let probes = 0;
  let admittedAgain = false;
  while (!admittedAgain && probes < 100) {
    const answered = new Promise<string | undefined>((resolve) => {
      probe.onAnswer = (data) => {
        if (data === undefined || data.startsWith("probe ")) resolve(data);
      };
    });
    probe.send(`probe ${++probes}`);
    admittedAgain = (await answered) !== undefined;
    if (!admittedAgain) await sleep(100);
  }
  const recoveredMs = performance.now() - floodStart - lastAnswerMs;
  await until(() => tally(clients, senders, "flood ").missing === 0, SETTLE_MS);
  const flood = tally(clients, senders, "flood ");
  const final = await server.sample();
  for (const client of clients) client.socket.terminate();
  await server.stop();

  const errorFrames = senders.flatMap((sender, s) => sender.errorFrames.slice(errorsBefore[s]));
  const throttledFrames = errorFrames.filter((message) => message === "Internal server error").length;
  const baselineRate = (baseline.deliveries / baselineMs) * 1000;
  const floodRate = (flood.deliveries / lastAnswerMs) * 1000;
  const results = {
    clients: CLIENTS,
    senders: SENDERS,
    baseline: { messages: baseline.admitted, deliveriesPerSecond: Math.round(baselineRate), missing: baseline.missing },
    flood: {
      asked: rounds * SENDERS,
      askedDeliveriesPerSecond: Math.round(((SENDERS * CLIENTS) / INTERVAL_MS) * 1000),
      admitted: flood.admitted,
      throttled: throttledFrames,
      otherErrorFrames: errorFrames.length - throttledFrames,
      unanswered: rounds * SENDERS - flood.admitted - errorFrames.length,
      deliveriesPerSecond: Math.round(floodRate),
      ofBaseline: Number((floodRate / baselineRate).toFixed(2)),
      missing: flood.missing,
      duplicated: flood.duplicated,
      lastAnswerS: Number((lastAnswerMs / 1000).toFixed(1)),
    },
    failures: final.failureKinds,
    rssMb: { atRest: Math.round(atRest.rssMb), afterFlood: Math.round(afterFlood.rssMb) },
    admittedAgainMs: Math.round(recoveredMs),
  };
  const timeouts = (final.failureKinds["function-timeout"] ?? 0) + (final.failureKinds["integration-timeout"] ?? 0);
  console.log(
    `baseline: ${baseline.admitted} messages, ${results.baseline.deliveriesPerSecond} deliveries/s with ${SENDERS} in flight\n` +
      `flood: ${results.flood.asked} messages asked (${results.flood.askedDeliveriesPerSecond} deliveries/s), ` +
      `${flood.admitted} admitted and delivered, ${throttledFrames} throttled, ${results.flood.otherErrorFrames} other errors, ${results.flood.unanswered} unanswered; ` +
      `${results.flood.deliveriesPerSecond} deliveries/s until the last answer at ${results.flood.lastAnswerS} s (${results.flood.ofBaseline}x the baseline)\n` +
      `missing ${flood.missing + baseline.missing}, duplicated ${flood.duplicated + baseline.duplicated}, timed out ${timeouts}; ` +
      `failed invocations by kind ${JSON.stringify(final.failureKinds)}\n` +
      `RSS ${results.rssMb.atRest} MB at rest, ${results.rssMb.afterFlood} MB after the flood; a message admitted again ${results.admittedAgainMs} ms after the last answer`,
  );
  if (args.json) console.log(JSON.stringify(results));
  const ok = allAnswered && admittedAgain && timeouts === 0 && results.flood.unanswered === 0 && flood.missing === 0;
  console.log(ok ? "PASS" : "FAIL: see above");
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);

/**
 * What a month of the chat costs on AWS at a few loads: `npm run bench:cost-table [-- --model file.json]`.
 *
 * Runs `bench/fanout-model.ts --json` (`npm run bench:lambda`) for rooms of each load's size and
 * takes from it the GB-seconds, read units and broadcast workers one message to such a room takes
 * (the fan-out design, warm), so the table follows the code; `--model` reads a saved run instead.
 *
 * Prices: us-east-1, list prices on 2 December 2026, without free tiers:
 * - Lambda, arm64: $0.20 per million requests, $0.0000133334 per GB-second
 *   (https://aws.amazon.com/lambda/pricing/); an asynchronous invocation is a request like any.
 * - API Gateway WebSocket: $1.00 per million messages (first billion; $0.80 after), each 32 KB a
 *   message, and $0.25 per million connection minutes (https://aws.amazon.com/api-gateway/pricing/).
 * - DynamoDB on demand: $0.625 per million write and $0.125 per million read request units
 *   (https://aws.amazon.com/dynamodb/pricing/on-demand/, since the November 2024 reduction).
 * - CloudWatch: logs ingested $0.50 per GB, alarms $0.10 each a month
 *   (https://aws.amazon.com/cloudwatch/pricing/).
 *
 * Assumptions, each stated where it is used: a connection stays 30 minutes; a message and its
 * frame are under 32 KB; `$connect` and `$disconnect` take 40 ms at 256 MB, the authorizer 10 ms;
 * a log line is 300 bytes (four per invocation: START, END, REPORT and one of ours, and an
 * access-log line per request), a metrics line 600 bytes per broadcast.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PRESENCE_ROOM_LIMIT } from "../functions/broadcast/room-broadcast";
import { DEFAULT_RATE_LIMITS } from "../functions/limits/rate-limits";

const PRICES = {
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  apiMessage: 1.0 / 1e6,
  apiMessageAfterBillion: 0.8 / 1e6,
  apiConnectionMinute: 0.25 / 1e6,
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  logGb: 0.5,
  alarm: 0.1,
};
const MONTH_SECONDS = 30 * 24 * 3600;
const SESSION_MINUTES = 30;
const CONNECT_GB_SECONDS = 0.04 * 0.25;
const AUTHORIZER_GB_SECONDS = 0.01 * 0.25;
const LOG_LINE_BYTES = 300;
const METRICS_LINE_BYTES = 600;
/**
 * The prod stack's alarms: two per function (eight; the authorizer's failures read from its log),
 * the broadcast worker's dropped events, nine for the API, DynamoDB and broadcasts.
 */
const ALARMS = 8 * 2 + 1 + 9;

interface Load {
  name: string;
  connections: number;
  messagesPerSecond: number;
  roomSize: number;
}

const LOADS: Load[] = [
  { name: "team", connections: 50, messagesPerSecond: 0.1, roomSize: 10 },
  { name: "community", connections: 1_000, messagesPerSecond: 2, roomSize: 100 },
  { name: "live event", connections: 10_000, messagesPerSecond: 20, roomSize: 1_000 },
  { name: "broadcast", connections: 100_000, messagesPerSecond: 5, roomSize: 10_000 },
];

interface ModelRow {
  connections: number;
  design: string;
  gbSeconds: number;
  readUnits: number;
  slices: number;
}

const { values: args } = parseArgs({ options: { model: { type: "string" } } });

function model(): ModelRow[] {
  if (args.model) return (JSON.parse(readFileSync(args.model, "utf8")) as { rows: ModelRow[] }).rows;
  const sizes = [...new Set(LOADS.map((load) => load.roomSize))].join(",");
  console.error(`running the fan-out model for rooms of ${sizes} (npm run bench:lambda)...`);
  const output = execFileSync(
    process.execPath,
    ["--require", "tsx/cjs", require.resolve("./fanout-model"), "--json", "--connections", sizes],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 },
  );
  const json = output.trim().split("\n").at(-1) ?? "";
  return (JSON.parse(json) as { rows: ModelRow[] }).rows;
}

/** A month at `load`, in dollars per part. */
function monthly(load: Load, row: ModelRow) {
  const messages = load.messagesPerSecond * MONTH_SECONDS;
  const sessions = (load.connections * MONTH_SECONDS) / (SESSION_MINUTES * 60);
  // Joins and leaves are told to rooms of up to PRESENCE_ROOM_LIMIT others.
  const presencePosts = load.roomSize - 1 <= PRESENCE_ROOM_LIMIT ? 2 * (load.roomSize - 1) : 0;
  const apiMessages = messages * (1 + load.roomSize) + sessions * presencePosts;
  const billion = 1e9;
  const api =
    Math.min(apiMessages, billion) * PRICES.apiMessage +
    Math.max(0, apiMessages - billion) * PRICES.apiMessageAfterBillion +
    load.connections * (MONTH_SECONDS / 60) * PRICES.apiConnectionMinute;
  // sendmessage and its workers; $connect (with its authorizer and a token) and $disconnect per session.
  const invocations = messages * (1 + row.slices) + sessions * 4;
  const gbSeconds = messages * row.gbSeconds + sessions * (2 * CONNECT_GB_SECONDS + AUTHORIZER_GB_SECONDS);
  const lambda = invocations * PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecondArm;
  // A message: stored (1 WRU), counted against its sender's limit (1 WRU), its room read (the
  // model's read units), a claim per worker (1 WRU). A session: its row written and deleted,
  // each also written to the room index (4 WRU), the room read at join and leave (4 Queries, 0.5 RRU each).
  const writeUnits = messages * (2 + row.slices) + sessions * 4;
  const readUnits = messages * row.readUnits + sessions * 4;
  const dynamodb = writeUnits * PRICES.writeUnit + readUnits * PRICES.readUnit;
  const requests = messages + sessions * 2;
  const logBytes = invocations * 4 * LOG_LINE_BYTES + messages * METRICS_LINE_BYTES + requests * LOG_LINE_BYTES;
  const cloudwatch = (logBytes / 1024 ** 3) * PRICES.logGb + ALARMS * PRICES.alarm;
  return { api, lambda, dynamodb, cloudwatch, total: api + lambda + dynamodb + cloudwatch };
}

function main(): void {
  const rows = model().filter((row) => row.design === "fanout");
  const usd = (value: number) =>
    value < 10 ? `$${value.toFixed(2)}` : `$${Math.round(value).toLocaleString("en-US")}`;
  console.log(
    "| load | connections | messages/s | room | API Gateway | Lambda | DynamoDB | CloudWatch | a month |\n" +
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  for (const load of LOADS) {
    const row = rows.find((candidate) => candidate.connections === load.roomSize);
    if (!row) throw new Error(`the model has no room of ${load.roomSize}`);
    const cost = monthly(load, row);
    console.log(
      `| ${load.name} | ${load.connections.toLocaleString("en-US")} | ${load.messagesPerSecond} | ` +
        `${load.roomSize.toLocaleString("en-US")} | ${usd(cost.api)} | ${usd(cost.lambda)} | ${usd(cost.dynamodb)} | ` +
        `${usd(cost.cloudwatch)} | **${usd(cost.total)}** |`,
    );
  }
  console.log(
    `\nper message to a room, from the model: ${rows
      .map(
        (row) =>
          `${row.connections}: ${row.gbSeconds.toFixed(3)} GB-s, ${row.readUnits.toFixed(1)} RRU, ${row.slices} workers`,
      )
      .join(
        "; ",
      )}; each user may send ${DEFAULT_RATE_LIMITS.messages.perUser} messages in ${DEFAULT_RATE_LIMITS.messages.seconds} s`,
  );
}

main();

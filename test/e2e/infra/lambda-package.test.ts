import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import anyTest, { type TestFn } from "ava";
import { type Factory, measure, type Packages, packFunctions, runPacked } from "../../../bench/deployed-packages";
import type { BroadcastJob } from "../../../functions/broadcast/fanout";
import type { ChatMessageFrame } from "../../../functions/chat/message";
import { shardOf } from "../../../functions/chat/room";
import { CONNECTIONS_TABLE, MESSAGES_TABLE } from "../../../functions/chat/tables";
import { broadcastWorker, routes } from "../../../functions/routes";
import type { WebSocketEvent, WebSocketResult } from "../../../functions/runtime/lambda-events";
import { broadcastWorkerFactory } from "../../../infra/broadcast-worker";
import { DEPLOY_ONLY_PACKAGES } from "../../../infra/inline-function";
import { handlerFactory } from "../../../infra/websocket-route";
import { type EmbeddedDynamoDB, startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";
import { ensureTable } from "../../../local/dynamodb/tables";

/**
 * Proof that each Lambda package runs on its own: the exact callback factory the infra deploys is
 * serialized, laid out with only the packages CallbackFunction would zip, and invoked in a fresh
 * Node process with nothing of this project's source or dev tools in reach.
 */

interface ManagementCall {
  method: string;
  path: string;
  body: string;
}

interface Context {
  dynamodb: EmbeddedDynamoDB;
  client: DynamoDBClient;
  management: Server;
  managementUrl: string;
  calls: ManagementCall[];
  packages: Packages;
}

const test = anyTest as TestFn<Context>;
const TABLE_NAME = "connections-package-test";
const MESSAGES_TABLE_NAME = "messages-package-test";
const STAGE = "dev";
const SENDER = "BFHPhfCWIAMCKlQ=";
const OTHER = "Cx+/abcdEFGHiJk=";

test.before(async (t) => {
  const dynamodb = await startEmbeddedDynamoDB();
  const client = new DynamoDBClient({
    region: "us-east-1",
    endpoint: dynamodb.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  await ensureTable(client, TABLE_NAME, CONNECTIONS_TABLE);
  await ensureTable(client, MESSAGES_TABLE_NAME, MESSAGES_TABLE);

  const calls: ManagementCall[] = [];
  const management = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      calls.push({ method: request.method ?? "", path: request.url ?? "", body: Buffer.concat(chunks).toString() });
      const ok = request.method === "POST" && /^\/dev\/@connections\/[^/]+$/.test(request.url ?? "");
      response.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
      response.end(ok ? "" : JSON.stringify({ message: "Not Found" }));
    });
  });
  await new Promise<void>((resolve) => management.listen(0, "127.0.0.1", resolve));
  const { port } = management.address() as AddressInfo;

  const packages = await packFunctions(
    new Map<string, Factory>([
      ...routes.map((definition) => [definition.name, handlerFactory(definition)] as const),
      [broadcastWorker.name, broadcastWorkerFactory(broadcastWorker)],
    ]),
  );
  t.context = {
    dynamodb,
    client,
    management,
    managementUrl: `http://127.0.0.1:${port}/${STAGE}`,
    calls,
    packages,
  };
});

test.after.always(async (t) => {
  const context = t.context as Partial<Context>;
  context.client?.destroy();
  context.management?.closeAllConnections();
  await new Promise((resolve) => context.management?.close(resolve) ?? resolve(undefined));
  await context.dynamodb?.close();
  if (context.packages) rmSync(context.packages.workDir, { recursive: true, force: true });
});

/** Invokes a route's packed handler in a fresh `node` pointed at the embedded table and the fake `@connections`. */
async function invoke<R = WebSocketResult>(
  context: Context,
  routeName: string,
  event: WebSocketEvent | BroadcastJob,
): Promise<R> {
  return (await run<R>(context, routeName, event)).result;
}

/** As {@link invoke}, with the lines the function logged; `env` overrides its environment. */
function run<R = WebSocketResult>(
  context: Context,
  routeName: string,
  event: WebSocketEvent | BroadcastJob,
  env: Record<string, string> = {},
) {
  return runPacked<R>(context.packages, routeName, event, {
    TABLE_NAME,
    MESSAGES_TABLE_NAME,
    DYNAMODB_ENDPOINT_URL: context.dynamodb.endpoint,
    MANAGEMENT_ENDPOINT_URL: context.managementUrl,
    ...env,
  });
}

function requestContext(
  connectionId: string,
  eventType: WebSocketEvent["requestContext"]["eventType"],
  routeKey: string,
): WebSocketEvent["requestContext"] {
  const now = Date.now();
  return {
    routeKey,
    eventType,
    connectionId,
    requestId: `req-${now}`,
    extendedRequestId: `req-${now}`,
    messageDirection: "IN",
    stage: STAGE,
    domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    apiId: "a1b2c3d4e5",
    connectedAt: now - 1000,
    requestTime: "27/Nov/2026:02:40:28 +0000",
    requestTimeEpoch: now,
    identity: { sourceIp: "203.0.113.7", userAgent: "package-test" },
  };
}

const connectEvent = (connectionId: string): WebSocketEvent => ({
  requestContext: requestContext(connectionId, "CONNECT", "$connect"),
  headers: { Host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13" },
  multiValueHeaders: { Host: ["a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"], "Sec-WebSocket-Version": ["13"] },
  queryStringParameters: { room: "pkg-room" },
  multiValueQueryStringParameters: { room: ["pkg-room"] },
  isBase64Encoded: false,
});

const messageEvent = (connectionId: string, routeKey: string, body: object): WebSocketEvent => ({
  requestContext: { ...requestContext(connectionId, "MESSAGE", routeKey), messageId: "BFHPhf1ZIAMCKlQ=" },
  body: JSON.stringify({ action: routeKey, ...body }),
  isBase64Encoded: false,
});

/** The frames posted to `@connections` since `from`, with their recipients. */
function postsSince(context: Context, from: number) {
  return context.calls
    .slice(from)
    .filter((call) => call.method === "POST")
    .map((call) => ({
      to: decodeURIComponent(call.path.replace(`/${STAGE}/@connections/`, "")),
      frame: JSON.parse(call.body) as Record<string, unknown>,
    }));
}

async function rowOf(context: Context, connectionId: string) {
  const { Item } = await context.client.send(
    new GetItemCommand({ TableName: TABLE_NAME, Key: { connectionId: { S: connectionId } }, ConsistentRead: true }),
  );
  return Item;
}

/** The package a `node_modules/...` path belongs to (its innermost `node_modules` entry). */
function packageName(relative: string): string {
  const parts = relative.split("/");
  const at = parts.lastIndexOf("node_modules");
  const first = parts[at + 1] ?? "";
  return first.startsWith("@") ? `${first}/${parts[at + 2]}` : first;
}

test("the packed set holds runtime dependencies only, no dev tool and no Pulumi SDK", (t) => {
  const manifest = JSON.parse(readFileSync("package.json", "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const packages = t.context.packages.packedPaths.map(packageName);
  t.log(`${packages.length} packages packed: ${packages.join(", ")}`);
  // A dev dependency that a packed package itself depends on (the SDK's own signer, which tests
  // also use to sign raw calls) is packed for the runtime's sake, not as a dev tool.
  const neededAtRuntime = new Set(
    [...new Set(packages)].flatMap((name) =>
      Object.keys(
        (JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8")) as { dependencies?: object })
          .dependencies ?? {},
      ),
    ),
  );
  const forbidden = [
    ...Object.keys(manifest.devDependencies).filter((name) => !neededAtRuntime.has(name)),
    "ava",
    "sinon",
    "dynalite",
    "express",
    "express-ws",
    "ws",
    "typescript",
    "tsx",
    "esbuild",
    "@biomejs/biome",
  ];
  t.deepEqual(
    packages.filter((name) => forbidden.includes(name) || name.startsWith("@types/") || name.startsWith("@pulumi/")),
    [],
  );
  const deployOnly: readonly string[] = DEPLOY_ONLY_PACKAGES;
  for (const dependency of Object.keys(manifest.dependencies).filter(
    (name) => !name.startsWith("@pulumi/") && !deployOnly.includes(name),
  )) {
    t.true(packages.includes(dependency), `${dependency} is packed`);
  }
  t.true(t.context.packages.packedPaths.every((path) => path.startsWith("node_modules/")));
});

test("each function's archive: size and file count", (t) => {
  const modules = measure(join(t.context.packages.workDir, "shared", "node_modules"), "node_modules");
  t.is(modules.symlinks, 0);
  // No native addon: the same zip runs on arm64 and x86_64 (LAMBDA_NODE runs these tests on arm64).
  t.deepEqual(
    readdirSync(join(t.context.packages.workDir, "shared"), { recursive: true, encoding: "utf8" }).filter((file) =>
      file.endsWith(".node"),
    ),
    [],
  );
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
  for (const definition of [...routes, broadcastWorker]) {
    const handler = measure(join(t.context.packages.dirs.get(definition.name) as string, "__index.js"), "__index.js");
    t.log(
      `${definition.name}: ${modules.files + handler.files} files, ${mb(modules.bytes + handler.bytes)} MB unpacked, ` +
        `~${mb(modules.zipped + handler.zipped)} MB zipped (__index.js: ${handler.bytes} bytes)`,
    );
    t.true(handler.bytes > 1000);
  }
  // Lambda refuses a zip over 50 MB. Today's are about 4 MB: the bound of 6 MB catches a heavy
  // dependency slipping in, such as the deploy's tsx and its esbuild (12 MB unpacked) if not excluded.
  t.true(modules.zipped < 6 * 1024 * 1024, `${mb(modules.zipped)} MB zipped`);
});

test.serial("$connect writes the connection's row in its room, and tells the room", async (t) => {
  const before = Math.floor(Date.now() / 1000);
  t.deepEqual(await invoke(t.context, "onconnect", connectEvent(SENDER)), { statusCode: 200 });
  const from = t.context.calls.length;
  t.deepEqual(await invoke(t.context, "onconnect", connectEvent(OTHER)), { statusCode: 200 });
  t.deepEqual(
    postsSince(t.context, from).map(({ to, frame }) => [to, frame.type, frame.event, frame.connectionId]),
    [[SENDER, "presence", "join", OTHER]],
  );
  const row = await rowOf(t.context, SENDER);
  t.is(row?.connectionId?.S, SENDER);
  t.is(row?.room?.S, "pkg-room");
  t.is(row?.sourceIp?.S, "203.0.113.7");
  t.is(row?.userAgent?.S, "package-test");
  const expiresAt = Number(row?.expiresAt?.N);
  t.true(expiresAt >= before + 7200 && expiresAt <= before + 7200 + 60, `expiresAt ${expiresAt}`);
  t.is((await rowOf(t.context, OTHER))?.connectionId?.S, OTHER);
});

test.serial("sendmessage posts the message to every connection of the room", async (t) => {
  t.context.calls.length = 0;
  const event = messageEvent(SENDER, "sendmessage", { data: "hello from the package", name: "Ada" });
  const { result, lines } = await run(t.context, "sendmessage", event);
  // The broadcast's figures, as one line of embedded metric format in the stack's namespace.
  const emf = lines.filter((line) => typeof line === "object" && "_aws" in line);
  t.is(emf.length, 1);
  t.like(emf[0], {
    _aws: { CloudWatchMetrics: [{ Namespace: "WebSocketChat", Dimensions: [["service"]] }] },
    service: "websocket-chat-test",
    kind: "inline",
    BroadcastDelivered: 2,
    BroadcastGone: 0,
    BroadcastFailed: 0,
    BroadcastHandOffsFailed: 0,
  });
  t.true(typeof emf[0] === "object" && typeof emf[0].BroadcastDuration === "number");
  t.is(result.statusCode, 200);
  t.deepEqual(JSON.parse(result.body ?? ""), {
    delivered: 2,
    gone: 0,
    failed: 0,
    leaveNotices: 0,
    slices: 0,
    handOffsFailed: 0,
  });

  const posts = t.context.calls.filter((call) => call.method === "POST");
  t.is(t.context.calls.length, 2);
  t.deepEqual(
    posts.map((call) => decodeURIComponent(call.path.replace(`/${STAGE}/@connections/`, ""))).sort(),
    [SENDER, OTHER].sort(),
  );
  for (const call of posts) {
    const frame = JSON.parse(call.body) as Record<string, unknown>;
    t.like(frame, {
      type: "message",
      room: "pkg-room",
      connectionId: SENDER,
      name: "Ada",
      data: "hello from the package",
    });
    t.regex(String(frame.sentAt), /^\d{4}-\d\d-\d\dT/);
  }
});

test.serial(
  "a failed invocation logs one JSON line naming the route, the connection and both request ids",
  async (t) => {
    const event = messageEvent(SENDER, "sendmessage", { data: "lost" });
    const error = await t.throwsAsync(run(t.context, "sendmessage", event, { TABLE_NAME: "no-such-table" }));
    const { lines } = error as Error & { lines: (Record<string, unknown> | string)[] };
    const errors = lines.filter((line) => typeof line === "object" && line.level === "ERROR");
    t.is(errors.length, 1, JSON.stringify(lines));
    t.regex(String((errors[0] as { error?: { stack?: string } }).error?.stack), /^RepositoryError: DynamoDB get/);
    t.like(errors[0], {
      message: "invocation failed",
      service: "websocket-chat-test",
      route: "sendmessage",
      connectionId: SENDER,
      requestId: event.requestContext.requestId,
      function_request_id: "7f5c3f1e-0000-4000-8000-000000000001",
      // An error of this project's stays one in the package: its name, message and stack survive serialization.
      error: {
        name: "RepositoryError",
        message: "DynamoDB get on table no-such-table failed: ResourceNotFoundException: Requested resource not found",
      },
    });
  },
);

test.serial("who answers the room's members, and history the message sent", async (t) => {
  const who = JSON.parse((await invoke(t.context, "who", messageEvent(OTHER, "who", {}))).body ?? "");
  t.like(who, { type: "who", room: "pkg-room", truncated: false });
  t.deepEqual(
    who.members.map((member: { connectionId: string }) => member.connectionId).sort(),
    [SENDER, OTHER].sort(),
  );
  const history = JSON.parse((await invoke(t.context, "history", messageEvent(OTHER, "history", {}))).body ?? "");
  t.like(history, { type: "history", room: "pkg-room", before: null });
  t.deepEqual(
    history.messages.map((message: { data: string }) => message.data),
    ["hello from the package"],
  );
});

test.serial(
  "the broadcast worker posts its slice of the room, and a second copy of the job posts nothing",
  async (t) => {
    const from = t.context.calls.length;
    const job: BroadcastJob = {
      endpoint: t.context.managementUrl,
      address: { apiId: "a1b2c3d4e5", stage: STAGE, room: "pkg-room" },
      delivery: "pkg",
      frame: {
        type: "message",
        id: "2026-12-02T12:00:00.000Z#pkg",
        room: "pkg-room",
        connectionId: SENDER,
        data: "fanned out",
        sentAt: "2026-12-02T12:00:00.000Z",
      } as ChatMessageFrame,
      shard: shardOf(SENDER),
      range: {},
      slice: `${shardOf(SENDER)}.0`,
    };
    const inShard = [SENDER, OTHER].filter((id) => shardOf(id) === job.shard).sort();
    t.like(await invoke(t.context, broadcastWorker.name, job), { duplicate: false, delivered: inShard.length });
    t.deepEqual(
      postsSince(t.context, from).map(({ to, frame }) => [to, frame.data]),
      inShard.map((id) => [id, "fanned out"]),
    );
    t.deepEqual(await invoke(t.context, broadcastWorker.name, job), { duplicate: true });
    t.is(postsSince(t.context, from).length, inShard.length);
  },
);

test.serial("$disconnect removes the connection's row and tells the room", async (t) => {
  const from = t.context.calls.length;
  const event: WebSocketEvent = {
    requestContext: {
      ...requestContext(SENDER, "DISCONNECT", "$disconnect"),
      disconnectStatusCode: 1000,
      disconnectReason: "",
    },
    headers: { Host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com" },
    isBase64Encoded: false,
  };
  t.deepEqual(await invoke(t.context, "ondisconnect", event), { statusCode: 200 });
  t.is(await rowOf(t.context, SENDER), undefined);
  t.is((await rowOf(t.context, OTHER))?.connectionId?.S, OTHER);
  t.deepEqual(
    postsSince(t.context, from).map(({ to, frame }) => [to, frame.event, frame.connectionId]),
    [[OTHER, "leave", SENDER]],
  );
});

test("there is one package per route of the table, and the broadcast worker's", (t) => {
  t.deepEqual(
    [...t.context.packages.dirs.keys()],
    ["onconnect", "ondisconnect", "sendmessage", "who", "history", "broadcast"],
  );
});

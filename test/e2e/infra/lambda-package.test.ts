import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
import { DEPLOY_ONLY_PACKAGES, LOADED_FROM_RUNTIME } from "../../../infra/function-bundle";
import { handlerFactory } from "../../../infra/websocket-route";
import { type EmbeddedDynamoDB, startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";
import { ensureTable } from "../../../local/dynamodb/tables";

/**
 * Proof that each Lambda package runs on its own: the exact callback factory the infra deploys is
 * serialized and bundled as `pulumi up` deploys it (`infra/function-bundle.ts`), and invoked in a
 * fresh Node process with nothing of this project's source, packages or dev tools in reach.
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

/** What every function that reads the tables holds: its logger and the DynamoDB clients. */
const TABLES_CLIENTS = [
  "@aws-lambda-powertools/logger",
  "@aws-sdk/client-dynamodb",
  "@aws-sdk/lib-dynamodb",
  "@aws-sdk/util-dynamodb",
] as const;
/** A route that posts to connections: with the `@connections` client. */
const POSTS = [...TABLES_CLIENTS, "@aws-sdk/client-apigatewaymanagementapi"].sort();
/** A route that fans out: the Lambda client, and the broadcast metrics. */
const FANS_OUT = [...POSTS, "@aws-lambda-powertools/metrics", "@aws-sdk/client-lambda"].sort();

/** The `dependencies` of package.json each function's bundle holds code of: what it loads, and no more. */
const BUNDLED_DEPENDENCIES: Record<string, string[]> = {
  onconnect: POSTS,
  ondisconnect: POSTS,
  sendmessage: FANS_OUT,
  // Their answer goes back as the route's response: no `@connections` client.
  who: [...TABLES_CLIENTS],
  history: [...TABLES_CLIENTS],
  join: POSTS,
  leave: POSTS,
  typing: POSTS,
  edit: FANS_OUT,
  delete: FANS_OUT,
  // Posts and records metrics, and invokes nothing.
  broadcast: [...POSTS, "@aws-lambda-powertools/metrics"].sort(),
};

test("each function's bundle holds the packages its handler uses and no other: no dev or deploy tool, no credential provider Lambda never asks for", (t) => {
  const manifest = JSON.parse(readFileSync("package.json", "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const dependencies = Object.keys(manifest.dependencies);
  const deployOnly: readonly string[] = DEPLOY_ONLY_PACKAGES;
  for (const [name, bundled] of t.context.packages.bundled) {
    t.log(`${name}: ${bundled.length} packages: ${bundled.join(", ")}`);
    t.deepEqual(
      bundled.filter((pkg) => dependencies.includes(pkg)),
      BUNDLED_DEPENDENCIES[name],
      name,
    );
    // A dev dependency that a bundled package itself depends on (the SDK's own signer, which tests
    // also use to sign raw calls) is there for the runtime's sake, not as a dev tool.
    const neededAtRuntime = new Set(
      bundled.flatMap((pkg) =>
        Object.keys(
          (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")) as { dependencies?: object })
            .dependencies ?? {},
        ),
      ),
    );
    const devTool = (pkg: string) => pkg in manifest.devDependencies && !neededAtRuntime.has(pkg);
    const fromRuntime: readonly string[] = LOADED_FROM_RUNTIME;
    t.deepEqual(
      bundled.filter(
        (pkg) => deployOnly.includes(pkg) || pkg.startsWith("@pulumi/") || devTool(pkg) || fromRuntime.includes(pkg),
      ),
      [],
      name,
    );
  }
  t.deepEqual([...t.context.packages.bundled.keys()], Object.keys(BUNDLED_DEPENDENCIES));
});

test("each function's archive is its bundle and source map: size", (t) => {
  const kb = (bytes: number) => (bytes / 1024).toFixed(0);
  for (const [name, dir] of t.context.packages.dirs) {
    // One file of code, no native addon: the same zip runs on arm64 and x86_64 (LAMBDA_NODE runs these tests on arm64).
    t.deepEqual(readdirSync(dir).sort(), ["__index.js", "__index.js.map"]);
    const archive = measure(dir, "");
    t.log(`${name}: ${kb(archive.bytes)} KB unpacked, ~${kb(archive.zipped)} KB zipped`);
    // Lambda takes 50 MB. Today's largest (sendmessage) zips to about 150 KB, where the copied
    // node_modules made 4 MB: the bound of 200 KB catches a heavy package slipping in.
    t.true(archive.zipped < 200 * 1024, `${name}: ${kb(archive.zipped)} KB zipped`);
  }
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
  // The sender's answer: the message's id and number in its room (docs/protocol.md).
  t.deepEqual(JSON.parse(result.body ?? ""), { type: "ack", room: "pkg-room", id: "s000000000001", seq: 1 });

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
    const stack = String((errors[0] as { error?: { stack?: string } }).error?.stack);
    t.regex(stack, /^RepositoryError: DynamoDB get/);
    // Its frames name this project's sources (the bundle's map, NODE_OPTIONS=--enable-source-maps),
    // at the very lines: where the error was made, and the handler that awaited it.
    const frames = [...stack.matchAll(/\/sendmessage\/((?:dal|functions)\/[\w/-]+\.ts):(\d+):\d+\)/g)].map(
      ([, file, line]) => [
        file,
        readFileSync(file as string, "utf8")
          .split("\n")
          [Number(line) - 1]?.trim(),
      ],
    );
    t.log(frames);
    t.regex(String(frames[0]?.[1]), /this\.failure\("get", error\)/);
    t.is(frames[0]?.[0], "dal/dynamodb-repository.ts");
    t.true(
      frames.some(([file]) => file === "functions/handlers/sendmessage.ts"),
      stack,
    );
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

test.serial("join, typing, edit, delete and leave run as packed, each answered, the room told", async (t) => {
  const from = t.context.calls.length;
  const answer = async (id: string, route: string, body: object) =>
    JSON.parse((await invoke(t.context, route, messageEvent(id, route, body))).body ?? "null");
  t.like(await answer(OTHER, "join", { room: "pkg-side", ref: "j" }), { type: "joined", room: "pkg-side", ref: "j" });
  t.deepEqual([...((await rowOf(t.context, OTHER))?.rooms?.SS ?? [])].sort(), ["pkg-room", "pkg-side"]);
  t.is(await answer(SENDER, "typing", { room: "pkg-room" }), null);
  t.like(await answer(SENDER, "edit", { room: "pkg-room", id: "s000000000001", data: "edited" }), { type: "ack" });
  t.like(await answer(SENDER, "delete", { room: "pkg-room", id: "s000000000001" }), { type: "ack" });
  t.like(await answer(OTHER, "leave", { room: "pkg-side" }), { type: "left", room: "pkg-side" });
  t.deepEqual(
    postsSince(t.context, from)
      .filter(({ to }) => to === OTHER)
      .map(({ frame }) => [frame.type, frame.room, frame.data]),
    [
      ["typing", "pkg-room", undefined],
      ["edit", "pkg-room", "edited"],
      ["delete", "pkg-room", undefined],
    ],
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
    [
      "onconnect",
      "ondisconnect",
      "sendmessage",
      "who",
      "history",
      "join",
      "leave",
      "typing",
      "edit",
      "delete",
      "broadcast",
    ],
  );
});

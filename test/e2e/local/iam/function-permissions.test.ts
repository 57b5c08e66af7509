/**
 * Each function's role, enforced by the local gateway as IAM enforces it: each route, the broadcast
 * worker and the token endpoint run over real sockets with one action taken from what the route
 * table declares, and fail as they would in AWS, with AWS's error (AccessDeniedException: 400 from
 * DynamoDB and KMS, 403 from `@connections` and Lambda) and an execution-log line naming the action
 * and the resource. With everything declared, the rest of the suite is the proof that it is enough.
 */
import test from "ava";
import { roomShardKey, shardOf } from "../../../../functions/chat/room";
import {
  broadcastWorker,
  type DataResource,
  type FunctionPermissions,
  type RouteDefinition,
  routes,
  type TableAction,
  tokenEndpoint,
} from "../../../../functions/routes";
import { createHandlerDependencies } from "../../../../functions/runtime/handler-dependencies";
import type { LocalGatewayOptions } from "../../../../local/express-server";
import { chatGateway, messagesAt, operatorConfig, say, whoAmI, within } from "../../../support/chat";
import { connect, eventually, type TestClient } from "../../../support/websocket";

const ACCOUNT = "000000000000";
const CONNECTIONS = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/websocket-chat-connections`;
const MESSAGES = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/websocket-chat-messages`;

function declared(name: string): RouteDefinition {
  const route = routes.find((candidate) => candidate.name === name);
  if (!route) throw new Error(`no route ${name}`);
  return route;
}

/** `permissions` with `action` taken away from `resource`. */
function without(permissions: FunctionPermissions, resource: DataResource, action: TableAction): FunctionPermissions {
  const actions = permissions.tableActions?.[resource] ?? [];
  if (!actions.includes(action)) throw new Error(`${action} on ${resource} is not declared`);
  return {
    ...permissions,
    tableActions: { ...permissions.tableActions, [resource]: actions.filter((kept) => kept !== action) },
  };
}

/** A gateway of the project's routes whose function `name` has only `permissions`. */
async function gatewayWhere(name: string, permissions: FunctionPermissions, options: LocalGatewayOptions = {}) {
  return chatGateway({ permissions: { [name]: permissions }, ...options });
}

/** The execution log's line for a refused call by `fn` of `action` on `resource`. */
const denial = (fn: string, action: string, resource: string) =>
  new RegExp(
    `status=(400|403) AccessDeniedException: function ${fn} may not ${action.replace(/[.*]/g, "\\$&")} on ${resource.replace(/[/.*]/g, "\\$&")}`,
  );
/** What AWS's SDK error says, as the invocation's failure note shows it. */
const awsMessage = (fn: string, action: string, resource: string) =>
  `AccessDeniedException: User: arn:aws:sts::${ACCOUNT}:assumed-role/${fn}-role/${fn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

test("$connect without dynamodb:PutItem: the handshake fails (502) with DynamoDB's AccessDeniedException, and no row is written", async (t) => {
  const gw = await gatewayWhere("onconnect", without(declared("onconnect"), "connections", "dynamodb:PutItem"));
  t.teardown(() => gw.close());

  const refused = await connect(gw.url).catch((error: Error & { status?: number }) => error.status);

  t.is(refused, 502);
  t.regex(gw.log.join("\n"), denial("onconnect", "dynamodb:PutItem", CONNECTIONS));
  t.true(gw.log.some((line) => line.includes(awsMessage("onconnect", "dynamodb:PutItem", CONNECTIONS))));
  t.deepEqual(await gw.table.rows(), []);
});

test("$disconnect without dynamodb:DeleteItem: the row stays behind, and the log says why", async (t) => {
  const gw = await gatewayWhere(
    "ondisconnect",
    without(declared("ondisconnect"), "connections", "dynamodb:DeleteItem"),
  );
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  await eventually(async () => (await gw.table.rows()).length === 1);

  client.socket.close(1000);
  await eventually(() => gw.log.some((line) => / \$disconnect .*status=502/.test(line)));

  t.regex(gw.log.join("\n"), denial("ondisconnect", "dynamodb:DeleteItem", CONNECTIONS));
  t.is((await gw.table.rows()).length, 1, "the row the cloud would also have left until its TTL");
});

test("sendmessage without dynamodb:PutItem on the messages table: the sender gets Internal server error, no one the message", async (t) => {
  const gw = await gatewayWhere("sendmessage", without(declared("sendmessage"), "messages", "dynamodb:PutItem"));
  t.teardown(() => gw.close());
  const ada = await connect(`${gw.url}?name=Ada`);
  const bob = await connect(`${gw.url}?name=Bob`);

  say(ada, "hello");

  t.is((await within(3000, "the error frame", ada.nextJson<{ message: string }>())).message, "Internal server error");
  t.regex(gw.log.join("\n"), denial("sendmessage", "dynamodb:PutItem", MESSAGES));
  t.deepEqual(messagesAt(bob), []);
});

test("who without dynamodb:Query on the byRoom index: Internal server error, the index named as the resource", async (t) => {
  const gw = await gatewayWhere("who", without(declared("who"), "roomIndex", "dynamodb:Query"));
  t.teardown(() => gw.close());
  const ada = await connect(gw.url);

  ada.socket.send(JSON.stringify({ action: "who" }));

  t.is((await within(3000, "who", ada.nextJson<{ message: string }>())).message, "Internal server error");
  t.regex(gw.log.join("\n"), denial("who", "dynamodb:Query", `${CONNECTIONS}/index/byRoom`));
});

test("history without dynamodb:Query on the messages table: Internal server error", async (t) => {
  const gw = await gatewayWhere("history", without(declared("history"), "messages", "dynamodb:Query"));
  t.teardown(() => gw.close());
  const ada = await connect(gw.url);

  ada.socket.send(JSON.stringify({ action: "history" }));

  t.is((await within(3000, "history", ada.nextJson<{ message: string }>())).message, "Internal server error");
  t.regex(gw.log.join("\n"), denial("history", "dynamodb:Query", MESSAGES));
});

/** A room that fans out: every shard past its threshold of 1, slices of 1. */
const FAN_OUT = { functionEnvironment: { FANOUT_SHARD_THRESHOLD: "1", FANOUT_SLICE_SIZE: "1" } };

async function crowd(url: string, count: number) {
  const members = [];
  for (let i = 0; i < count; i++) members.push(await connect(`${url}?room=crowd&name=m${i}`));
  return members;
}

test("the broadcast worker without execute-api:ManageConnections: @connections answers 403 AccessDeniedException and its slice misses the message", async (t) => {
  const gw = await gatewayWhere("broadcast", { ...broadcastWorker, manageConnections: false }, FAN_OUT);
  t.teardown(() => gw.close());
  const members = await crowd(gw.url, 12);

  say(members[0] as TestClient, "to the crowd");

  const resource = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${gw.apiId}/dev/POST/@connections/`;
  await eventually(() =>
    gw.log.some((line) => denial("broadcast", "execute-api:ManageConnections", resource).test(line)),
  );
  t.true(
    members.some((member) => messagesAt(member).length === 0),
    "the workers' slices missed it",
  );
});

test("the broadcast worker may write claims to the messages table, and nothing else there: its LeadingKeys condition holds locally", async (t) => {
  // Prepare: a worker that, besides its job, tries to write into a room's history.
  let refused: unknown;
  const worker: typeof broadcastWorker = {
    ...broadcastWorker,
    createHandler: (deps) => {
      const real = broadcastWorker.createHandler(deps);
      return async (job) => {
        const history = { roomKey: `${job.address.apiId}#dev#crowd`, id: "forged", room: "crowd", data: "x" };
        refused ??= await deps.claims.put(history as never).then(
          () => "written",
          (error: unknown) => error,
        );
        return real(job);
      };
    },
  };
  const gw = await chatGateway({ ...FAN_OUT, broadcastWorker: worker });
  t.teardown(() => gw.close());
  const members = await crowd(gw.url, 12);

  // Act
  say(members[0] as TestClient, "to the crowd");
  await eventually(() => members.every((member) => messagesAt(member).length === 1));

  // Assess: every member got the message (the claims went through), the history write did not.
  t.regex(
    String(refused),
    /AccessDeniedException: User: .*broadcast-role\/broadcast is not authorized to perform: dynamodb:PutItem/,
  );
  t.regex(gw.log.join("\n"), denial("broadcast", "dynamodb:PutItem", MESSAGES));
});

test("sendmessage without lambda:InvokeFunction: Lambda answers 403 AccessDeniedException, the slices are not handed off", async (t) => {
  const gw = await gatewayWhere("sendmessage", { ...declared("sendmessage"), fansOut: false }, FAN_OUT);
  t.teardown(() => gw.close());
  const members = await crowd(gw.url, 12);

  say(members[0] as TestClient, "to the crowd");
  await eventually(() => gw.log.some((line) => / sendmessage .*status=200/.test(line)));

  const worker = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:broadcast`;
  t.regex(gw.log.join("\n"), denial("sendmessage", "lambda:InvokeFunction", worker));
  t.false(
    gw.log.some((line) => / broadcast asynchronous /.test(line)),
    "no worker ran",
  );
});

test("the token endpoint without kms:Sign: KMS refuses (400 AccessDeniedException) and no token is issued (503)", async (t) => {
  const gw = await gatewayWhere(
    "token",
    { ...tokenEndpoint, signsTokens: false },
    { auth: { mode: "guest" }, servePage: false },
  );
  t.teardown(() => gw.close());

  const response = await fetch(`http://127.0.0.1:${gw.port}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Ada" }),
  });

  t.is(response.status, 503);
  t.regex(gw.log.join("\n"), denial("token", "kms:Sign", `arn:aws:kms:us-east-1:${ACCOUNT}:key/`));
});

/** A row for a connection that left without `$disconnect`, joined two minutes ago: its post answers 410. */
async function goneMember(gw: Awaited<ReturnType<typeof chatGateway>>): Promise<string> {
  const { connections } = createHandlerDependencies(operatorConfig(gw));
  const connectionId = "GONEMEMBER0000=";
  const address = { apiId: gw.apiId, stage: "dev", room: "lobby" };
  await connections.put({
    connectionId,
    ...address,
    roomKey: roomShardKey(address, shardOf(connectionId)),
    connectedAt: Date.now() - 120_000,
    sourceIp: "127.0.0.1",
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  });
  return connectionId;
}

test("onconnect's join notice removes a member found gone, under the role the route table now declares", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const gone = await goneMember(gw);

  const ada = await connect(`${gw.url}?name=Ada`);
  const id = await whoAmI(ada);

  await eventually(async () => (await gw.table.rows()).every((row) => row.connectionId !== gone));
  t.deepEqual(
    (await gw.table.rows()).map((row) => row.connectionId),
    [id],
  );
  t.false(gw.log.some((line) => line.includes("AccessDeniedException")));
});

test("onconnect as first deployed (no dynamodb:DeleteItem): the gone member's row stays, AccessDeniedException logged", async (t) => {
  const gw = await gatewayWhere("onconnect", without(declared("onconnect"), "connections", "dynamodb:DeleteItem"));
  t.teardown(() => gw.close());
  const gone = await goneMember(gw);

  await connect(`${gw.url}?name=Ada`);

  await eventually(() => gw.log.some((line) => denial("onconnect", "dynamodb:DeleteItem", CONNECTIONS).test(line)));
  t.true(
    (await gw.table.rows()).some((row) => row.connectionId === gone),
    "until its TTL, as in AWS before the fix",
  );
});

test("a function's calls outside its role fail with the errors AWS returns, as the SDK clients raise them", async (t) => {
  // Prepare: a route that declares fanning out (so it has a Lambda client) but whose role allows nothing.
  const errors: Record<string, unknown> = {};
  const probe: RouteDefinition = {
    routeKey: "probe",
    name: "probe",
    tableActions: {},
    manageConnections: false,
    rateLimit: "none",
    fansOut: true,
    createHandler: (deps) => async (event) => {
      const { connectionId } = event.requestContext;
      const attempt = async (what: string, call: () => Promise<unknown>) => {
        errors[what] = await call().then(
          () => undefined,
          (error: unknown) => error,
        );
      };
      await attempt("dynamodb", () => deps.connections.get({ connectionId }));
      await attempt("connections", () =>
        deps.managementApi(deps.config.managementEndpoint as string).post(connectionId, "x"),
      );
      await attempt("lambda", async () => deps.broadcastWorker?.invoke({} as never));
      return { statusCode: 200 };
    },
  };
  const gw = await chatGateway({ routes: [probe], permissions: { probe: {} } });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);

  // Act
  client.socket.send(JSON.stringify({ action: "probe" }));
  await eventually(() => Object.keys(errors).length === 3);

  // Assess: DynamoDB 400, API Gateway 403 (its own message: account masked, `{connectionId}`, no reason), Lambda 403.
  const sdk = (error: unknown) => error as { name: string; message: string; $metadata: { httpStatusCode: number } };
  const dynamodb = sdk((errors.dynamodb as { cause: unknown }).cause);
  t.is(dynamodb.name, "AccessDeniedException");
  t.is(dynamodb.$metadata.httpStatusCode, 400);
  t.is(dynamodb.message, awsMessage("probe", "dynamodb:GetItem", CONNECTIONS).replace("AccessDeniedException: ", ""));
  const connections = sdk(errors.connections);
  t.is(connections.name, "AccessDeniedException");
  t.is(connections.$metadata.httpStatusCode, 403);
  t.is(
    connections.message,
    `User: arn:aws:sts::${ACCOUNT}:assumed-role/probe-role/probe is not authorized to perform: execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:********0000:${gw.apiId}/dev/POST/@connections/{connectionId}`,
  );
  const lambda = sdk(errors.lambda);
  t.is(lambda.name, "AccessDeniedException");
  t.is(lambda.$metadata.httpStatusCode, 403);
  t.is(
    lambda.message,
    awsMessage("probe", "lambda:InvokeFunction", `arn:aws:lambda:us-east-1:${ACCOUNT}:function:broadcast`).replace(
      "AccessDeniedException: ",
      "",
    ),
  );
});

const LIMITS = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/websocket-chat-limits`;

/** The frames `client` has received, parsed. */
const framesAt = (client: TestClient) =>
  client.received.map((raw) => JSON.parse(String(raw)) as { type?: string; message?: string; id?: string });

/** Waits for API Gateway's answer to a failed function on `client`. */
const internalError = (client: TestClient) =>
  eventually(() => framesAt(client).some((frame) => frame.message === "Internal server error"));

/** Sends `data` from `client` and resolves the stored message's id, from its ack. */
async function sentId(client: TestClient, data: string): Promise<string> {
  say(client, data);
  await eventually(() => framesAt(client).some((frame) => frame.type === "ack"));
  return framesAt(client).find((frame) => frame.type === "ack")?.id as string;
}

test("join without dynamodb:PutItem on the connections table: Internal server error, its membership not written", async (t) => {
  const gw = await gatewayWhere("join", without(declared("join"), "connections", "dynamodb:PutItem"));
  t.teardown(() => gw.close());
  const ada = await connect(`${gw.url}?name=Ada`);

  ada.socket.send(JSON.stringify({ action: "join", room: "kitchen" }));

  await internalError(ada);
  t.regex(gw.log.join("\n"), denial("join", "dynamodb:PutItem", CONNECTIONS));
  t.false(
    (await gw.table.rows()).some((row) => String(row.roomKey ?? "").includes("kitchen")),
    "no membership of the kitchen",
  );
});

test("leave without dynamodb:DeleteItem on the connections table: Internal server error, the denial logged", async (t) => {
  const gw = await gatewayWhere("leave", without(declared("leave"), "connections", "dynamodb:DeleteItem"));
  t.teardown(() => gw.close());
  const ada = await connect(`${gw.url}?name=Ada&room=kitchen`);
  await whoAmI(ada);

  ada.socket.send(JSON.stringify({ action: "leave", room: "kitchen" }));

  await internalError(ada);
  t.regex(gw.log.join("\n"), denial("leave", "dynamodb:DeleteItem", CONNECTIONS));
});

test("typing without execute-api:ManageConnections: @connections refuses its notices (403), the others see no typing", async (t) => {
  const gw = await gatewayWhere("typing", { ...declared("typing"), manageConnections: false });
  t.teardown(() => gw.close());
  const ada = await connect(`${gw.url}?name=Ada`);
  const bob = await connect(`${gw.url}?name=Bob`);
  await whoAmI(bob);

  ada.socket.send(JSON.stringify({ action: "typing" }));

  const resource = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${gw.apiId}/dev/POST/@connections/`;
  await eventually(() => gw.log.some((line) => denial("typing", "execute-api:ManageConnections", resource).test(line)));
  t.false(framesAt(bob).some((frame) => frame.type === "typing"));
});

for (const change of ["edit", "delete"] as const) {
  test(`${change} without dynamodb:UpdateItem on the messages table: Internal server error, the message unchanged`, async (t) => {
    const gw = await gatewayWhere(change, without(declared(change), "messages", "dynamodb:UpdateItem"));
    t.teardown(() => gw.close());
    const ada = await connect(`${gw.url}?name=Ada`);
    const id = await sentId(ada, "first draft");

    ada.socket.send(JSON.stringify({ action: change, id, data: "second draft" }));

    await internalError(ada);
    t.regex(gw.log.join("\n"), denial(change, "dynamodb:UpdateItem", MESSAGES));
    t.false(
      framesAt(ada).some((frame) => frame.type === change),
      "no one was told of a change",
    );
  });
}

test("with budgets on, who without dynamodb:UpdateItem on the limits table: Internal server error, the limits table named", async (t) => {
  const gw = await gatewayWhere("who", without(declared("who"), "limits", "dynamodb:UpdateItem"), {
    functionEnvironment: { RATE_LIMITS: JSON.stringify({}) },
  });
  t.teardown(() => gw.close());
  const ada = await connect(gw.url);

  ada.socket.send(JSON.stringify({ action: "who" }));

  await internalError(ada);
  t.regex(gw.log.join("\n"), denial("who", "dynamodb:UpdateItem", LIMITS));
});

/**
 * Starting the gateway as a newcomer does: a DynamoDB that is not there fails start-up within
 * seconds with an error that names DynamoDB, its endpoint and what to do; the port opens only
 * once the table and the routes are ready, so no early handshake is answered 404; and a DynamoDB
 * that comes back empty gets its tables again instead of failing every request from then on.
 */
import net, { type AddressInfo } from "node:net";
import { DeleteTableCommand, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import test from "ava";
import { readFunctionConfig } from "../../../functions/runtime/function-config";
import { startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";
import { adminClient, DynamoDBUnreachableError } from "../../../local/dynamodb/tables";
import { startLocalGateway } from "../../../local/express-server";
import { upgradeRequest } from "../../support/raw-http";
import { startTcpProxy } from "../../support/tcp-proxy";
import { connect, eventually } from "../../support/websocket";

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The status line an upgrade request gets, or the code of the error that kept it from being sent. */
function knock(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(upgradeRequest("/dev")));
    let received = "";
    socket.setTimeout(2_000, () => socket.destroy(new Error("no answer")));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.includes("\r\n")) socket.destroy();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.on("close", () => resolve(received.split("\r\n")[0] || "closed without answer"));
  });
}

/** A TCP server that accepts every connection and never says a word. */
async function silentServer(t: { teardown(fn: () => Promise<unknown>): void }): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

const unreachable = test.macro(async (t, makePort: (t: Parameters<typeof silentServer>[0]) => Promise<number>) => {
  const endpoint = `http://127.0.0.1:${await makePort(t)}`;
  const started = performance.now();
  const error = await t.throwsAsync(startLocalGateway({ port: 0, dynamodbEndpoint: endpoint, log: () => {} }), {
    instanceOf: DynamoDBUnreachableError,
  });
  const seconds = (performance.now() - started) / 1000;
  t.true(error?.message.startsWith(`DynamoDB at ${endpoint} did not answer (`), error?.message);
  t.regex(error?.message ?? "", /DYNAMODB_ENDPOINT_URL/);
  t.log(`refused after ${seconds.toFixed(1)} s: ${error?.message}`);
});

test(
  "a DynamoDB that accepts connections and never answers fails start-up with an error naming it",
  unreachable,
  silentServer,
);
test("a DynamoDB endpoint that refuses connections fails start-up with an error naming it", unreachable, closedPort);

test("the port opens only when the gateway is ready: every early handshake is refused at TCP or accepted, never 404", async (t) => {
  // Prepare: a slow DynamoDB keeps start-up busy while a client knocks on the port.
  const dynamodb = await startEmbeddedDynamoDB();
  const proxy = await startTcpProxy(Number(new URL(dynamodb.endpoint).port));
  t.teardown(async () => {
    await proxy.close();
    await dynamodb.close();
  });
  proxy.delay(100);
  const port = await closedPort();
  const answers = new Map<string, number>();
  let knocking = true;
  const knocks = (async () => {
    while (knocking) {
      const answer = await knock(port);
      answers.set(answer, (answers.get(answer) ?? 0) + 1);
      if (answer.startsWith("HTTP/1.1 101")) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  // Act
  const gw = await startLocalGateway({ port, dynamodbEndpoint: proxy.endpoint, servePage: false, log: () => {} });
  t.teardown(() => gw.close());
  await knocks;
  knocking = false;

  // Assess
  t.deepEqual(
    [...answers.keys()].filter((answer) => answer !== "ECONNREFUSED" && !answer.startsWith("HTTP/1.1 101")),
    [],
  );
  t.true((answers.get("ECONNREFUSED") ?? 0) > 0, "the client knocked while the gateway was starting");
  t.log([...answers].map(([answer, count]) => `${count}× ${answer}`).join(", "));
});

test("a DynamoDB that comes back empty (a restarted in-memory LocalStack): the gateway makes its tables again, says so, and its clients reconnect to a working chat", async (t) => {
  // Prepare
  const dynamodb = await startEmbeddedDynamoDB();
  t.teardown(() => dynamodb.close());
  const log: string[] = [];
  const start = () =>
    startLocalGateway({
      port: 0,
      servePage: false,
      dynamodbEndpoint: dynamodb.endpoint,
      limits: { leaseRenewMs: 100 },
      log: (line) => log.push(line),
    });
  // Two gateways on it: each must notice for itself, though the first to notice makes the tables.
  const gw = await start();
  const other = await start();
  t.teardown(() => gw.close());
  t.teardown(() => other.close());
  const before = await connect(gw.url);
  const otherBefore = await connect(other.url);

  // Act: every table goes, as when an in-memory DynamoDB restarts.
  const admin = adminClient(
    readFunctionConfig({
      TABLE_NAME: gw.tableName,
      MESSAGES_TABLE_NAME: gw.messagesTableName,
      DYNAMODB_ENDPOINT_URL: dynamodb.endpoint,
    }),
  );
  t.teardown(() => admin.destroy());
  const { TableNames = [] } = await admin.send(new ListTablesCommand({}));
  for (const TableName of TableNames) await admin.send(new DeleteTableCommand({ TableName }));
  const closed = await Promise.all([before.closed, otherBefore.closed]);
  await eventually(() => log.filter((line) => line.includes("came back without its tables")).length === 2, 10_000);

  // Assess
  for (const close of closed) {
    t.deepEqual(close, { code: 1001, reason: "Going away" }, "a client whose row was lost is told to reconnect");
  }
  t.is(
    log.filter((line) => /created them again and closed the 1 connection\(s\) whose rows were lost/.test(line)).length,
    2,
  );
  const [ada, bob] = [await connect(gw.url), await connect(gw.url)];
  ada.socket.send(JSON.stringify({ action: "sendmessage", data: "after the restart" }));
  t.is((await bob.nextJson<{ data: string }>()).data, "after the restart");
  t.true((await admin.send(new ListTablesCommand({}))).TableNames?.includes(gw.tableName));
  const [carol, dave] = [await connect(other.url), await connect(other.url)];
  carol.socket.send(JSON.stringify({ action: "sendmessage", data: "on the other gateway" }));
  t.is((await dave.nextJson<{ data: string }>()).data, "on the other gateway");
  t.is(bob.socket.readyState, bob.socket.OPEN, "the second gateway's recovery left the first's new clients alone");
  ada.socket.send(JSON.stringify({ action: "sendmessage", data: "still here" }));
  t.is((await bob.nextJson<{ data: string }>()).data, "still here");
});

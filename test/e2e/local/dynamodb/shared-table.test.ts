/**
 * Gateways sharing one DynamoDB (two terminals, two developers on one LocalStack), and DynamoDB's
 * Time to Live replayed where the DynamoDB has none. Each gateway is an API of its own (its own
 * API id): a broadcast reaches its own connections only, and a gateway starting up removes only
 * the rows of gateways that are no longer running. Expired rows are deleted in the background, as
 * DynamoDB's TTL deletes them (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).
 */
import { hostname } from "node:os";
import test from "ava";
import { createDocumentClient } from "../../../../dal/dynamodb-client";
import { DynamoDBRepository } from "../../../../dal/dynamodb-repository";
import type { Connection } from "../../../../functions/chat/connection";
import { readFunctionConfig } from "../../../../functions/runtime/function-config";
import { createHandlerDependencies } from "../../../../functions/runtime/handler-dependencies";
import { startEmbeddedDynamoDB } from "../../../../local/dynamodb/embedded-dynamodb";
import { LEASE_LAPSE_MS, leaseTableName } from "../../../../local/dynamodb/gateway-leases";
import { chatGateway, messagesAt, say, whoAmI } from "../../../support/chat";
import { tableReader } from "../../../support/dynamodb";
import { connect, eventually, type TestClient } from "../../../support/websocket";

const TABLE = "websocket-chat-connections";

interface Lease {
  apiId: string;
  host: string;
  pid: number;
  renewedAt: number;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An embedded DynamoDB and the real repositories over its connections and lease tables. */
async function sharedDynamoDB(t: { teardown(fn: () => Promise<void> | void): void }) {
  const dynamodb = await startEmbeddedDynamoDB();
  const config = readFunctionConfig({
    TABLE_NAME: TABLE,
    MESSAGES_TABLE_NAME: `${TABLE}-messages`,
    DYNAMODB_ENDPOINT_URL: dynamodb.endpoint,
  });
  const { connections } = createHandlerDependencies(config);
  const leases = new DynamoDBRepository<Lease>({
    client: createDocumentClient({
      region: config.region,
      endpoint: dynamodb.endpoint,
      credentials: config.credentials,
    }),
    tableName: leaseTableName(TABLE),
    keyAttributes: ["apiId"],
  });
  const table = tableReader(dynamodb.endpoint, TABLE);
  t.teardown(async () => {
    table.close();
    await dynamodb.close();
  });
  return { endpoint: dynamodb.endpoint, connections, leases, table };
}

const row = (connectionId: string, apiId: string, connectedAt = Date.now()): Connection => ({
  connectionId,
  apiId,
  stage: "dev",
  room: "lobby",
  roomKey: `${apiId}#dev#lobby#0`,
  connectedAt,
  sourceIp: "127.0.0.1",
  expiresAt: 4_000_000_000,
});

test("a second gateway on the same table leaves the first one's connections alone, and each chat stays its own", async (t) => {
  // Prepare: the first gateway with 5 clients; a short integration timeout keeps the connecting
  // window at 2 s (a cold `$connect` that tells its room may take a few hundred ms here).
  const db = await sharedDynamoDB(t);
  const limits = { integrationTimeoutMs: 1_000 };
  const first = await chatGateway({ dynamodbEndpoint: db.endpoint, limits });
  t.teardown(() => first.close());
  const firstClients = await Promise.all(Array.from({ length: 5 }, () => connect(first.url)));
  const firstIds = await Promise.all(firstClients.map(whoAmI));

  // Act: a second gateway starts on the same table; both chats talk once the rows are past the window.
  const second = await chatGateway({ dynamodbEndpoint: db.endpoint, limits });
  t.teardown(() => second.close());
  const secondClients = await Promise.all(Array.from({ length: 2 }, () => connect(second.url)));
  const secondIds = await Promise.all(secondClients.map(whoAmI));
  await sleep(2_100); // a wait for time itself (rows older than the window): a busy machine only lengthens it
  say(secondClients[0] as TestClient, "from the second gateway");
  say(firstClients[0] as TestClient, "from the first gateway");

  // Assess
  t.not(first.apiId, second.apiId);
  t.false(
    second.log.some((line) => line.includes("removed")),
    "the second gateway removed no rows",
  );
  await eventually(() => firstClients.every((client) => messagesAt(client).length === 1));
  await eventually(() => secondClients.every((client) => messagesAt(client).length === 1));
  for (const client of firstClients)
    t.deepEqual(
      messagesAt(client).map((m) => m.data),
      ["from the first gateway"],
    );
  for (const client of secondClients)
    t.deepEqual(
      messagesAt(client).map((m) => m.data),
      ["from the second gateway"],
    );
  t.deepEqual(
    (await db.table.rows()).map((r) => r.connectionId).sort(),
    [...firstIds, ...secondIds].sort(),
    "every live connection keeps its row",
  );
});

test("at start a gateway removes the rows of gateways whose lease lapsed or whose process died, and keeps live ones'", async (t) => {
  // Prepare: leases of a gateway alive on another machine, one lapsed there, one whose process here is gone.
  const db = await sharedDynamoDB(t);
  const gateways = {
    elsewhereAlive: { host: "another-machine", pid: 1, renewedAt: Date.now() },
    elsewhereLapsed: { host: "another-machine", pid: 1, renewedAt: Date.now() - LEASE_LAPSE_MS - 1_000 },
    hereDead: { host: hostname(), pid: 2 ** 22 + 12345, renewedAt: Date.now() },
  };
  const first = await chatGateway({ dynamodbEndpoint: db.endpoint });
  await first.close(); // creates the lease table, then gives its own lease up
  for (const [apiId, lease] of Object.entries(gateways)) {
    await db.leases.put({ apiId, ...lease });
    await db.connections.put(row(`${apiId.slice(0, 14).padEnd(15, "A")}=`, apiId));
  }
  // A row written before rows named their API: no apiId at all.
  const { apiId: _none, ...legacy } = row("NOAPIIDAAAAAAAA=", "");
  await db.connections.put(legacy as Connection);

  // Act
  const gw = await chatGateway({ dynamodbEndpoint: db.endpoint });
  t.teardown(() => gw.close());

  // Assess
  t.deepEqual(
    (await db.table.rows()).map((r) => r.apiId),
    ["elsewhereAlive"],
    "only the live gateway's row is left",
  );
  t.true(gw.log.includes("removed 3 connection rows left by gateways no longer running"));
  const leases = tableReader(db.endpoint, leaseTableName(TABLE));
  t.teardown(() => leases.close());
  t.deepEqual(
    (await leases.rows()).map((lease) => (lease as unknown as { apiId: string }).apiId).sort(),
    ["elsewhereAlive", gw.apiId].sort(),
    "the leases of the lapsed and the dead gateway are gone",
  );
});

test("closing a gateway gives its lease up", async (t) => {
  const db = await sharedDynamoDB(t);
  const gw = await chatGateway({ dynamodbEndpoint: db.endpoint });
  const leases = tableReader(db.endpoint, leaseTableName(TABLE));
  t.teardown(() => leases.close());
  t.deepEqual(
    (await leases.rows()).map((lease) => (lease as unknown as { apiId: string; pid: number }).pid),
    [process.pid],
  );
  await gw.close();
  t.deepEqual(await leases.rows(), []);
});

test("TTL replayed on the embedded DynamoDB: expired rows are deleted in the background, live ones stay", async (t) => {
  // Prepare
  const db = await sharedDynamoDB(t);
  const gw = await chatGateway({ dynamodbEndpoint: db.endpoint, limits: { ttlSweepMs: 100 } });
  t.teardown(() => gw.close());
  const client = await connect(gw.url);
  const clientId = await whoAmI(client);
  const nowSeconds = Math.floor(Date.now() / 1000);
  await db.connections.put({ ...row("EXPIREDAAAAAAAA=", gw.apiId), expiresAt: nowSeconds - 10 });
  await db.connections.put({ ...row("EXPIRESLATERAAA=", gw.apiId), expiresAt: nowSeconds + 3600 });

  // Act
  await eventually(async () => !(await db.table.rows()).some((r) => r.connectionId === "EXPIREDAAAAAAAA="));

  // Assess
  t.deepEqual((await db.table.rows()).map((r) => r.connectionId).sort(), [clientId, "EXPIRESLATERAAA="].sort());
  await eventually(() => gw.log.includes("TTL: deleted 1 expired connection row(s)"));
  say(client, "still here");
  t.is((await client.nextJson<{ data: string }>()).data, "still here");
});

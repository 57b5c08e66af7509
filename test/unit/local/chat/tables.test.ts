/**
 * The chat's tables where the gateway's DynamoDB lacks them: made as `infra/` declares them (the
 * embedded DynamoDB, below), the `byRoom` index added to a table made before it; and TTL where the
 * DynamoDB has it (AWS, LocalStack: nothing of the kind runs here, so the client is a stub at the
 * SDK boundary): turned on unless it is on, reported missing where the DynamoDB does not implement
 * it, so the gateway replays it.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import test from "ava";
import sinon from "sinon";
import { CONNECTIONS_TABLE } from "../../../../functions/chat/tables";
import { readFunctionConfig } from "../../../../functions/runtime/function-config";
import { ensureChatTables } from "../../../../local/chat/tables";
import { startEmbeddedDynamoDB } from "../../../../local/dynamodb/embedded-dynamodb";
import { adminClient, enableTimeToLive, ensureTable } from "../../../../local/dynamodb/tables";

const BY_ROOM = {
  IndexName: "byRoom",
  KeySchema: [
    { AttributeName: "roomKey", KeyType: "HASH" },
    { AttributeName: "connectionId", KeyType: "RANGE" },
  ],
  Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["userId", "name", "connectedAt", "expiresAt"] },
};

test("where the tables are missing, both are made as infra/ declares them, the index included", async (t) => {
  // Prepare
  const db = await startEmbeddedDynamoDB();
  t.teardown(() => db.close());
  const config = readFunctionConfig({
    TABLE_NAME: "chat-c",
    MESSAGES_TABLE_NAME: "chat-m",
    DYNAMODB_ENDPOINT_URL: db.endpoint,
  });
  const client = adminClient(config);
  t.teardown(() => client.destroy());

  // Act: twice, as two starts would.
  await ensureChatTables(config);
  await ensureChatTables(config);

  // Assess
  const { Table: connections } = await client.send(new DescribeTableCommand({ TableName: "chat-c" }));
  t.deepEqual(connections?.KeySchema, [{ AttributeName: "connectionId", KeyType: "HASH" }]);
  t.like(connections?.GlobalSecondaryIndexes?.[0], { ...BY_ROOM, IndexStatus: "ACTIVE" });
  const { Table: messages } = await client.send(new DescribeTableCommand({ TableName: "chat-m" }));
  t.deepEqual(messages?.KeySchema, [
    { AttributeName: "roomKey", KeyType: "HASH" },
    { AttributeName: "id", KeyType: "RANGE" },
  ]);
  t.is(messages?.BillingModeSummary?.BillingMode, "PAY_PER_REQUEST");
});

test("a connections table made before rooms gets its index added (LocalStack, AWS), and is waited for until ACTIVE", async (t) => {
  // Prepare: the embedded DynamoDB cannot add an index to a table (and never holds one from an
  // earlier start), so this runs against a stub at the SDK boundary.
  const statuses = [undefined, "CREATING", "ACTIVE"];
  const send = sinon.stub().callsFake(async (command: unknown) => {
    if (command instanceof CreateTableCommand) throw new ResourceInUseException({ message: "exists", $metadata: {} });
    if (command instanceof DescribeTableCommand) {
      const status = statuses.length > 1 ? statuses.shift() : statuses[0];
      return { Table: { GlobalSecondaryIndexes: status ? [{ IndexName: "byRoom", IndexStatus: status }] : [] } };
    }
    if (command instanceof UpdateTableCommand) return {};
    throw new Error("unexpected command");
  });

  // Act
  const created = await ensureTable({ send } as unknown as DynamoDBClient, "old", CONNECTIONS_TABLE);

  // Assess
  t.false(created);
  const updates = send.getCalls().filter((call) => call.args[0] instanceof UpdateTableCommand);
  t.deepEqual(
    updates.map((call) => (call.args[0] as UpdateTableCommand).input),
    [
      {
        TableName: "old",
        AttributeDefinitions: [
          { AttributeName: "connectionId", AttributeType: "S" },
          { AttributeName: "roomKey", AttributeType: "S" },
        ],
        GlobalSecondaryIndexUpdates: [{ Create: BY_ROOM }],
      },
    ],
    "on-demand: no throughput asked for",
  );
  t.is(statuses[0], "ACTIVE");
});

function stubClient(describe: unknown, update: () => Promise<unknown> = async () => ({})) {
  const send = sinon.stub().callsFake(async (command: unknown) => {
    if (command instanceof DescribeTimeToLiveCommand) return describe;
    if (command instanceof UpdateTimeToLiveCommand) return update();
    throw new Error("unexpected command");
  });
  return { client: { send } as unknown as DynamoDBClient, send };
}

test("TTL disabled: it is turned on for expiresAt", async (t) => {
  const { client, send } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } });
  t.true(await enableTimeToLive(client, "connections", "expiresAt"));
  const update = send.getCalls().find((call) => call.args[0] instanceof UpdateTimeToLiveCommand);
  t.deepEqual((update?.args[0] as UpdateTimeToLiveCommand | undefined)?.input, {
    TableName: "connections",
    TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
  });
});

test("TTL already on (or being turned on): left as it is", async (t) => {
  for (const status of ["ENABLED", "ENABLING"]) {
    const { client, send } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: status } });
    t.true(await enableTimeToLive(client, "connections", "expiresAt"));
    t.is(send.callCount, 1, `${status}: no UpdateTimeToLive`);
  }
});

test("a DynamoDB without UpdateTimeToLive (the embedded one): false, so the gateway replays TTL", async (t) => {
  const unknown = Object.assign(new Error("An unknown operation was requested"), { name: "UnknownOperationException" });
  const { client } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } }, async () => {
    throw unknown;
  });
  t.false(await enableTimeToLive(client, "connections", "expiresAt"));
});

test("any other failure of UpdateTimeToLive is not taken for a missing feature", async (t) => {
  const denied = Object.assign(new Error("not authorized"), { name: "AccessDeniedException" });
  const { client } = stubClient({ TimeToLiveDescription: { TimeToLiveStatus: "DISABLED" } }, async () => {
    throw denied;
  });
  await t.throwsAsync(enableTimeToLive(client, "connections", "expiresAt"), { is: denied });
});

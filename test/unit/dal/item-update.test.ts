/**
 * The repository's `update` against the embedded DynamoDB: one atomic `UpdateItem` that sets,
 * counts, adds to and takes from a string set, and refuses what its condition does not allow.
 */
import { randomUUID } from "node:crypto";
import { CreateTableCommand } from "@aws-sdk/client-dynamodb";
import anyTest, { type TestFn } from "ava";
import { createDocumentClient } from "../../../dal/dynamodb-client";
import { DynamoDBRepository } from "../../../dal/dynamodb-repository";
import { type EmbeddedDynamoDB, startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";

interface Row {
  id: string;
  owner?: string;
  text?: string;
  count?: number;
  rooms?: Set<string>;
}

const test = anyTest as TestFn<{ db: EmbeddedDynamoDB; rows: DynamoDBRepository<Row> }>;

test.before(async (t) => {
  const db = await startEmbeddedDynamoDB();
  const client = createDocumentClient({
    region: "us-east-1",
    endpoint: db.endpoint,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const tableName = `update-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  t.context = { db, rows: new DynamoDBRepository<Row>({ client, tableName, keyAttributes: ["id"] }) };
});

test.after.always(async (t) => {
  await t.context.db?.close();
});

test("a counter counts from nothing, one request each, and 20 at once end at 20 with each value once", async (t) => {
  const id = randomUUID();
  const values = await Promise.all(
    Array.from({ length: 20 }, () => t.context.rows.update({ id }, { add: { count: 1 } })),
  );
  t.deepEqual(
    values.map((row) => row?.count).sort((a, b) => (a ?? 0) - (b ?? 0)),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
});

test("set changes only if the condition holds: the owner may, another may not, a missing item is not made", async (t) => {
  const id = randomUUID();
  await t.context.rows.put({ id, owner: "ada", text: "hello" });
  const byOwner = { set: { text: "hello, edited" }, condition: { exists: true as const, equals: { owner: "ada" } } };
  t.like(await t.context.rows.update({ id }, byOwner), { text: "hello, edited" });
  t.is(
    await t.context.rows.update({ id }, { ...byOwner, condition: { exists: true, equals: { owner: "eve" } } }),
    undefined,
  );
  t.is((await t.context.rows.get({ id })).text, "hello, edited");
  t.is(await t.context.rows.update({ id: randomUUID() }, byOwner), undefined);
});

test("a capped set takes members up to its cap, a member already in always, and gives places back", async (t) => {
  const id = randomUUID();
  await t.context.rows.put({ id });
  const join = (room: string) =>
    t.context.rows.update(
      { id },
      {
        addToSet: { attribute: "rooms", members: [room] },
        condition: { exists: true, setSize: { attribute: "rooms", below: 2, orContains: room } },
      },
    );
  t.deepEqual((await join("a"))?.rooms, new Set(["a"]));
  t.deepEqual((await join("b"))?.rooms, new Set(["a", "b"]));
  t.is(await join("c"), undefined, "full");
  t.deepEqual((await join("a"))?.rooms, new Set(["a", "b"]), "already in");
  await t.context.rows.update({ id }, { removeFromSet: { attribute: "rooms", members: ["a"] } });
  t.deepEqual((await join("c"))?.rooms, new Set(["b", "c"]));
});

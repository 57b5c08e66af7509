import { randomUUID } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo, createServer } from "node:net";
import { CreateTableCommand, type KeySchemaElement } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import anyTest, { type TestFn } from "ava";
import { createDocumentClient } from "../../../dal/dynamodb-client";
import { DynamoDBRepository } from "../../../dal/dynamodb-repository";
import { ObjectExistsError, ObjectNotFoundError, RepositoryError } from "../../../dal/errors";
import type { Key } from "../../../dal/repository";
import { type EmbeddedDynamoDB, startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";

const test = anyTest as TestFn<{ db: EmbeddedDynamoDB; client: DynamoDBDocumentClient }>;

const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

interface Item {
  id: string;
  text?: string;
  count?: number;
  tags?: string[];
}

interface Message {
  room: string;
  sentAt: number;
  text: string;
}

test.before(async (t) => {
  const db = await startEmbeddedDynamoDB();
  t.context = { db, client: createDocumentClient({ region: REGION, endpoint: db.endpoint, credentials: CREDENTIALS }) };
});

test.after.always(async (t) => {
  t.context.client?.destroy();
  await t.context.db?.close();
});

/** A fresh table, so tests can run concurrently against the one embedded DynamoDB. */
async function createTable(
  client: DynamoDBDocumentClient,
  key: { hash: string; range?: { name: string; type: "S" | "N" } } = { hash: "id" },
): Promise<string> {
  const tableName = `test-${randomUUID()}`;
  const keySchema: KeySchemaElement[] = [{ AttributeName: key.hash, KeyType: "HASH" }];
  const attributes: { AttributeName: string; AttributeType: "S" | "N" }[] = [
    { AttributeName: key.hash, AttributeType: "S" },
  ];
  if (key.range) {
    keySchema.push({ AttributeName: key.range.name, KeyType: "RANGE" });
    attributes.push({ AttributeName: key.range.name, AttributeType: key.range.type });
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: keySchema,
      AttributeDefinitions: attributes,
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return tableName;
}

async function itemRepository(client: DynamoDBDocumentClient) {
  const tableName = await createTable(client);
  return new DynamoDBRepository<Item>({ client, tableName, keyAttributes: ["id"] });
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const result: T[][] = [];
  for await (const page of pages) result.push(page);
  return result;
}

/** A loopback port that nothing listens on: bound, then closed, so connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}

test("put then get returns the stored item", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  const item: Item = { id: "a", text: "hello", count: 3, tags: ["x", "y"] };

  // Act
  const stored = await repository.put(item);
  const read = await repository.get({ id: "a" });

  // Assess
  t.deepEqual(stored, item);
  t.deepEqual(read, item);
});

test("put leaves out undefined attributes instead of failing", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);

  // Act
  await repository.put({ id: "a", text: undefined, count: 1 });

  // Assess
  t.deepEqual(await repository.get({ id: "a" }), { id: "a", count: 1 });
});

test("put replaces an existing item by default", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  await repository.put({ id: "a", text: "first", count: 1 });

  // Act
  await repository.put({ id: "a", text: "second" });

  // Assess: the whole item is replaced, not merged
  t.deepEqual(await repository.get({ id: "a" }), { id: "a", text: "second" });
});

test("put with overwrite false on an existing key throws ObjectExistsError and keeps the stored item", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  await repository.put({ id: "a", text: "first" });

  // Act
  const error = await t.throwsAsync(repository.put({ id: "a", text: "second" }, { overwrite: false }), {
    instanceOf: ObjectExistsError,
  });

  // Assess
  t.true(error instanceof RepositoryError);
  t.is(error?.name, "ObjectExistsError");
  t.is(error?.table, repository.tableName);
  t.is(error?.operation, "put");
  t.deepEqual(error?.key, { id: "a" });
  t.truthy(error?.cause);
  t.deepEqual(await repository.get({ id: "a" }), { id: "a", text: "first" });
});

test("put with overwrite false on a new key stores the item", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);

  // Act
  await repository.put({ id: "b", text: "new" }, { overwrite: false });

  // Assess
  t.deepEqual(await repository.get({ id: "b" }), { id: "b", text: "new" });
});

test("get of a missing key throws ObjectNotFoundError naming the table and key", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  await repository.put({ id: "present" });

  // Act
  const error = await t.throwsAsync(repository.get({ id: "absent" }), { instanceOf: ObjectNotFoundError });

  // Assess
  t.true(error instanceof RepositoryError);
  t.is(error?.table, repository.tableName);
  t.is(error?.operation, "get");
  t.deepEqual(error?.key, { id: "absent" });
  t.true(error?.message.includes(repository.tableName));
  t.true(error?.message.includes("absent"));
});

test("delete removes the item so get no longer finds it, and returns it as it was", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  await repository.put({ id: "a", text: "gone soon" });
  await repository.put({ id: "b", text: "stays" });

  // Act
  const removed = await repository.delete({ id: "a" });
  const again = await repository.delete({ id: "a" });

  // Assess
  t.deepEqual(removed, { id: "a", text: "gone soon" });
  t.is(again, undefined, "of two callers removing one item, only the first gets it");
  await t.throwsAsync(repository.get({ id: "a" }), { instanceOf: ObjectNotFoundError });
  t.deepEqual(await repository.get({ id: "b" }), { id: "b", text: "stays" });
});

test("delete of a missing key resolves undefined", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);

  // Act
  const result = await repository.delete({ id: "never-stored" });

  // Assess
  t.is(result, undefined);
});

test("a delete with onlyIfBelow removes the item only while the attribute is below the value", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  await repository.put({ id: "old", count: 5 });
  await repository.put({ id: "young", count: 15 });
  await repository.put({ id: "uncounted", text: "no count" });
  const onlyIfBelow = { attribute: "count", value: 10 } as const;

  // Act
  const results = {
    old: await repository.delete({ id: "old" }, { onlyIfBelow }),
    young: await repository.delete({ id: "young" }, { onlyIfBelow }),
    uncounted: await repository.delete({ id: "uncounted" }, { onlyIfBelow }),
    missing: await repository.delete({ id: "missing" }, { onlyIfBelow }),
  };

  // Assess
  t.deepEqual(results, { old: { id: "old", count: 5 }, young: undefined, uncounted: undefined, missing: undefined });
  await t.throwsAsync(repository.get({ id: "old" }), { instanceOf: ObjectNotFoundError });
  t.deepEqual(await repository.get({ id: "young" }), { id: "young", count: 15 });
  t.deepEqual(await repository.get({ id: "uncounted" }), { id: "uncounted", text: "no count" });
});

test("a table with hash and range keys stores, reads and deletes by the full key", async (t) => {
  // Prepare
  const tableName = await createTable(t.context.client, { hash: "room", range: { name: "sentAt", type: "N" } });
  const repository = new DynamoDBRepository<Message>({
    client: t.context.client,
    tableName,
    keyAttributes: ["room", "sentAt"],
  });
  await repository.put({ room: "lobby", sentAt: 1, text: "first" });
  await repository.put({ room: "lobby", sentAt: 2, text: "second" });

  // Act
  const first = await repository.get({ room: "lobby", sentAt: 1 });
  const second = await repository.get({ room: "lobby", sentAt: 2 });
  const duplicate = await t.throwsAsync(
    repository.put({ room: "lobby", sentAt: 2, text: "again" }, { overwrite: false }),
    {
      instanceOf: ObjectExistsError,
    },
  );
  await repository.delete({ room: "lobby", sentAt: 1 });

  // Assess
  t.deepEqual(first, { room: "lobby", sentAt: 1, text: "first" });
  t.deepEqual(second, { room: "lobby", sentAt: 2, text: "second" });
  t.deepEqual(duplicate?.key, { room: "lobby", sentAt: 2 });
  await t.throwsAsync(repository.get({ room: "lobby", sentAt: 1 }), { instanceOf: ObjectNotFoundError });
  t.deepEqual(await repository.get({ room: "lobby", sentAt: 2 }), { room: "lobby", sentAt: 2, text: "second" });
});

test("get or delete without the range key of a hash and range table is a RepositoryError naming the operation", async (t) => {
  // Prepare
  const tableName = await createTable(t.context.client, { hash: "room", range: { name: "sentAt", type: "N" } });
  const repository = new DynamoDBRepository<Message>({
    client: t.context.client,
    tableName,
    keyAttributes: ["room", "sentAt"],
  });

  // Act
  const getError = await t.throwsAsync(repository.get({ room: "lobby" } as Key), { instanceOf: RepositoryError });
  const deleteError = await t.throwsAsync(repository.delete({ room: "lobby" } as Key), { instanceOf: RepositoryError });

  // Assess
  t.false(getError instanceof ObjectNotFoundError);
  t.is(getError?.table, tableName);
  t.is(getError?.operation, "get");
  t.true(getError?.message.includes("sentAt"));
  t.is(deleteError?.table, tableName);
  t.is(deleteError?.operation, "delete");
});

interface Member {
  id: string;
  group: string;
  name: string;
  expiresAt: number;
  secret?: string;
}

/** A table of members with a `byGroup` index (group, id) projecting name and expiresAt only. */
async function memberRepository(client: DynamoDBDocumentClient) {
  const tableName = `test-${randomUUID()}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [
        { AttributeName: "id", AttributeType: "S" },
        { AttributeName: "group", AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "byGroup",
          KeySchema: [
            { AttributeName: "group", KeyType: "HASH" },
            { AttributeName: "id", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["name", "expiresAt"] },
        },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return new DynamoDBRepository<Member>({ client, tableName, keyAttributes: ["id"] });
}

test("query reads one partition of a table in range-key order, ascending or descending, across pages", async (t) => {
  // Prepare
  const tableName = await createTable(t.context.client, { hash: "room", range: { name: "sentAt", type: "N" } });
  const repository = new DynamoDBRepository<Message>({
    client: t.context.client,
    tableName,
    keyAttributes: ["room", "sentAt"],
  });
  for (const sentAt of [5, 1, 4, 2, 3]) await repository.put({ room: "lobby", sentAt, text: `m${sentAt}` });
  await repository.put({ room: "kitchen", sentAt: 3, text: "elsewhere" });
  const partition = { attribute: "room", value: "lobby" };

  // Act
  const ascending = await collect(repository.query({ partition, pageSize: 2, consistent: true }));
  const descending = await collect(repository.query({ partition, descending: true }));

  // Assess
  t.deepEqual(
    ascending.map((page) => page.map((item) => item.sentAt)),
    [[1, 2], [3, 4], [5]],
  );
  t.deepEqual(
    descending.flat().map((item) => item.text),
    ["m5", "m4", "m3", "m2", "m1"],
  );
});

test("query with a range condition: below, above, atLeast and between, and a filter on a number", async (t) => {
  // Prepare
  const tableName = await createTable(t.context.client, { hash: "room", range: { name: "sentAt", type: "N" } });
  const repository = new DynamoDBRepository<Message>({
    client: t.context.client,
    tableName,
    keyAttributes: ["room", "sentAt"],
  });
  for (const sentAt of [1, 2, 3, 4, 5]) await repository.put({ room: "lobby", sentAt, text: `m${sentAt}` });
  const partition = { attribute: "room", value: "lobby" };
  const sentAts = async (options: Omit<Parameters<typeof repository.query>[0], "partition">) =>
    (await collect(repository.query({ partition, ...options }))).flat().map((item) => item.sentAt);

  // Act and assess
  t.deepEqual(await sentAts({ range: { attribute: "sentAt", below: 3 } }), [1, 2]);
  t.deepEqual(await sentAts({ range: { attribute: "sentAt", above: 3 } }), [4, 5]);
  t.deepEqual(await sentAts({ range: { attribute: "sentAt", atLeast: 3 } }), [3, 4, 5]);
  t.deepEqual(await sentAts({ range: { attribute: "sentAt", between: [2, 4] } }), [2, 3, 4]);
  t.deepEqual(
    await sentAts({
      range: { attribute: "sentAt", below: 5 },
      descending: true,
    }),
    [4, 3, 2, 1],
  );
});

test("query of an index reads only its partition and only the projected attributes asked for", async (t) => {
  // Prepare
  const repository = await memberRepository(t.context.client);
  await repository.put({ id: "b", group: "g1", name: "Bea", expiresAt: 100, secret: "not projected" });
  await repository.put({ id: "a", group: "g1", name: "Al", expiresAt: 50 });
  await repository.put({ id: "c", group: "g2", name: "Cy", expiresAt: 100 });

  // Act
  const all = (
    await collect(repository.query({ index: "byGroup", partition: { attribute: "group", value: "g1" } }))
  ).flat();
  const live = await collect(
    repository.query({
      index: "byGroup",
      partition: { attribute: "group", value: "g1" },
      attributes: ["id"],
      above: { attribute: "expiresAt", value: 60 },
    }),
  );

  // Assess
  t.deepEqual(all, [
    { id: "a", group: "g1", name: "Al", expiresAt: 50 },
    { id: "b", group: "g1", name: "Bea", expiresAt: 100 },
  ]);
  t.deepEqual(live.flat(), [{ id: "b" }]);
});

test("a query of an index that does not exist is a RepositoryError naming the operation", async (t) => {
  // Prepare
  const repository = await memberRepository(t.context.client);

  // Act
  const error = await t.throwsAsync(
    collect(repository.query({ index: "byNothing", partition: { attribute: "group", value: "g1" } })),
    { instanceOf: RepositoryError },
  );

  // Assess
  t.is(error?.operation, "query");
  t.regex(error?.message ?? "", /byNothing|index/i);
});

test("scan walks every page and returns each item exactly once", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  const ids = Array.from({ length: 25 }, (_, i) => `item-${String(i).padStart(2, "0")}`);
  await Promise.all(ids.map((id, i) => repository.put({ id, count: i })));

  // Act
  const pages = await collect(repository.scan({ pageSize: 4 }));

  // Assess
  t.true(pages.length >= 7, `expected at least 7 pages, got ${pages.length}`);
  for (const page of pages) t.true(page.length <= 4);
  const seen = pages.flat();
  t.is(seen.length, 25);
  t.deepEqual(seen.map((item) => item.id).sort(), ids);
  for (const item of seen) t.is(item.count, ids.indexOf(item.id));
});

test("scan with attributes returns only those attributes", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);
  await repository.put({ id: "a", text: "hello", count: 1, tags: ["x"] });
  await repository.put({ id: "b", text: "world", count: 2 });

  // Act
  const items = (await collect(repository.scan({ attributes: ["id", "count"] }))).flat();

  // Assess
  t.deepEqual(
    items.sort((a, b) => a.id.localeCompare(b.id)),
    [
      { id: "a", count: 1 },
      { id: "b", count: 2 },
    ],
  );
});

test("scan of an empty table yields no items", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);

  // Act
  const pages = await collect(repository.scan({ pageSize: 4 }));

  // Assess
  t.true(pages.length <= 1);
  t.deepEqual(pages.flat(), []);
});

test("a ValidationException (put without the key attribute) is a RepositoryError with the SDK error as cause", async (t) => {
  // Prepare
  const repository = await itemRepository(t.context.client);

  // Act
  const error = await t.throwsAsync(repository.put({ text: "no key" } as Item), { instanceOf: RepositoryError });

  // Assess
  t.false(error instanceof ObjectExistsError);
  t.is(error?.table, repository.tableName);
  t.is(error?.operation, "put");
  t.is((error?.cause as Error | undefined)?.name, "ValidationException");
  t.true(error?.message.includes(repository.tableName));
  t.true(error?.message.includes("ValidationException"));
});

test("an operation on a missing table is a RepositoryError naming it", async (t) => {
  // Prepare
  const repository = new DynamoDBRepository<Item>({
    client: t.context.client,
    tableName: "no-such-table",
    keyAttributes: ["id"],
  });

  // Act
  const error = await t.throwsAsync(repository.get({ id: "a" }), { instanceOf: RepositoryError });

  // Assess
  t.false(error instanceof ObjectNotFoundError);
  t.is(error?.table, "no-such-table");
  t.is((error?.cause as Error | undefined)?.name, "ResourceNotFoundException");
});

test("the embedded DynamoDB keeps an idle connection open past Node's 5 s keep-alive timeout", async (t) => {
  // A pooled connection the server closes just as a client reuses it fails that request with
  // ECONNRESET; Node's HTTP server closes idle connections after 5 s unless told otherwise.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const post = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const request = http.request(t.context.db.endpoint, { method: "POST", agent }, (response) => {
        response.resume();
        response.once("end", () => resolve(request.socket as net.Socket));
      });
      request.once("error", reject);
      request.end("{}");
    });
  const socket = await post();
  let closedAfterMs: number | undefined;
  const idleSince = performance.now();
  socket.once("close", () => {
    closedAfterMs = performance.now() - idleSince;
  });

  // Nothing may happen here, so the wait is what proves it: the server's timer that would close the
  // socket is due 5 s after the response ended, in this same process, so it fires before this one
  // however busy the machine; the reuse below checks it too.
  await new Promise((resolve) => setTimeout(resolve, 6_000));

  t.is(closedAfterMs, undefined, "the idle connection was not closed");
  t.is(await post(), socket, "the next request reuses it");
});

const unreachable = test.macro({
  async exec(
    t,
    operation: "put" | "get" | "delete" | "scan" | "query",
    act: (repository: DynamoDBRepository<Item>) => Promise<unknown>,
  ) {
    // A minute of retries or waiting on timeouts fails the test instead of passing slowly.
    t.timeout(20_000);

    // Prepare
    const client = createDocumentClient({
      region: REGION,
      endpoint: `http://127.0.0.1:${await closedPort()}`,
      credentials: CREDENTIALS,
    });
    t.teardown(() => client.destroy());
    const repository = new DynamoDBRepository<Item>({ client, tableName: "unreachable-table", keyAttributes: ["id"] });

    // Act
    const error = await t.throwsAsync(act(repository), { instanceOf: RepositoryError });

    // Assess
    t.is(error?.table, "unreachable-table");
    t.is(error?.operation, operation);
    t.true(error?.message.includes("unreachable-table"));
    t.true(error?.message.includes(operation));
    t.true(error?.cause instanceof Error);
  },
  title: (_, operation) => `${operation} against an unreachable endpoint rejects with a RepositoryError`,
});

test(unreachable, "put", (repository) => repository.put({ id: "a" }));
test(unreachable, "get", (repository) => repository.get({ id: "a" }));
test(unreachable, "delete", (repository) => repository.delete({ id: "a" }));
test(unreachable, "scan", (repository) => collect(repository.scan()));
test(unreachable, "query", (repository) => collect(repository.query({ partition: { attribute: "id", value: "a" } })));

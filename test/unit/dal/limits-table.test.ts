/**
 * The limits table against the embedded DynamoDB: token buckets kept as one number updated with
 * conditional writes (at most `burst` at once, then one per interval, however many ask at once),
 * and capped sets. Times are passed in, so nothing here waits for a clock.
 */
import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import anyTest, { type TestFn } from "ava";
import { createDocumentClient } from "../../../dal/dynamodb-client";
import { DynamoDBLimitsStore } from "../../../dal/limits-table";
import { LIMITS_TABLE } from "../../../functions/chat/tables";
import { type EmbeddedDynamoDB, startEmbeddedDynamoDB } from "../../../local/dynamodb/embedded-dynamodb";
import { adminClient, ensureTable } from "../../../local/dynamodb/tables";

const test = anyTest as TestFn<{ db: EmbeddedDynamoDB; store: DynamoDBLimitsStore }>;
const CONFIG = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const NOW = 1_800_000_000_000;
/** 20 every 10 s: a burst of 20, then one every half second. */
const RATE = { burst: 20, intervalMs: 500 };

test.before(async (t) => {
  const db = await startEmbeddedDynamoDB();
  const admin = adminClient({ ...CONFIG, dynamodbEndpoint: db.endpoint });
  await ensureTable(admin, "limits", LIMITS_TABLE);
  admin.destroy();
  // Thirty requests at once queue in the embedded DynamoDB: on a busy machine, more than the 2 s a
  // function waits for AWS's.
  const client = createDocumentClient({ ...CONFIG, endpoint: db.endpoint, requestTimeoutMs: 20_000 });
  t.context = { db, store: new DynamoDBLimitsStore(client, "limits") };
});

test.after.always(async (t) => {
  await t.context.db?.close();
});

test("a bucket admits its burst at once, then refuses, saying how long until the next", async (t) => {
  const key = randomUUID();
  for (let i = 0; i < 20; i++) t.is(await t.context.store.take(key, RATE, NOW), 0, `request ${i + 1}`);
  t.is(await t.context.store.take(key, RATE, NOW), 500);
  t.is(await t.context.store.take(key, RATE, NOW + 200), 300);
});

test("30 requests at once against a burst of 20: exactly 20 pass", async (t) => {
  const key = randomUUID();
  const waits = await Promise.all(Array.from({ length: 30 }, () => t.context.store.take(key, RATE, NOW)));
  t.is(waits.filter((wait) => wait === 0).length, 20);
  t.true(waits.filter((wait) => wait > 0).every((wait) => wait > 0 && wait <= 500));
});

test("the bucket refills one request per interval, never past its burst", async (t) => {
  const key = randomUUID();
  for (let i = 0; i < 20; i++) await t.context.store.take(key, RATE, NOW);
  // Two intervals later: two more, then refused.
  t.is(await t.context.store.take(key, RATE, NOW + 1000), 0);
  t.is(await t.context.store.take(key, RATE, NOW + 1000), 0);
  t.true((await t.context.store.take(key, RATE, NOW + 1000)) > 0);
  // A minute later the bucket is full again: 20, not 120.
  const later = NOW + 61_000;
  const waits = await Promise.all(Array.from({ length: 25 }, () => t.context.store.take(key, RATE, later)));
  t.is(waits.filter((wait) => wait === 0).length, 20);
});

test("a burst across what a fixed window would call its edge cannot double what passes", async (t) => {
  const key = randomUUID();
  // 20 just before a 10 s boundary, then as many as ask just after it.
  const before = await Promise.all(Array.from({ length: 20 }, () => t.context.store.take(key, RATE, NOW + 9_990)));
  const after = await Promise.all(Array.from({ length: 20 }, () => t.context.store.take(key, RATE, NOW + 10_010)));
  t.is(before.filter((wait) => wait === 0).length, 20);
  t.is(after.filter((wait) => wait === 0).length, 0, "a fixed window would have let 20 more through");
});

test("the item expires by TTL once its bucket would be full again", async (t) => {
  const key = randomUUID();
  await t.context.store.take(key, RATE, NOW);
  const client = createDocumentClient({ ...CONFIG, endpoint: t.context.db.endpoint });
  const { Item } = await client.send(new GetCommand({ TableName: "limits", Key: { key } }));
  client.destroy();
  // One request taken: full again 500 ms on; the TTL (seconds) is a minute past the longest a bucket can be in use.
  t.is(Item?.tat, NOW + 500);
  t.is(Item?.expiresAt, Math.ceil((NOW + 19 * 500 + 500) / 1000) + 60);
});

test("a capped set takes members up to its cap, names them when full, and lets removed ones' places go", async (t) => {
  const key = randomUUID();
  for (const id of ["a", "b", "c"]) t.is(await t.context.store.addCapped(key, id, 3, 7200, NOW), undefined);
  t.is(await t.context.store.addCapped(key, "a", 3, 7200, NOW), undefined, "a member already in is no new place");
  t.deepEqual((await t.context.store.addCapped(key, "d", 3, 7200, NOW))?.sort(), ["a", "b", "c"]);
  await t.context.store.remove(key, ["b", "missing"]);
  t.is(await t.context.store.addCapped(key, "d", 3, 7200, NOW), undefined);
  await t.context.store.remove(randomUUID(), ["x"]);
});

test("ten members at once against a cap of four: four get in", async (t) => {
  const key = randomUUID();
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => t.context.store.addCapped(key, `c${i}`, 4, 7200, NOW)),
  );
  t.is(results.filter((full) => full === undefined).length, 4);
});

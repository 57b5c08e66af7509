import { createDocumentClient } from "./dal/dynamodb-client";
import { DynamoDBRepository } from "./dal/dynamodb-repository";
import { startEmbeddedDynamoDB } from "./local/embedded-dynamodb";
import { ensureTable, CONNECTIONS_TABLE, adminClient } from "./local/chat-tables";
import { readFunctionConfig } from "./functions/config";
(async () => {
  const db = await startEmbeddedDynamoDB();
  const config = readFunctionConfig({ TABLE_NAME: "c", MESSAGES_TABLE_NAME: "m", DYNAMODB_ENDPOINT_URL: db.endpoint });
  await ensureTable(adminClient(config), "c", CONNECTIONS_TABLE);
  const client = createDocumentClient({ region: "us-east-1", endpoint: db.endpoint, credentials: config.credentials! });
  const repo = new DynamoDBRepository<any>({ client, tableName: "c", keyAttributes: ["connectionId"] });
  for (let i = 0; i < 1000; i++) await repo.put({ connectionId: `c${i}`, roomKey: `a#dev#lobby#${i % 4}`, connectedAt: 1, expiresAt: 4e9, name: "Some Name" });
  for (const n of [1, 26, 101]) {
    const t0 = performance.now();
    for (let k = 0; k < 50; k++) {
      for await (const page of repo.query({ index: "byRoom", partition: { attribute: "roomKey", value: "a#dev#lobby#0" }, attributes: ["connectionId", "connectedAt"], pageSize: n, above: { attribute: "expiresAt", value: 5 } })) { break; }
    }
    console.log(`query of ${n}: ${((performance.now() - t0) / 50).toFixed(2)} ms`);
  }
  const t1 = performance.now();
  for (let k = 0; k < 50; k++) await repo.delete({ connectionId: `zz${k}` });
  console.log(`delete: ${((performance.now() - t1) / 50).toFixed(2)} ms`);
  client.destroy(); await db.close();
})().catch((e) => console.error(e));

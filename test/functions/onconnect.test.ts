import test from "ava";
import { RepositoryError } from "../../dal/errors";
import { createConnectHandler } from "../../functions/onconnect";
import { stubRepository, webSocketEvent } from "./fixtures";

const NOW = 1_700_000_123_999;

test("stores the connection with its id, API and stage, connect time, identity and expiry, and answers 200", async (t) => {
  // Prepare
  const connections = stubRepository();
  const handler = createConnectHandler({ connections, config: { connectionTtlSeconds: 7200 }, now: () => NOW });
  const event = webSocketEvent("CONNECT");

  // Act
  const result = await handler(event);

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.is(connections.put.callCount, 1);
  t.deepEqual(connections.put.firstCall.args[0], {
    connectionId: "BFHPhfCWIAMCKlQ=",
    apiId: "abc123defg",
    stage: "dev",
    connectedAt: 1_700_000_000_123,
    sourceIp: "198.51.100.7",
    userAgent: "Mozilla/5.0 (test)",
    expiresAt: 1_700_000_123 + 7200,
  });
});

test("the expiry is whole seconds from the clock plus the configured TTL", async (t) => {
  // Prepare
  const connections = stubRepository();
  const handler = createConnectHandler({ connections, config: { connectionTtlSeconds: 60 }, now: () => 5_999 });

  // Act
  await handler(webSocketEvent("CONNECT"));

  // Assess
  t.is(connections.put.firstCall.args[0].expiresAt, 65);
});

test("a client without a user agent is stored without one", async (t) => {
  // Prepare
  const connections = stubRepository();
  const handler = createConnectHandler({ connections, config: { connectionTtlSeconds: 7200 }, now: () => NOW });
  const event = webSocketEvent("CONNECT", { requestContext: { identity: { sourceIp: "192.0.2.1" } } });

  // Act
  await handler(event);

  // Assess
  const stored = connections.put.firstCall.args[0];
  t.is(stored.sourceIp, "192.0.2.1");
  t.is(stored.userAgent, undefined);
});

test("a repository failure rejects, so API Gateway refuses the handshake", async (t) => {
  // Prepare
  const connections = stubRepository();
  const failure = new RepositoryError("DynamoDB put on table connections failed", "connections", "put");
  connections.put.rejects(failure);
  const handler = createConnectHandler({ connections, config: { connectionTtlSeconds: 7200 }, now: () => NOW });

  // Act
  const error = await t.throwsAsync(handler(webSocketEvent("CONNECT")));

  // Assess
  t.is(error, failure);
});

test("with an authorizer, the verified user and name are stored with the connection", async (t) => {
  // Prepare
  const connections = stubRepository();
  const handler = createConnectHandler({ connections, config: { connectionTtlSeconds: 7200 }, now: () => NOW });
  const authorizer = { principalId: "guest-1", userId: "guest-1", name: "Ada", integrationLatency: 12 };

  // Act
  await handler(webSocketEvent("CONNECT", { requestContext: { authorizer } }));

  // Assess
  t.like(connections.put.firstCall.args[0], { userId: "guest-1", name: "Ada" });
  t.false("principalId" in connections.put.firstCall.args[0]);
});

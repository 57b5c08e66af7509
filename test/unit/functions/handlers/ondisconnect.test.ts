import test from "ava";
import { RepositoryError } from "../../../../dal/errors";
import { createDisconnectHandler } from "../../../../functions/handlers/ondisconnect";
import {
  connection,
  postedFrames,
  roomPages,
  stubRoomDependencies,
  webSocketEvent,
} from "../../../support/function-fixtures";

const NOW = 1_700_000_123_999;

const disconnectEvent = (connectionId: string) =>
  webSocketEvent("DISCONNECT", {
    requestContext: { connectionId, disconnectStatusCode: 1001, disconnectReason: "Going away" },
  });

test("deletes the connection by its id, tells its room it left, and answers 200", async (t) => {
  // Prepare
  const deps = stubRoomDependencies(NOW);
  const handler = createDisconnectHandler(deps);
  deps.connections.delete.resolves({ ...connection("Zx9/abc+def=", "kitchen"), name: "Ada" });
  roomPages(deps.connections, [[connection("conn-b", "kitchen")]], "kitchen");

  // Act
  const result = await handler(disconnectEvent("Zx9/abc+def="));

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.deepEqual(
    deps.connections.delete.getCalls().map((call) => call.args),
    [[{ connectionId: "Zx9/abc+def=" }]],
  );
  t.deepEqual(postedFrames(deps.manager), [
    {
      to: "conn-b",
      frame: {
        type: "presence",
        event: "leave",
        room: "kitchen",
        connectionId: "Zx9/abc+def=",
        name: "Ada",
        at: new Date(NOW).toISOString(),
      },
    },
  ]);
});

test("a connection already removed (by a post that found it gone) is not announced twice", async (t) => {
  // Prepare
  const deps = stubRoomDependencies(NOW);
  const handler = createDisconnectHandler(deps);
  roomPages(deps.connections, [[connection("conn-b")]]);

  // Act
  const result = await handler(disconnectEvent("Zx9/abc+def="));

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.is(deps.connections.query.callCount, 0);
  t.is(deps.manager.post.callCount, 0);
});

test("a connection that joined quietly (a large room) leaves quietly, reading nothing", async (t) => {
  // Prepare
  const deps = stubRoomDependencies(NOW);
  const handler = createDisconnectHandler(deps);
  deps.connections.delete.resolves({ ...connection("Zx9/abc+def=", "kitchen"), quiet: true });
  roomPages(deps.connections, [[connection("conn-b", "kitchen")]], "kitchen");

  // Act
  const result = await handler(disconnectEvent("Zx9/abc+def="));

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.is(deps.connections.query.callCount, 0);
  t.is(deps.manager.post.callCount, 0);
});

test("a repository failure rejects", async (t) => {
  // Prepare
  const deps = stubRoomDependencies(NOW);
  const failure = new RepositoryError("DynamoDB delete on table connections failed", "connections", "delete");
  deps.connections.delete.rejects(failure);
  const handler = createDisconnectHandler(deps);

  // Act
  const error = await t.throwsAsync(handler(webSocketEvent("DISCONNECT")));

  // Assess
  t.is(error, failure);
});

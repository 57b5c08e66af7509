import test from "ava";
import { RepositoryError } from "../../../../dal/errors";
import { createDisconnectHandler } from "../../../../functions/handlers/ondisconnect";
import {
  connection,
  pagesOf,
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

test("a connection in three rooms leaves each: its memberships deleted, each room told once", async (t) => {
  // Prepare
  const deps = stubRoomDependencies(NOW);
  const handler = createDisconnectHandler(deps);
  const { roomKey: _legacy, ...row } = connection("Zx9/abc+def=", "kitchen");
  deps.connections.delete.callsFake(async (key) => {
    const id = String(key.connectionId);
    if (id === "Zx9/abc+def=") return { ...row, name: "Ada", rooms: new Set(["kitchen", "garden", "attic"]) };
    const room = id.split("#")[1] as string;
    const membership = { ...connection(id, room), roomKey: `abc123defg#dev#${room}#0`, name: "Ada" };
    return room === "attic" ? { ...membership, quiet: true as const } : membership;
  });
  const listeners = new Map([
    ["kitchen", "k1"],
    ["garden", "g1"],
    ["attic", "a1"],
  ]);
  deps.connections.query.callsFake((options) => {
    const [, , room, shard] = String(options.partition.value).split("#");
    return pagesOf(shard === "0" ? [connection(listeners.get(room as string) as string, room)] : []);
  });

  // Act
  await handler(disconnectEvent("Zx9/abc+def="));

  // Assess
  t.deepEqual(
    deps.connections.delete
      .getCalls()
      .map((call) => String(call.args[0].connectionId))
      .sort(),
    ["Zx9/abc+def=", "Zx9/abc+def=#attic", "Zx9/abc+def=#garden", "Zx9/abc+def=#kitchen"],
  );
  // The attic was joined quietly: it is left quietly.
  t.deepEqual(
    postedFrames(deps.manager)
      .map(({ to, frame }) => `${to} ${frame.event} ${frame.room} ${frame.connectionId}`)
      .sort(),
    ["g1 leave garden Zx9/abc+def=", "k1 leave kitchen Zx9/abc+def="],
  );
});

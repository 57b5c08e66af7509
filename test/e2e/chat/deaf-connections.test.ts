/**
 * A broadcast that runs while a client's `$connect` is still pending gets 410 for that client, as
 * API Gateway answers until a connection is established
 * (https://repost.aws/knowledge-center/410-gone-api-gateway: "A message was posted to the
 * WebSocket API before the connection was established"). Deleting its row then would leave the
 * client open, healthy-looking and deaf for good; a row is removed on 410 only once the connection
 * cannot still be connecting (API Gateway's 29 s integration timeout bounds `$connect`).
 */
import test from "ava";
import { roomShardKey, shardOf } from "../../../functions/chat/room";
import { ConnectionGoneError, type ConnectionManager } from "../../../functions/runtime/connection-manager";
import { createHandlerDependencies } from "../../../functions/runtime/handler-dependencies";
import { chatGateway, messagesAt, operatorConfig, say, whoAmI } from "../../support/chat";
import { deferred } from "../../support/function-fixtures";
import { connect, eventually } from "../../support/websocket";

test("a broadcast during a pending $connect neither reaches nor forgets the connecting client: it gets every later message", async (t) => {
  // Prepare: $connect of the second client stores its membership in the lobby and its row, then
  // waits until the test lets it go.
  const holdNextConnect = { armed: false, stored: deferred(), release: deferred() };
  const goneAnswers: string[] = [];
  const gw = await chatGateway({
    createDependencies: (config) => {
      const deps = createHandlerDependencies(config);
      return {
        ...deps,
        connections: {
          ...deps.connections,
          put: async (item, options) => {
            const stored = await deps.connections.put(item, options);
            if (holdNextConnect.armed) {
              holdNextConnect.armed = false;
              holdNextConnect.stored.resolve();
              await holdNextConnect.release.promise;
            }
            return stored;
          },
          delete: (key, options) => deps.connections.delete(key, options),
          get: (key) => deps.connections.get(key),
          update: (key, update) => deps.connections.update(key, update),
          scan: (options) => deps.connections.scan(options),
          query: (options) => deps.connections.query(options),
          queryPage: (options) => deps.connections.queryPage(options),
        },
        managementApi: (endpoint): ConnectionManager => {
          const real = deps.managementApi(endpoint);
          return {
            post: (connectionId, data) =>
              real.post(connectionId, data).catch((error: unknown) => {
                if (error instanceof ConnectionGoneError) goneAnswers.push(connectionId);
                throw error;
              }),
            disconnect: (connectionId) => real.disconnect(connectionId),
          };
        },
      };
    },
  });
  t.teardown(async () => {
    gw.table.close();
    await gw.close();
  });
  const ada = await connect(gw.url);
  const adaId = await whoAmI(ada);
  holdNextConnect.armed = true;
  const bobConnecting = connect(gw.url);
  await holdNextConnect.stored.promise;
  const [pendingRow] = (await gw.table.rows()).filter((row) => row.connectionId !== adaId);
  const bobId = pendingRow?.connectionId as string;

  // Act: a broadcast while bob's handshake is pending, then bob's $connect returns.
  say(ada, "while bob connects");
  await eventually(() => messagesAt(ada).length === 1);
  await eventually(() => gw.log.some((line) => line.includes(`sendmessage connection=${adaId} status=200`)));
  holdNextConnect.release.resolve();
  const bob = await bobConnecting;
  t.is(await whoAmI(bob), bobId);
  say(ada, "after bob joined");

  // Assess
  await eventually(() => messagesAt(bob).length === 1);
  t.deepEqual(goneAnswers, [bobId], "the post during bob's $connect answered 410, as API Gateway's does");
  t.deepEqual(
    messagesAt(bob).map((m) => m.data),
    ["after bob joined"],
  );
  t.deepEqual(
    (await gw.table.rows()).map((row) => row.connectionId).sort(),
    [adaId, bobId].sort(),
    "bob's row survived the 410",
  );
});

test("a row whose connection is gone and older than the connecting window is removed by the next broadcast", async (t) => {
  // Prepare: rows a vanished client left (no $disconnect ran), one old, one just written.
  const gw = await chatGateway();
  t.teardown(async () => {
    gw.table.close();
    await gw.close();
  });
  const ada = await connect(gw.url);
  const adaId = await whoAmI(ada);
  const { connections } = createHandlerDependencies(operatorConfig(gw));
  const row = (connectionId: string) => ({
    connectionId,
    apiId: gw.apiId,
    stage: "dev",
    room: "lobby",
    // Where `$connect` would have put it: the lobby's shard for its id.
    roomKey: roomShardKey({ apiId: gw.apiId, stage: "dev", room: "lobby" }, shardOf(connectionId)),
    sourceIp: "127.0.0.1",
    expiresAt: 4_000_000_000,
  });
  await connections.put({ ...row("VANISHEDaLongAgo="), connectedAt: Date.now() - 60_000 });
  await connections.put({ ...row("VANISHEDjustNow0="), connectedAt: Date.now() });

  // Act
  say(ada, "anyone there?");
  await eventually(() => gw.log.some((line) => line.includes(`sendmessage connection=${adaId} status=200`)));

  // Assess
  t.deepEqual(
    (await gw.table.rows()).map((r) => r.connectionId).sort(),
    [adaId, "VANISHEDjustNow0="].sort(),
    "the old row is gone; the young one may still be connecting and stays (TTL or a later broadcast removes it)",
  );
});

import test from "ava";
import { RepositoryError } from "../../dal/errors";
import { createDisconnectHandler } from "../../functions/ondisconnect";
import { stubRepository, webSocketEvent } from "./fixtures";

test("deletes the connection by its id and answers 200", async (t) => {
  // Prepare
  const connections = stubRepository();
  const handler = createDisconnectHandler({ connections });
  const event = webSocketEvent("DISCONNECT", {
    requestContext: { connectionId: "Zx9/abc+def=", disconnectStatusCode: 1001, disconnectReason: "Going away" },
  });

  // Act
  const result = await handler(event);

  // Assess
  t.deepEqual(result, { statusCode: 200 });
  t.is(connections.delete.callCount, 1);
  t.deepEqual(connections.delete.firstCall.args[0], { connectionId: "Zx9/abc+def=" });
  t.is(connections.put.callCount, 0);
  t.is(connections.scan.callCount, 0);
});

test("a repository failure rejects", async (t) => {
  // Prepare
  const connections = stubRepository();
  const failure = new RepositoryError("DynamoDB delete on table connections failed", "connections", "delete");
  connections.delete.rejects(failure);
  const handler = createDisconnectHandler({ connections });

  // Act
  const error = await t.throwsAsync(handler(webSocketEvent("DISCONNECT")));

  // Assess
  t.is(error, failure);
});

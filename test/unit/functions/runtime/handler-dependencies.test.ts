import test from "ava";
import { DynamoDBRepository } from "../../../../dal/dynamodb-repository";
import { ApiGatewayConnectionManager } from "../../../../functions/runtime/api-gateway-connection-manager";
import { readFunctionConfig } from "../../../../functions/runtime/function-config";
import { createHandlerDependencies } from "../../../../functions/runtime/handler-dependencies";

const config = readFunctionConfig({
  TABLE_NAME: "connections",
  MESSAGES_TABLE_NAME: "messages",
  DYNAMODB_ENDPOINT_URL: "http://127.0.0.1:1",
});

test("builds a repository over the configured table and passes the config through", (t) => {
  // Act
  const deps = createHandlerDependencies(config);

  // Assess
  t.is(deps.config, config);
  t.true(deps.connections instanceof DynamoDBRepository);
  t.is((deps.connections as DynamoDBRepository<object>).tableName, "connections");
  t.is(deps.now, Date.now);
});

test("managementApi builds one connection manager per endpoint and reuses it", (t) => {
  // Prepare
  const deps = createHandlerDependencies(config);

  // Act
  const first = deps.managementApi("http://127.0.0.1:3001/dev");
  const again = deps.managementApi("http://127.0.0.1:3001/dev");
  const other = deps.managementApi("http://127.0.0.1:3001/prod");

  // Assess
  t.true(first instanceof ApiGatewayConnectionManager);
  t.is(again, first);
  t.not(other, first);
});

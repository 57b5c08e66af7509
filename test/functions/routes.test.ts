import test from "ava";
import { readFunctionConfig } from "../../functions/config";
import { createHandlerDependencies } from "../../functions/dependencies";
import { ROUTE_SELECTION_EXPRESSION, routes } from "../../functions/routes";

test("every route key appears once, and the three chat routes are there", (t) => {
  // Act
  const keys = routes.map((route) => route.routeKey);

  // Assess
  t.is(new Set(keys).size, keys.length);
  t.deepEqual([...keys].sort(), ["$connect", "$disconnect", "sendmessage"]);
});

test("every route name appears once and is usable in a resource name", (t) => {
  // Act
  const names = routes.map((route) => route.name);

  // Assess
  t.is(new Set(names).size, names.length);
  for (const name of names) t.regex(name, /^[A-Za-z0-9-]+$/);
});

test("only sendmessage manages connections, and its table actions cover scan and delete", (t) => {
  // Act
  const sendmessage = routes.find((route) => route.routeKey === "sendmessage");

  // Assess
  t.deepEqual(
    routes.filter((route) => route.manageConnections).map((route) => route.routeKey),
    ["sendmessage"],
  );
  t.deepEqual([...(sendmessage?.tableActions ?? [])].sort(), ["dynamodb:DeleteItem", "dynamodb:Scan"]);
  t.deepEqual(routes.find((route) => route.routeKey === "$connect")?.tableActions, ["dynamodb:PutItem"]);
  t.deepEqual(routes.find((route) => route.routeKey === "$disconnect")?.tableActions, ["dynamodb:DeleteItem"]);
});

test("createHandler returns a handler for dependencies built from a local config", (t) => {
  // Prepare: building the dependencies makes SDK clients but no network call.
  const deps = createHandlerDependencies(
    readFunctionConfig({ TABLE_NAME: "connections", DYNAMODB_ENDPOINT_URL: "http://127.0.0.1:1" }),
  );

  // Act
  const handlers = routes.map((route) => route.createHandler(deps));

  // Assess
  t.is(handlers.length, routes.length);
  for (const handler of handlers) t.is(typeof handler, "function");
});

test("the route selection expression reads the action field", (t) => {
  t.is(ROUTE_SELECTION_EXPRESSION, "$request.body.action");
});

import test from "ava";
import { ROUTE_SELECTION_EXPRESSION, routes } from "../../../functions/routes";
import { readFunctionConfig } from "../../../functions/runtime/function-config";
import { createHandlerDependencies } from "../../../functions/runtime/handler-dependencies";

test("every route key appears once, and the chat's ten routes are there", (t) => {
  // Act
  const keys = routes.map((route) => route.routeKey);

  // Assess
  t.is(new Set(keys).size, keys.length);
  t.deepEqual([...keys].sort(), [
    "$connect",
    "$disconnect",
    "delete",
    "edit",
    "history",
    "join",
    "leave",
    "sendmessage",
    "typing",
    "who",
  ]);
});

test("every route a client can call takes from a budget; $disconnect, which API Gateway calls, alone has none", (t) => {
  for (const route of routes) {
    if (route.routeKey === "$disconnect") t.is(route.rateLimit, "none");
    else t.not(route.rateLimit, "none", route.routeKey);
    if (route.rateLimit !== "none") t.deepEqual(route.tableActions.limits, ["dynamodb:UpdateItem", "dynamodb:GetItem"]);
  }
});

test("every route name appears once and is usable in a resource name", (t) => {
  // Act
  const names = routes.map((route) => route.name);

  // Assess
  t.is(new Set(names).size, names.length);
  for (const name of names) t.regex(name, /^[A-Za-z0-9-]+$/);
});

test("the routes that post (messages, notices, changes) manage connections; all but typing answer as two-way routes", (t) => {
  // Act
  const posting = routes.filter((route) => route.manageConnections).map((route) => route.routeKey);
  const twoWay = routes.filter((route) => route.routeResponse).map((route) => route.routeKey);

  // Assess
  t.deepEqual(posting, ["$connect", "$disconnect", "sendmessage", "join", "leave", "typing", "edit", "delete"]);
  t.deepEqual(twoWay, ["sendmessage", "who", "history", "join", "leave", "edit", "delete"]);
});

test("no route scans a table: rooms are read by Query on their keys", (t) => {
  for (const route of routes) {
    for (const actions of Object.values(route.tableActions)) t.false(actions.includes("dynamodb:Scan" as never));
  }
  t.deepEqual(
    routes.filter((route) => route.tableActions.roomIndex).map((route) => route.routeKey),
    ["$connect", "$disconnect", "sendmessage", "who", "join", "leave", "typing", "edit", "delete"],
  );
});

test("createHandler returns a handler for dependencies built from a local config", (t) => {
  // Prepare: building the dependencies makes SDK clients but no network call.
  const deps = createHandlerDependencies(
    readFunctionConfig({
      TABLE_NAME: "connections",
      MESSAGES_TABLE_NAME: "messages",
      DYNAMODB_ENDPOINT_URL: "http://127.0.0.1:1",
    }),
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

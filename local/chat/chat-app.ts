/**
 * The chat's route table (`functions/routes.ts`) as one more source of a WebSocket app, served by
 * the same path as a SAM template's or a `serverless.yml`'s (`../serve-websocket-app.ts`): each
 * route an in-process function whose execution environments build its handler with the
 * dependencies Lambda's would have (the function's own role's clients), behind the sign-in's
 * `$connect` authorizer and the stack's throttling.
 */

import type { RouteDefinition } from "../../functions/routes";
import type { HandlerDependencies } from "../../functions/runtime/handler-dependencies";
import type { EnvironmentState, Handler } from "../lambda/execution-environments";
import type { AppAuthorizer, WebSocketApp } from "../websocket-app";

interface ChatAppOptions {
  stage: string;
  routeSelectionExpression: string;
  routes: readonly RouteDefinition[];
  /** The dependencies of one execution environment of the function `name`. */
  dependencies: (name: string, state: EnvironmentState) => HandlerDependencies;
  authorizer?: AppAuthorizer;
  throttling?: { burstLimit: number; rateLimit: number };
}

export function chatApp(options: ChatAppOptions): WebSocketApp {
  return {
    source: "functions/routes.ts",
    stage: options.stage,
    routeSelectionExpression: options.routeSelectionExpression,
    routes: options.routes.map((route) => ({
      routeKey: route.routeKey,
      routeResponse: route.routeResponse ?? false,
      function: {
        kind: "in-process",
        name: route.name,
        init: (state) => route.createHandler(options.dependencies(route.name, state)) as Handler<never, unknown>,
      },
    })),
    ...(options.authorizer && { authorizer: options.authorizer }),
    ...(options.throttling && { throttling: options.throttling }),
    // Created and kept by the gateway's table upkeep (leases, TTL), not per app.
    tables: [],
    unmapped: [],
  };
}

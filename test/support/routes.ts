import type { RouteDefinition } from "../../functions/routes";
import type { WebSocketEvent, WebSocketResult } from "../../functions/runtime/lambda-events";

export type Behaviour = (event: WebSocketEvent) => Promise<WebSocketResult>;

/** A route whose handler records its events and does what `behaviour` says (default: 200). */
export function recordingRoute(
  routeKey: string,
  events: WebSocketEvent[],
  behaviour?: Behaviour,
  extra: Partial<RouteDefinition> = {},
): RouteDefinition {
  return {
    routeKey,
    name: routeKey.replace("$", "") || "default",
    tableActions: {},
    manageConnections: false,
    rateLimit: "none",
    createHandler: () => async (event) => {
      events.push(event);
      return behaviour ? behaviour(event) : { statusCode: 200 };
    },
    ...extra,
  };
}

/**
 * API Gateway's route selection for WebSocket messages: evaluate the API's
 * `routeSelectionExpression` (`$request.body.<path>`) against the JSON frame; a frame that is not
 * JSON, lacks the property, or names no route goes to `$default`; without `$default` there is no
 * route. https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
 */

export type RouteSelector = (body: string | undefined) => string | undefined;

/** A selector over `routeKeys` for `expression`; throws on an expression API Gateway would refuse. */
export function createRouteSelector(expression: string, routeKeys: Iterable<string>): RouteSelector {
  const match = /^\$request\.body\.([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)$/.exec(expression);
  if (!match) {
    throw new Error(
      `Unsupported route selection expression ${JSON.stringify(expression)}: use $request.body.<property>`,
    );
  }
  const path = (match[1] as string).split(".");
  const keys = new Set(routeKeys);
  const fallback = keys.has("$default") ? "$default" : undefined;

  return (body) => {
    if (body === undefined) return fallback;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return fallback;
    }
    for (const segment of path) {
      if (typeof value !== "object" || value === null) return fallback;
      value = (value as Record<string, unknown>)[segment];
    }
    if (typeof value !== "string" || value.startsWith("$") || !keys.has(value)) return fallback;
    return value;
  };
}

/**
 * The API's routes bound to their handlers, and what API Gateway does with a message: select the
 * route, invoke its integration, answer the client with an error frame when there is no route or
 * the integration failed, and send a two-way route's response back. Writes one execution-log line
 * per invocation. https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
 *
 * A function's result must be a Lambda proxy result: an object of `statusCode`, `headers`,
 * `multiValueHeaders`, `body` (a string) and `isBase64Encoded`, nothing else (developer guide,
 * "Output format of a Lambda function for proxy integration"). Anything else fails the integration
 * as API Gateway's "Malformed Lambda proxy response" does: middy #1219 captured a result of
 * `{ConnectionId, Data, statusCode: 200}` answered by the Internal server error frame. No result
 * at all (`null`, a handler that returns nothing) is a 200.
 */

import type { WebSocketEvent, WebSocketResult } from "../../functions/runtime/lambda-events";
import { executionLogLine } from "../execution-log";
import { failureNote, type InvocationOutcome, outcomeStatus } from "../lambda/invoke";
import type { LocalFunction } from "../lambda/lambda-function";
import type { ConnectionRegistry, LiveConnection } from "./connection-registry";
import { type ApiInfo, messageEvent } from "./event-builders";
import { createRouteSelector, type RouteSelector } from "./route-selection";
import { type StageThrottle, THROTTLED_MESSAGE } from "./stage-throttling";

/** A route and the Lambda function its integration invokes (several routes may share one). */
export interface IntegrationRoute {
  routeKey: string;
  /** Two-way route: the function's `body` goes back to the caller as a frame. */
  routeResponse?: boolean;
  function: LocalFunction<WebSocketEvent, WebSocketResult | undefined>;
}

export interface IntegrationOptions {
  api: ApiInfo;
  registry: ConnectionRegistry;
  routes: readonly IntegrationRoute[];
  routeSelectionExpression: string;
  /** The stage's throttling, if any. */
  stageThrottle?: StageThrottle;
  log: (line: string) => void;
  /** Receives every handler run, so a closing server can wait for them. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

export class Integrations {
  private readonly handlers = new Map<string, IntegrationRoute>();
  private readonly selectRoute: RouteSelector;

  constructor(private readonly options: IntegrationOptions) {
    for (const route of options.routes) this.handlers.set(route.routeKey, route);
    this.selectRoute = createRouteSelector(
      options.routeSelectionExpression,
      [...this.handlers.keys()].filter((key) => key !== "$connect" && key !== "$disconnect"),
    );
  }

  /** Runs the route's handler (none: `undefined`) and writes its execution-log line. */
  async invoke(routeKey: string, event: WebSocketEvent): Promise<InvocationOutcome | undefined> {
    const entry = this.handlers.get(routeKey);
    if (!entry) return undefined;
    const invocation = await entry.function.invoke(event, routeKey !== "$disconnect");
    const outcome = proxyOutcome(invocation.outcome);
    const { requestId, connectionId } = event.requestContext;
    this.options.log(
      executionLogLine({
        requestId,
        what: routeKey,
        connectionId,
        status: outcomeStatus(outcome),
        invocation,
        note: failureNote(outcome),
      }),
    );
    return outcome;
  }

  /** A message from a client: route it, run it, and answer as API Gateway would. */
  async onMessage(connection: LiveConnection, data: Buffer): Promise<void> {
    const body = data.toString("utf8");
    const routeKey = this.selectRoute(body);
    const { api, registry } = this.options;
    const event = messageEvent(api, connection, routeKey ?? "", body, Date.now());
    const { connectionId, requestId } = event.requestContext;
    const reply = (message: string) =>
      registry.send(connection, Buffer.from(errorFrame(message, connectionId, requestId)));
    if (!routeKey) {
      this.options.log(executionLogLine({ requestId, what: "no route matched", connectionId, status: 403 }));
      reply("Forbidden");
      return;
    }
    if (this.options.stageThrottle && !this.options.stageThrottle.take(routeKey)) {
      this.options.log(
        executionLogLine({ requestId, what: routeKey, connectionId, status: 429, note: "throttled by the stage" }),
      );
      reply(THROTTLED_MESSAGE);
      return;
    }
    const outcome = await this.invoke(routeKey, event);
    if (!outcome || !registry.get(connectionId)) return;
    if (outcome.kind !== "result") {
      reply(outcome.kind === "integration-timeout" ? "Endpoint request timed out" : "Internal server error");
      return;
    }
    const { result } = outcome;
    if (this.handlers.get(routeKey)?.routeResponse && result.body !== undefined) {
      registry.send(connection, Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8"));
    }
  }
}

const PROXY_RESULT_KEYS = new Set(["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"]);

/** Why `result` is not a Lambda proxy result API Gateway can read, if it is not. */
function malformed(result: unknown): string | undefined {
  if (typeof result !== "object" || Array.isArray(result)) return "not an object";
  const fields = result as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !PROXY_RESULT_KEYS.has(key));
  if (unknown.length > 0) return `unexpected ${unknown.join(", ")}`;
  if (fields.body !== undefined && fields.body !== null && typeof fields.body !== "string") return "body not a string";
  return undefined;
}

/** The invocation's outcome as API Gateway reads it: no result is a 200, a malformed one a failure. */
function proxyOutcome(outcome: InvocationOutcome<WebSocketResult | undefined>): InvocationOutcome {
  if (outcome.kind !== "result") return outcome;
  const { result } = outcome;
  if (result === undefined || result === null) return { kind: "result", result: { statusCode: 200 } };
  const why = malformed(result);
  return why
    ? { kind: "error", error: new Error(`Malformed Lambda proxy response: ${why}`) }
    : { kind: "result", result };
}

/**
 * API Gateway's own error frame, byte for byte as captured from AWS (a space after the first colon
 * and after each comma, none after the others), so clients that compare strings see the same:
 * `{"message": "Forbidden", "connectionId":"XDmENcnwIE0CFEQ=", "requestId":"XDmGEE2RoE0FRdQ="}`.
 */
function errorFrame(message: string, connectionId: string, requestId: string): string {
  const json = JSON.stringify;
  return `{"message": ${json(message)}, "connectionId":${json(connectionId)}, "requestId":${json(requestId)}}`;
}

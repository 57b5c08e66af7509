/**
 * The API's routes bound to their handlers, and what API Gateway does with a message: select the
 * route, invoke its integration, answer the client with an error frame when there is no route or
 * the integration failed, and send a two-way route's response back. Writes one execution-log line
 * per invocation. https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html
 */

import type { RouteDefinition } from "../../functions/routes";
import type { HandlerDependencies } from "../../functions/runtime/handler-dependencies";
import type { WebSocketEvent, WebSocketResult } from "../../functions/runtime/lambda-events";
import { executionLogLine } from "../execution-log";
import type { ConcurrencyLimit } from "../lambda/concurrency";
import type { EnvironmentState } from "../lambda/execution-environments";
import { failureNote, type InvocationOutcome, outcomeStatus } from "../lambda/invoke";
import { LocalFunction } from "../lambda/lambda-function";
import type { ConnectionRegistry, LiveConnection } from "./connection-registry";
import { type ApiInfo, messageEvent } from "./event-builders";
import { createRouteSelector, type RouteSelector } from "./route-selection";
import { type StageThrottle, THROTTLED_MESSAGE } from "./stage-throttling";

export interface IntegrationOptions {
  api: ApiInfo;
  registry: ConnectionRegistry;
  routes: readonly RouteDefinition[];
  /** The dependencies a new execution environment of a function (by name) is built with. */
  dependencies: (functionName: string, environment: EnvironmentState) => HandlerDependencies;
  routeSelectionExpression: string;
  functionTimeoutMs: number;
  integrationTimeoutMs: number;
  /** The stage's throttling, if any. */
  stageThrottle?: StageThrottle;
  /** The account's concurrent executions, shared by every route's function. */
  concurrency: ConcurrencyLimit;
  log: (line: string) => void;
  /** Receives every handler run, so a closing server can wait for them. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

export class Integrations {
  private readonly handlers = new Map<
    string,
    { route: RouteDefinition; function: LocalFunction<WebSocketEvent, WebSocketResult | undefined> }
  >();
  private readonly selectRoute: RouteSelector;

  constructor(private readonly options: IntegrationOptions) {
    for (const route of options.routes) {
      const handler = new LocalFunction(
        route.name,
        (environment) => route.createHandler(options.dependencies(route.name, environment)),
        {
          functionTimeoutMs: options.functionTimeoutMs,
          callerTimeoutMs: options.integrationTimeoutMs,
          concurrency: options.concurrency,
          track: options.track,
        },
      );
      this.handlers.set(route.routeKey, { route, function: handler });
    }
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
    // A handler that returns nothing: API Gateway takes it as a 200.
    const outcome: InvocationOutcome =
      invocation.outcome.kind === "result"
        ? { kind: "result", result: invocation.outcome.result ?? { statusCode: 200 } }
        : invocation.outcome;
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
    if (this.handlers.get(routeKey)?.route.routeResponse && result.body !== undefined) {
      registry.send(connection, Buffer.from(result.body, result.isBase64Encoded ? "base64" : "utf8"));
    }
  }
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

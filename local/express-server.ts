/**
 * The local API Gateway: an Express + express-ws server that replays API Gateway's WebSocket API
 * (`$connect` in the handshake, route selection, error frames, size and time limits,
 * `$disconnect` however a connection ends) and its `@connections` management API, and runs the
 * handlers of the route table exactly as Lambda would. A library first (`startLocalGateway`), and
 * the command behind `npm run local` (`./cli.ts`) when run directly.
 *
 * Started in named steps: the settings, the tables, the HTTP server, the Lambda runtime (functions,
 * their dependencies, sign-in), the WebSocket API, the HTTP routes.
 */
import { createServer } from "node:http";
import path from "node:path";
import express from "express";
import { bundleClient, CLIENT_MODULE } from "../client/bundle";
import { pageContentSecurityPolicy } from "../functions/auth/page-config";
import { limitedHandler } from "../functions/limits/limited-route";
import { broadcastWorker, routes as defaultRoutes, ROUTE_SELECTION_EXPRESSION } from "../functions/routes";
import { readFunctionConfig } from "../functions/runtime/function-config";
import type { HandlerDependencies } from "../functions/runtime/handler-dependencies";
import { ConnectionRegistry, GOING_AWAY } from "./api-gateway/connection-registry";
import type { ApiInfo } from "./api-gateway/event-builders";
import { newApiId } from "./api-gateway/ids";
import { serveManagementApi } from "./api-gateway/management-routes";
import { StageThrottle } from "./api-gateway/stage-throttling";
import { serveWebSocketApi } from "./api-gateway/websocket-api";
import { localHandlerDependencies } from "./chat/function-dependencies";
import { startLocalAuth } from "./chat/sign-in";
import { startTableUpkeep, type TableUpkeep } from "./chat/table-upkeep";
import { startEmbeddedDynamoDB } from "./dynamodb/embedded-dynamodb";
import { API_GATEWAY_LIMITS, type LocalGateway, type LocalGatewayOptions } from "./gateway-options";
import { AsyncInvocations } from "./lambda/async-invocations";
import { ConcurrencyLimit } from "./lambda/concurrency";
import { LocalFunction } from "./lambda/lambda-function";
import { closeGateway, listen, WorkInFlight } from "./server-lifecycle";

export type { LocalGateway, LocalGatewayLimits, LocalGatewayOptions } from "./gateway-options";
export { API_GATEWAY_LIMITS } from "./gateway-options";

const PAGE_DIR = path.join(__dirname, "..", "page");

/** Starts the gateway; resolves once it listens and the connections table is ready. */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const settings = gatewaySettings(options);
  const embedded = options.dynamodbEndpoint ? undefined : await startEmbeddedDynamoDB();
  const dynamodbEndpoint = options.dynamodbEndpoint ?? (embedded?.endpoint as string);
  const app = express();
  app.disable("x-powered-by");
  const server = createServer(app);
  const work = new WorkInFlight();
  const registry = new ConnectionRegistry(settings.limits);
  let upkeep: TableUpkeep | undefined;
  try {
    const apiId = newApiId();
    const environment = lambdaEnvironment(settings, dynamodbEndpoint);
    // The tables are ready before the port opens: no handshake can arrive before its route can run.
    upkeep = await startTableUpkeep({
      config: readFunctionConfig(environment),
      gatewayId: apiId,
      leaseRenewMs: settings.limits.leaseRenewMs,
      ttlSweepMs: settings.limits.ttlSweepMs,
      // Their rows are gone with the table: closed, they reconnect and are stored again, not deaf.
      closeLostConnections: () => {
        const open = registry.all();
        for (const connection of open) registry.close(connection, GOING_AWAY.code, GOING_AWAY.reason);
        return open.length;
      },
      log: settings.log,
    });
    const port = await listen(server, options.port ?? 8080, settings.host);
    // From here to the routes nothing awaits: the first request finds them all in place.
    const api: ApiInfo = { apiId, stage: settings.stage, domainName: `127.0.0.1:${port}` };
    const managementUrl = `http://${api.domainName}/${settings.stage}`;
    const lambda = startLambda(
      settings,
      api,
      { ...environment, MANAGEMENT_ENDPOINT_URL: managementUrl },
      registry,
      work,
    );
    serveWebSocketApi(app, server, {
      api,
      registry,
      routes: lambda.routes,
      routeSelectionExpression: options.routeSelectionExpression ?? ROUTE_SELECTION_EXPRESSION,
      limits: settings.limits,
      stageThrottle: options.throttling && new StageThrottle(options.throttling),
      authorizer: lambda.auth.authorizer,
      closing: () => work.closing !== undefined,
      log: settings.log,
      track: work.track,
    });
    serveHttpRoutes(app, settings, lambda);
    const tables = upkeep;
    const close = () =>
      closeGateway(server, registry, work, {
        stopNewWork: () => lambda.asyncInvocations.close(),
        whenIdle: () => tables.stop(),
        afterServer: async () => embedded?.close(),
      });
    return {
      url: `ws://${api.domainName}/${settings.stage}`,
      managementUrl,
      port,
      apiId,
      dynamodbEndpoint,
      tableName: settings.tableName,
      messagesTableName: settings.messagesTableName,
      connectionCount: () => registry.size,
      close,
    };
  } catch (error) {
    server.closeAllConnections();
    server.close();
    await upkeep?.stop();
    await embedded?.close();
    throw error;
  }
}

type GatewaySettings = ReturnType<typeof gatewaySettings>;

/** The options with their defaults: AWS's limits, the project's routes and tables. */
function gatewaySettings(options: LocalGatewayOptions) {
  return {
    options,
    stage: options.stage ?? "dev",
    host: options.host ?? "127.0.0.1",
    limits: {
      ...API_GATEWAY_LIMITS,
      // The guard follows a function timeout set by the caller unless set too.
      behindAfterMs: (options.limits?.functionTimeoutMs ?? API_GATEWAY_LIMITS.functionTimeoutMs) / 2,
      ...options.limits,
    },
    // Each route behind its budget, as Lambda runs it in the cloud.
    routes: (options.routes ?? defaultRoutes).map((route) => ({
      ...route,
      createHandler: (deps: HandlerDependencies) => limitedHandler(route, route.createHandler(deps), deps),
    })),
    log: options.log ?? ((line: string) => console.log(line)),
    tableName: options.tableName ?? "websocket-chat-connections",
    messagesTableName: options.messagesTableName ?? "websocket-chat-messages",
    limitsTableName: options.limitsTableName ?? "websocket-chat-limits",
    region: options.region ?? "us-east-1",
  };
}

/** The functions' settings, as Lambda's environment variables hold them. */
function lambdaEnvironment(settings: GatewaySettings, dynamodbEndpoint: string): Record<string, string | undefined> {
  return {
    ...settings.options.functionEnvironment,
    TABLE_NAME: settings.tableName,
    MESSAGES_TABLE_NAME: settings.messagesTableName,
    LIMITS_TABLE_NAME: settings.limitsTableName,
    AWS_REGION: settings.region,
    DYNAMODB_ENDPOINT_URL: dynamodbEndpoint,
    CONNECT_TIMEOUT_MS: String(settings.limits.integrationTimeoutMs),
    ...(settings.routes.some((route) => route.fansOut) && { BROADCAST_FUNCTION_NAME: broadcastWorker.name }),
  };
}

type LambdaRuntime = ReturnType<typeof startLambda>;

/** Lambda: the account's concurrency, the functions' dependencies, the broadcast worker and sign-in. */
function startLambda(
  settings: GatewaySettings,
  api: ApiInfo,
  environment: Record<string, string | undefined>,
  registry: ConnectionRegistry,
  work: WorkInFlight,
) {
  const { options, limits, log, region } = settings;
  const management = {
    registry,
    region,
    maxPayloadBytes: limits.managementMaxPayloadBytes,
    maxClientBufferBytes: limits.maxClientBufferBytes,
    latencyMs: options.managementLatencyMs ?? 0,
  };
  const asyncInvocations = new AsyncInvocations({ log, track: work.track });
  const dependencies = localHandlerDependencies(readFunctionConfig(environment), options, limits.functionTimeoutMs, {
    management,
    lambda: asyncInvocations,
  });
  const concurrency = new ConcurrencyLimit({
    limit: limits.concurrentExecutions,
    behindAfterMs: limits.behindAfterMs || Number.POSITIVE_INFINITY,
    behindAtBusy: 20,
  });
  const functions = {
    functionTimeoutMs: limits.functionTimeoutMs,
    callerTimeoutMs: limits.integrationTimeoutMs,
    concurrency,
    track: work.track,
  };
  const workerDefinition = options.broadcastWorker ?? broadcastWorker;
  const worker = new LocalFunction(
    workerDefinition.name,
    (state) => workerDefinition.createHandler(dependencies(state)),
    functions,
  );
  asyncInvocations.register(workerDefinition.name, worker as LocalFunction<unknown, unknown>, workerDefinition);
  const auth = startLocalAuth(options.auth ?? { mode: "none" }, { api, region, functions, environment, log });
  // Each route's function, its environments' handlers built with the dependencies Lambda's would have.
  const routes = settings.routes.map((route) => ({
    routeKey: route.routeKey,
    routeResponse: route.routeResponse,
    function: new LocalFunction(route.name, (state) => route.createHandler(dependencies(state)), functions),
  }));
  return { management, asyncInvocations, routes, auth };
}

/** HTTP: the `@connections` API under the stage, the token endpoint, the page and its config. */
function serveHttpRoutes(app: express.Express, settings: GatewaySettings, lambda: LambdaRuntime): void {
  const { options, stage, log } = settings;
  serveManagementApi(app, stage, { ...lambda.management, allowRemote: options.allowRemoteManagement ?? false, log });
  if (lambda.auth.tokenRoute) app.use(lambda.auth.tokenRoute);
  if (options.servePage ?? true) {
    const page = lambda.auth.page;
    // The page builds its default WebSocket URL from the stage, ws://{host}/{stage}, and signs in as told.
    app.get("/config.json", (_request, response) => {
      response.json({ stage, ...page });
    });
    // It may connect to this gateway, under the host it was loaded from, and to its issuer's token endpoint.
    const issuer = page.oidc ? [new URL(page.oidc.tokenEndpoint).origin] : [];
    app.use((request, response, next) => {
      // A host and port and nothing else: a Host header cannot write the policy.
      const host = request.headers.host ?? "";
      const own = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(host) ? [`ws://${host}`] : [];
      response.set("content-security-policy", pageContentSecurityPolicy([...own, ...issuer]));
      next();
    });
    // The client library, built from its sources at each request: an edit shows at the next reload.
    app.get(`/${CLIENT_MODULE}`, (_request, response, next) => {
      bundleClient().then((text) => response.type("text/javascript").set("cache-control", "no-cache").send(text), next);
    });
    app.use(express.static(PAGE_DIR));
  }
}

if (require.main === module) {
  // The command line lives apart; required only here, so a library user never loads it.
  require("./cli");
}

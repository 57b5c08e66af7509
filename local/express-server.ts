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
import { broadcastWorker, ROUTE_SELECTION_EXPRESSION } from "../functions/routes";
import { readFunctionConfig } from "../functions/runtime/function-config";
import { ConnectionRegistry, GOING_AWAY } from "./api-gateway/connection-registry";
import type { ApiInfo } from "./api-gateway/event-builders";
import { newApiId } from "./api-gateway/ids";
import { managementOptions } from "./api-gateway/management-routes";
import { chatApp } from "./chat/chat-app";
import { localHandlerDependencies } from "./chat/function-dependencies";
import { chatFunctionRoles } from "./chat/function-roles";
import { startLocalAuth } from "./chat/sign-in";
import { startTableUpkeep, type TableUpkeep } from "./chat/table-upkeep";
import { dynamodbAuthorization } from "./dynamodb/dynamodb-authorization";
import { startEmbeddedDynamoDB } from "./dynamodb/embedded-dynamodb";
import {
  type GatewaySettings,
  gatewaySettings,
  type LocalGateway,
  type LocalGatewayOptions,
  lambdaEnvironment,
} from "./gateway-options";
import { LocalIam } from "./iam/local-iam";
import { LocalKms } from "./kms/kms-signing";
import { AsyncInvocations } from "./lambda/async-invocations";
import { accountConcurrency } from "./lambda/concurrency";
import { LocalFunction } from "./lambda/lambda-function";
import { serveWebSocketApp } from "./serve-websocket-app";
import { closeGateway, listen, WorkInFlight } from "./server-lifecycle";

export type { LocalGateway, LocalGatewayLimits, LocalGatewayOptions } from "./gateway-options";
export { API_GATEWAY_LIMITS } from "./gateway-options";

const PAGE_DIR = path.join(__dirname, "..", "page");

/** Starts the gateway; resolves once it listens and the connections table is ready. */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const settings = gatewaySettings(options);
  // Who may do what: a role per function, and the operator (this gateway's own calls, the user's tools).
  const iam = new LocalIam(settings.region, options.credentials);
  const embedded = options.dynamodbEndpoint
    ? undefined
    : await startEmbeddedDynamoDB({ gate: dynamodbAuthorization(iam, settings.log), log: settings.log });
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
      config: { ...readFunctionConfig(environment), credentials: iam.operator.credentials },
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
      iam,
      { ...environment, MANAGEMENT_ENDPOINT_URL: managementUrl },
      {
        registry,
        work,
      },
    );
    const served = serveWebSocketApp(
      chatApp({
        stage: settings.stage,
        routeSelectionExpression: options.routeSelectionExpression ?? ROUTE_SELECTION_EXPRESSION,
        routes: settings.routes,
        dependencies: lambda.dependencies,
        authorizer: lambda.auth.authorizer,
        throttling: options.throttling,
      }),
      {
        expressApp: app,
        server,
        api,
        region: settings.region,
        registry,
        limits: settings.limits,
        browserGuard: settings.browserGuard,
        concurrency: lambda.concurrency,
        defaultTimeoutMs: settings.limits.functionTimeoutMs,
        reload: false,
        management: { ...lambda.management, allowRemote: options.allowRemoteManagement ?? false },
        work,
        log: settings.log,
      },
    );
    serveHttpRoutes(app, settings, lambda);
    const tables = upkeep;
    const close = () =>
      closeGateway(server, registry, work, {
        stopNewWork: () => lambda.asyncInvocations.close(),
        whenIdle: async () => {
          served.close();
          await tables.stop();
        },
        afterServer: async () => embedded?.close(),
      });
    return {
      url: `ws://${api.domainName}/${settings.stage}`,
      managementUrl,
      port,
      apiId,
      region: settings.region,
      credentials: iam.operator.credentials,
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

type LambdaRuntime = ReturnType<typeof startLambda>;

/** Lambda: the account's concurrency, the functions' dependencies, the broadcast worker and sign-in. */
function startLambda(
  settings: GatewaySettings,
  api: ApiInfo,
  iam: LocalIam,
  environment: Record<string, string | undefined>,
  { registry, work }: { registry: ConnectionRegistry; work: WorkInFlight },
) {
  const { options, limits, log, region } = settings;
  const management = managementOptions({ registry, region, api, iam, limits, log }, options.managementLatencyMs);
  const workerDefinition = options.broadcastWorker ?? broadcastWorker;
  const roles = chatFunctionRoles(
    iam,
    [...settings.routes, workerDefinition],
    {
      region,
      apiId: api.apiId,
      stage: api.stage,
      tableName: settings.tableName,
      messagesTableName: settings.messagesTableName,
      limitsTableName: settings.limitsTableName,
      broadcastWorker: workerDefinition.name,
    },
    options.permissions,
  );
  const asyncInvocations = new AsyncInvocations({ iam, log, track: work.track });
  const dependencies = localHandlerDependencies(readFunctionConfig(environment), options, limits.functionTimeoutMs, {
    credentials: roles.credentials,
    operator: iam.operator.credentials,
    management,
    lambda: asyncInvocations,
  });
  const concurrency = accountConcurrency(limits);
  const functions = {
    functionTimeoutMs: limits.functionTimeoutMs,
    callerTimeoutMs: limits.integrationTimeoutMs,
    concurrency,
    track: work.track,
  };
  const worker = new LocalFunction(
    workerDefinition.name,
    (state) => workerDefinition.createHandler(dependencies(workerDefinition.name, state)),
    functions,
  );
  asyncInvocations.register(workerDefinition.name, worker as LocalFunction<unknown, unknown>, workerDefinition);
  const auth = startLocalAuth(options.auth ?? { mode: "none" }, {
    api,
    region,
    functions,
    environment,
    log,
    kms: new LocalKms({ iam, log }),
    role: roles.role,
    allowedOrigins: settings.browserGuard.allowedOrigins,
  });
  return { management, asyncInvocations, dependencies, concurrency, auth };
}

/** HTTP besides the app's: the token endpoint, the page and its config. */
function serveHttpRoutes(app: express.Express, settings: GatewaySettings, lambda: LambdaRuntime): void {
  const { options, stage } = settings;
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

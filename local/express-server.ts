/**
 * The local API Gateway: an Express + express-ws server that replays API Gateway's WebSocket API
 * (`$connect` in the handshake, route selection, error frames, size and time limits,
 * `$disconnect` however a connection ends) and its `@connections` management API, and runs the
 * handlers of the route table exactly as Lambda would. A library first (`startLocalGateway`), and
 * the command behind `npm run local` (`./cli.ts`) when run directly.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import express from "express";
import expressWs from "express-ws";
import { broadcastWorker, routes as defaultRoutes, ROUTE_SELECTION_EXPRESSION } from "../functions/routes";
import { readFunctionConfig } from "../functions/runtime/function-config";
import { ConnectionRegistry, GOING_AWAY } from "./api-gateway/connection-registry";
import { type ApiInfo, type ConnectionInfo, disconnectEvent } from "./api-gateway/event-builders";
import { handshake } from "./api-gateway/handshake";
import { newApiId } from "./api-gateway/ids";
import { Integrations } from "./api-gateway/integrations";
import { managementRouter } from "./api-gateway/management-api";
import { socketSession } from "./api-gateway/socket-session";
import { StageThrottle } from "./api-gateway/stage-throttling";
import { localHandlerDependencies } from "./chat/function-dependencies";
import { startLocalAuth } from "./chat/sign-in";
import { startTableUpkeep, type TableUpkeep } from "./chat/table-upkeep";
import { startEmbeddedDynamoDB } from "./dynamodb/embedded-dynamodb";
import { API_GATEWAY_LIMITS, type LocalGateway, type LocalGatewayOptions } from "./gateway-options";
import { AsyncInvocations } from "./lambda/async-invocations";
import { ConcurrencyLimit } from "./lambda/concurrency";
import { LocalFunction } from "./lambda/lambda-function";

export type { LocalGateway, LocalGatewayLimits, LocalGatewayOptions } from "./gateway-options";
export { API_GATEWAY_LIMITS } from "./gateway-options";

const PUBLIC_DIR = path.join(__dirname, "..", "page");

/** Starts the gateway; resolves once it listens and the connections table is ready. */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const stage = options.stage ?? "dev";
  const host = options.host ?? "127.0.0.1";
  const limits = {
    ...API_GATEWAY_LIMITS,
    // The guard follows a function timeout set by the caller unless set too.
    behindAfterMs: (options.limits?.functionTimeoutMs ?? API_GATEWAY_LIMITS.functionTimeoutMs) / 2,
    ...options.limits,
  };
  const routeTable = options.routes ?? defaultRoutes;
  const log = options.log ?? ((line: string) => console.log(line));
  const tableName = options.tableName ?? "websocket-chat-connections";
  const messagesTableName = options.messagesTableName ?? "websocket-chat-messages";
  const region = options.region ?? "us-east-1";

  const embedded = options.dynamodbEndpoint ? undefined : await startEmbeddedDynamoDB();
  const dynamodbEndpoint = options.dynamodbEndpoint ?? (embedded?.endpoint as string);

  const app = express();
  app.disable("x-powered-by");
  const server = createServer(app);
  const registry = new ConnectionRegistry(limits);
  const pendingConnects = new WeakMap<IncomingMessage, ConnectionInfo>();
  const inFlight = new Set<Promise<unknown>>();
  let upkeep: TableUpkeep | undefined;
  let closing: Promise<void> | undefined;
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    const done = () => inFlight.delete(work);
    work.then(done, done);
    return work;
  };

  try {
    // The functions' settings, as Lambda's environment variables hold them (the management
    // endpoint once the port is known).
    const lambdaEnvironment = {
      ...options.functionEnvironment,
      TABLE_NAME: tableName,
      MESSAGES_TABLE_NAME: messagesTableName,
      AWS_REGION: region,
      DYNAMODB_ENDPOINT_URL: dynamodbEndpoint,
      CONNECT_TIMEOUT_MS: String(limits.integrationTimeoutMs),
      ...(routeTable.some((route) => route.fansOut) && { BROADCAST_FUNCTION_NAME: broadcastWorker.name }),
    };
    const tableConfig = readFunctionConfig(lambdaEnvironment);
    const gatewayId = newApiId();
    // The table is ready before the port opens: no handshake can arrive before its route can run.
    upkeep = await startTableUpkeep({
      config: tableConfig,
      gatewayId,
      leaseRenewMs: limits.leaseRenewMs,
      ttlSweepMs: limits.ttlSweepMs,
      // Their rows are gone with the table: closed, they reconnect and are stored again, not deaf.
      closeLostConnections: () => {
        const open = registry.all();
        for (const connection of open) registry.close(connection, GOING_AWAY.code, GOING_AWAY.reason);
        return open.length;
      },
      log,
    });
    if (upkeep.removed > 0) log(`removed ${upkeep.removed} connection rows left by gateways no longer running`);

    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 8080, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // From here to the routes nothing awaits: the first request finds them all in place.
    const port = (server.address() as AddressInfo).port;
    const origin = `127.0.0.1:${port}`;
    const api: ApiInfo = { apiId: gatewayId, stage, domainName: origin };
    const managementUrl = `http://${origin}/${stage}`;
    const config = readFunctionConfig({ ...lambdaEnvironment, MANAGEMENT_ENDPOINT_URL: managementUrl });
    const managementOptions = {
      registry,
      region,
      maxPayloadBytes: limits.managementMaxPayloadBytes,
      latencyMs: options.managementLatencyMs ?? 0,
    };
    const asyncInvocations = new AsyncInvocations({ log, track });
    const dependencies = localHandlerDependencies(config, options, limits.functionTimeoutMs, {
      management: managementOptions,
      lambda: asyncInvocations,
    });
    const stageThrottle = options.throttling && new StageThrottle(options.throttling);
    const concurrency = new ConcurrencyLimit({
      limit: limits.concurrentExecutions,
      behindAfterMs: limits.behindAfterMs || Number.POSITIVE_INFINITY,
      behindAtBusy: 20,
    });
    const functions = {
      functionTimeoutMs: limits.functionTimeoutMs,
      callerTimeoutMs: limits.integrationTimeoutMs,
      concurrency,
      track,
    };
    const auth = startLocalAuth(options.auth ?? { mode: "none" }, { api, region, functions, log });
    const workerDefinition = options.broadcastWorker ?? broadcastWorker;
    const worker = new LocalFunction(
      workerDefinition.name,
      (environment) => workerDefinition.createHandler(dependencies(environment)),
      functions,
    );
    asyncInvocations.register(workerDefinition.name, worker as LocalFunction<unknown, unknown>, workerDefinition);
    const integrations = new Integrations({
      api,
      registry,
      routes: routeTable,
      dependencies,
      routeSelectionExpression: options.routeSelectionExpression ?? ROUTE_SELECTION_EXPRESSION,
      functionTimeoutMs: limits.functionTimeoutMs,
      integrationTimeoutMs: limits.integrationTimeoutMs,
      stageThrottle,
      concurrency,
      log,
      track,
    });

    const disconnect = (info: ConnectionInfo, code: number, reason: string) =>
      track(integrations.invoke("$disconnect", disconnectEvent(api, info, code, reason, Date.now())));

    const wsPaths = new Set([`/${stage}`, `/${stage}/`, "/ws", "/ws/"]);
    const { app: wsApp } = expressWs(app, server, {
      wsOptions: {
        maxPayload: limits.maxMessageBytes + 1,
        ...handshake({
          paths: wsPaths,
          api,
          integrations,
          accepted: pendingConnects,
          disconnect: (connection, code, reason) => void disconnect(connection, code, reason),
          stageThrottle,
          authorizer: auth.authorizer,
          closing: () => closing !== undefined,
          track,
          log,
        }),
      },
    });

    const onSocket = socketSession({
      accepted: pendingConnects,
      registry,
      integrations,
      limits,
      disconnect: (connection, code, reason) => void disconnect(connection, code, reason),
      track,
    });
    for (const wsPath of wsPaths) wsApp.ws(wsPath, onSocket);
    app.use(
      `/${stage}`,
      managementRouter({
        ...managementOptions,
        allowRemote: options.allowRemoteManagement ?? false,
        log,
      }),
    );
    if (auth.tokenRoute) app.use(auth.tokenRoute);
    if (options.servePage ?? true) {
      // The page builds its default WebSocket URL from the stage, ws(s)://{host}/{stage}, and signs in as told.
      app.get("/config.json", (_request, response) => {
        response.json({ stage, ...auth.page });
      });
      app.use(express.static(PUBLIC_DIR));
    }

    const close = () => {
      closing ??= (async () => {
        server.close();
        asyncInvocations.close();
        // Handshakes whose $connect is still running are refused when it returns (`closing` below);
        // until none is left, close what is open and wait for what runs.
        while (registry.size > 0 || inFlight.size > 0) {
          await registry.closeAll(GOING_AWAY.code, GOING_AWAY.reason);
          await Promise.allSettled([...inFlight]);
        }
        await upkeep?.stop();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await embedded?.close();
      })();
      return closing;
    };

    return {
      url: `ws://${origin}/${stage}`,
      managementUrl,
      port,
      apiId: api.apiId,
      dynamodbEndpoint,
      tableName,
      messagesTableName,
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

if (require.main === module) {
  // The command line lives apart; required only here, so a library user never loads it.
  require("./cli");
}

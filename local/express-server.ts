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
import type WebSocket from "ws";
import { readFunctionConfig } from "../functions/config";
import { createHandlerDependencies, createManagementApi, type HandlerDependencies } from "../functions/dependencies";
import { routes as defaultRoutes, ROUTE_SELECTION_EXPRESSION } from "../functions/routes";
import { startLocalAuth } from "./auth";
import { ConcurrencyLimit } from "./concurrency";
import { ConnectionRegistry, clientClose, GOING_AWAY } from "./connection-registry";
import { startEmbeddedDynamoDB } from "./embedded-dynamodb";
import { type ApiInfo, type ConnectionInfo, disconnectEvent } from "./events";
import { type EnvironmentState, environmentManagementApi, environmentRepository } from "./execution-environments";
import { FrameGuard } from "./frame-guard";
import { API_GATEWAY_LIMITS, type LocalGateway, type LocalGatewayOptions } from "./gateway-options";
import { handshake } from "./handshake";
import { newApiId } from "./ids";
import { Integrations } from "./integrations";
import { inProcessRequestHandler, managementRouter } from "./management-api";
import { StageThrottle } from "./stage-throttling";
import { startTableUpkeep, type TableUpkeep } from "./table-upkeep";

export type { LocalGateway, LocalGatewayLimits, LocalGatewayOptions } from "./gateway-options";
export { API_GATEWAY_LIMITS } from "./gateway-options";

const PUBLIC_DIR = path.join(__dirname, "public");

/** Starts the gateway; resolves once it listens and the connections table is ready. */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const stage = options.stage ?? "dev";
  const host = options.host ?? "127.0.0.1";
  const limits = {
    ...API_GATEWAY_LIMITS,
    // The guard follows a function timeout set by the caller unless set too.
    behindAfterMs: (options.limits?.functionTimeoutMs ?? API_GATEWAY_LIMITS.functionTimeoutMs) / 5,
    ...options.limits,
  };
  const routeTable = options.routes ?? defaultRoutes;
  const log = options.log ?? ((line: string) => console.log(line));
  const tableName = options.tableName ?? "websocket-chat-connections";
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
      AWS_REGION: region,
      DYNAMODB_ENDPOINT_URL: dynamodbEndpoint,
      CONNECT_TIMEOUT_MS: String(limits.integrationTimeoutMs),
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
    const shared = options.createDependencies
      ? options.createDependencies(config)
      : createHandlerDependencies(config, {
          // DynamoDB on loopback is slow only when this machine is busy (a thousand clients leaving at
          // once): wait as long as the function may run, never less than the SDK defaults, rather
          // than fail and leave rows behind.
          dynamodbTimeouts: {
            connectionTimeoutMs: Math.max(limits.functionTimeoutMs, 1_000),
            requestTimeoutMs: Math.max(limits.functionTimeoutMs, 2_000),
          },
        });
    // Environments share the DynamoDB client (one pool of connections to it) and each gets a
    // management client of its own that reaches this gateway without a socket (outside callers use
    // HTTP); both refuse a stopped environment's calls.
    const dependencies = (environment: EnvironmentState): HandlerDependencies =>
      options.createDependencies
        ? shared
        : {
            ...shared,
            connections: environmentRepository(shared.connections, environment),
            managementApi: environmentManagementApi(
              createManagementApi(config, inProcessRequestHandler(managementOptions, environment)),
              environment,
            ),
          };
    const stageThrottle = options.throttling && new StageThrottle(options.throttling);
    const concurrency = new ConcurrencyLimit({
      limit: limits.concurrentExecutions,
      behindAfterMs: limits.behindAfterMs || Number.POSITIVE_INFINITY,
      behindAtBusy: 20,
    });
    const auth = startLocalAuth(options.auth ?? { mode: "none" }, {
      api,
      region,
      functions: {
        functionTimeoutMs: limits.functionTimeoutMs,
        callerTimeoutMs: limits.integrationTimeoutMs,
        concurrency,
        track,
      },
      log,
    });
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

    const onSocket = (socket: WebSocket, request: IncomingMessage) => {
      const info = pendingConnects.get(request);
      pendingConnects.delete(request);
      if (!info) {
        socket.terminate();
        return;
      }
      const connection = registry.add(info, socket);
      const guard = new FrameGuard(limits.maxFrameBytes, limits.maxMessageBytes);
      request.socket.prependListener("data", (chunk: Buffer) => {
        if (connection.closedBy) return;
        if (guard.push(chunk)) registry.close(connection, 1009, "Message too big");
      });
      socket.on("message", (data: Buffer, isBinary: boolean) => {
        if (connection.closedBy) return;
        // "If a client app sends a binary frame, API Gateway rejects it and disconnects the client
        // with code 1003" (developer guide, binary media types for WebSocket APIs).
        if (isBinary) return registry.close(connection, 1003, "");
        registry.touch(connection);
        void track(integrations.onMessage(connection, data));
      });
      socket.on("error", () => {
        // A protocol error (bad UTF-8, bad frame): ws closes the socket and "close" follows.
      });
      socket.on("close", (code: number, reason: Buffer) => {
        registry.remove(connection);
        const ended = connection.closedBy ?? clientClose(code, reason.toString());
        void disconnect(connection, ended.code, ended.reason);
      });
    };

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

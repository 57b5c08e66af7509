/**
 * The local API Gateway: an Express + express-ws server that replays API Gateway's WebSocket API
 * (`$connect` in the handshake, route selection, error frames, size and time limits,
 * `$disconnect` however a connection ends) and its `@connections` management API, and runs the
 * handlers of the route table exactly as Lambda would. A library first (`startLocalGateway`), and
 * the command behind `npm run local` when run directly.
 */
import { createServer, type IncomingMessage, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import express from "express";
import expressWs from "express-ws";
import type WebSocket from "ws";
import {
  API_GATEWAY_MAX_MESSAGE_BYTES,
  FUNCTION_TIMEOUT_SECONDS,
  type FunctionConfig,
  readFunctionConfig,
} from "../functions/config";
import { createHandlerDependencies, createManagementApi, type HandlerDependencies } from "../functions/dependencies";
import { routes as defaultRoutes, ROUTE_SELECTION_EXPRESSION, type RouteDefinition } from "../functions/routes";
import { readLocalConfig } from "./config";
import { ConnectionRegistry, GOING_AWAY } from "./connection-registry";
import { prepareConnectionsTable } from "./connections-table";
import { startEmbeddedDynamoDB } from "./embedded-dynamodb";
import { type ApiInfo, type ConnectionInfo, connectEvent, disconnectEvent } from "./events";
import { type EnvironmentState, environmentRepository } from "./execution-environments";
import { FrameGuard } from "./frame-guard";
import { apiGatewayId } from "./ids";
import { Integrations } from "./integrations";
import { outcomeStatus } from "./invoke";
import { inProcessRequestHandler, managementRouter } from "./management-api";

/** API Gateway's quotas; each can be lowered so tests run them in milliseconds. */
export interface LocalGatewayLimits {
  /** Largest message, its frames added up (128 KB); larger closes with 1009. */
  maxMessageBytes: number;
  /** Largest single frame (32 KB); larger closes with 1009. */
  maxFrameBytes: number;
  /** Closes a connection with 1001 after this long without a message from the client (10 min). */
  idleTimeoutMs: number;
  /** Closes every connection with 1001 after this long (2 h). */
  maxConnectionMs: number;
  /** The Lambda function's timeout: past it the invocation fails (the deployed functions use 10 s). */
  functionTimeoutMs: number;
  /** API Gateway's integration timeout (29 s): past it the client gets "Endpoint request timed out". */
  integrationTimeoutMs: number;
  /** Largest `@connections` POST body (128 KB); larger answers 413. */
  managementMaxPayloadBytes: number;
}

export const API_GATEWAY_LIMITS: LocalGatewayLimits = {
  maxMessageBytes: API_GATEWAY_MAX_MESSAGE_BYTES,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  functionTimeoutMs: FUNCTION_TIMEOUT_SECONDS * 1000,
  integrationTimeoutMs: 29_000,
  managementMaxPayloadBytes: API_GATEWAY_MAX_MESSAGE_BYTES,
};

export interface LocalGatewayOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1 (nothing outside this machine can connect). */
  host?: string;
  /** Stage name: the WebSocket API is at `/{stage}` (and `/ws`). Default `dev`. */
  stage?: string;
  region?: string;
  tableName?: string;
  /** Use this DynamoDB (LocalStack: `http://localhost:4566`) instead of starting an embedded one. */
  dynamodbEndpoint?: string;
  /** Routes to serve. Default: the project's route table. */
  routes?: readonly RouteDefinition[];
  routeSelectionExpression?: string;
  limits?: Partial<LocalGatewayLimits>;
  /** Extra handler settings, as Lambda's environment would hold them (`BROADCAST_CONCURRENCY`, ...). */
  functionEnvironment?: Record<string, string | undefined>;
  /** Builds the handlers' dependencies from their config, once for all. Default: the real ones, as in Lambda. */
  createDependencies?: (config: FunctionConfig) => HandlerDependencies;
  /** Let non-loopback callers use the management API. Default `false`. */
  allowRemoteManagement?: boolean;
  /** Extra milliseconds each `@connections` call takes, to model AWS's round trip (benchmarks). Default 0. */
  managementLatencyMs?: number;
  /** Serve the chat page at `/`. Default `true`. */
  servePage?: boolean;
  /** Where the execution log goes, a line per route invocation. Default `console.log`. */
  log?: (line: string) => void;
}

export interface LocalGateway {
  /** `ws://127.0.0.1:{port}/{stage}` */
  url: string;
  /** `http://127.0.0.1:{port}/{stage}`: the management endpoint (`@connections` lives under it). */
  managementUrl: string;
  port: number;
  /** The DynamoDB the handlers use. */
  dynamodbEndpoint: string;
  tableName: string;
  /** Connections open right now. */
  connectionCount(): number;
  /** Closes every connection with 1001, runs their `$disconnect`, stops the server (and the embedded DynamoDB). */
  close(): Promise<void>;
}

const PUBLIC_DIR = path.join(__dirname, "public");

/** Starts the gateway; resolves once it listens and the connections table is ready. */
export async function startLocalGateway(options: LocalGatewayOptions = {}): Promise<LocalGateway> {
  const stage = options.stage ?? "dev";
  const host = options.host ?? "127.0.0.1";
  const limits = { ...API_GATEWAY_LIMITS, ...options.limits };
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
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 8080, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const origin = `127.0.0.1:${port}`;
    const api: ApiInfo = { apiId: "local", stage, domainName: origin };
    const managementUrl = `http://${origin}/${stage}`;

    // The functions' settings, as Lambda's environment variables hold them.
    const config = readFunctionConfig({
      ...options.functionEnvironment,
      TABLE_NAME: tableName,
      AWS_REGION: region,
      DYNAMODB_ENDPOINT_URL: dynamodbEndpoint,
      MANAGEMENT_ENDPOINT_URL: managementUrl,
    });
    const managementOptions = {
      registry,
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
            managementApi: createManagementApi(config, inProcessRequestHandler(managementOptions, environment)),
          };
    const integrations = new Integrations({
      api,
      registry,
      routes: routeTable,
      dependencies,
      routeSelectionExpression: options.routeSelectionExpression ?? ROUTE_SELECTION_EXPRESSION,
      functionTimeoutMs: limits.functionTimeoutMs,
      integrationTimeoutMs: limits.integrationTimeoutMs,
      log,
      track,
    });

    const removed = await prepareConnectionsTable(config, shared.connections);
    if (removed > 0) log(`removed ${removed} connection rows left by an earlier run`);

    const disconnect = (info: ConnectionInfo, code: number, reason: string) =>
      track(integrations.invoke("$disconnect", disconnectEvent(api, info, code, reason, Date.now())));

    const wsPaths = new Set([`/${stage}`, `/${stage}/`, "/ws", "/ws/"]);
    const { app: wsApp } = expressWs(app, server, {
      wsOptions: {
        maxPayload: limits.maxMessageBytes + 1,
        // API Gateway runs $connect before it completes the handshake: a refusal is an HTTP status.
        verifyClient: (info, accept) => {
          const request = info.req;
          if (!wsPaths.has(new URL(request.url ?? "/", "http://localhost").pathname)) {
            accept(false, 403, STATUS_CODES[403]);
            return;
          }
          const connection: ConnectionInfo = {
            connectionId: apiGatewayId(),
            connectedAt: Date.now(),
            sourceIp: (request.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
            userAgent: request.headers["user-agent"],
          };
          void track(
            (async () => {
              const outcome = await integrations.invoke("$connect", connectEvent(api, connection, request, Date.now()));
              const status = outcome ? outcomeStatus(outcome) : 200;
              if (status < 200 || status > 299) {
                accept(false, status >= 600 ? 500 : status, STATUS_CODES[status] ?? "Error");
                return;
              }
              pendingConnects.set(request, connection);
              // The client may leave while $connect runs: the socket never opens, but its row exists.
              request.socket.once("close", () => {
                if (pendingConnects.delete(request)) void disconnect(connection, 1006, "Connection closed abnormally");
              });
              accept(true);
            })().catch((error: unknown) => {
              // A fault in the gateway itself: refuse like a failed integration, never leave the handshake hanging.
              accept(false, 500, STATUS_CODES[500]);
              log(`$connect connection=${connection.connectionId} gateway error: ${String(error)}`);
            }),
          );
        },
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
        registry.touch(connection);
        void track(integrations.onMessage(connection, data, isBinary));
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
    if (options.servePage ?? true) {
      // The page builds its default WebSocket URL from the stage: ws(s)://{host}/{stage}.
      app.get("/config.json", (_request, response) => {
        response.json({ stage });
      });
      app.use(express.static(PUBLIC_DIR));
    }

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        server.close();
        const closed = registry.all().map(
          (connection) =>
            new Promise<void>((resolve) => {
              connection.socket.once("close", () => resolve());
              registry.close(connection, GOING_AWAY.code, GOING_AWAY.reason);
              // A client that never answers the close frame is cut off, as AWS would.
              setTimeout(() => connection.socket.terminate(), 1000).unref();
            }),
        );
        await Promise.all(closed);
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
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
      dynamodbEndpoint,
      tableName,
      connectionCount: () => registry.size,
      close,
    };
  } catch (error) {
    server.closeAllConnections();
    server.close();
    await embedded?.close();
    throw error;
  }
}

/** What `$disconnect` reports when the client ended the connection. */
function clientClose(code: number, reason: string): { code: number; reason: string } {
  if (code === 1005) return { code, reason: reason || "Client-side close frame status not set" };
  if (code === 1006) return { code, reason: reason || "Connection closed abnormally" };
  return { code, reason };
}

/** `npm run local`: start the gateway from the environment, stop it cleanly on Ctrl-C or SIGTERM. */
async function main(): Promise<void> {
  // Without credentials the SDK would end its search by asking the instance-metadata address.
  process.env.AWS_EC2_METADATA_DISABLED ??= "true";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const options = readLocalConfig();
  const started = Date.now();
  console.log(
    options.dynamodbEndpoint
      ? `Using DynamoDB at ${options.dynamodbEndpoint} (table ${options.tableName})`
      : "Starting the embedded DynamoDB (in memory)...",
  );
  const gateway = await startLocalGateway(options);
  const shown = (url: string) => (options.host === "127.0.0.1" ? url.replace("127.0.0.1", "localhost") : url);
  console.log(
    [
      `Local API Gateway ready in ${Date.now() - started} ms`,
      `  chat page       ${shown(`http://127.0.0.1:${gateway.port}/`)}`,
      `  WebSocket API   ${shown(gateway.url)}   (also /ws)`,
      `  @connections    ${shown(gateway.managementUrl)}/@connections/{connectionId}`,
      `  DynamoDB        ${gateway.dynamodbEndpoint} table ${gateway.tableName}${options.dynamodbEndpoint ? "" : " (embedded)"}`,
      "Press Ctrl-C to stop.",
    ].join("\n"),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing ${gateway.connectionCount()} connection(s)...`);
    gateway.close().then(
      () => {
        console.log("Stopped.");
        process.exit(0);
      },
      (error: unknown) => {
        console.error("Stopping failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  });
}

/**
 * Serves one WebSocket app (`./websocket-app.ts`) on a gateway's HTTP server: its functions as
 * Lambda runs them, its routes and `$connect` authorizer behind the replay of API Gateway's
 * WebSocket API, and the `@connections` API under its stage. The one path every app takes, the
 * chat's route table (`./chat/chat-app.ts`) as much as a SAM template or a `serverless.yml`
 * (`./sources/`): the gateways around it differ only in what else they serve.
 */
import type { Server } from "node:http";
import type express from "express";
import { ConnectAuthorizer } from "./api-gateway/authorizer";
import type { ConnectionRegistry } from "./api-gateway/connection-registry";
import type { ApiInfo } from "./api-gateway/event-builders";
import { type ManagementRoutesOptions, serveManagementApi } from "./api-gateway/management-routes";
import { StageThrottle } from "./api-gateway/stage-throttling";
import { serveWebSocketApi } from "./api-gateway/websocket-api";
import { type BrowserGuardOptions, browserGuard } from "./browser-guard";
import type { LocalGatewayLimits } from "./gateway-options";
import { appLocalFunctions, reloadOnSave } from "./lambda/app-functions";
import type { ConcurrencyLimit } from "./lambda/concurrency";
import type { LocalFunction } from "./lambda/lambda-function";
import type { RuntimeSettings } from "./lambda/runtime-process";
import type { WorkInFlight } from "./server-lifecycle";
import { type AppFunction, appFunctions, type WebSocketApp } from "./websocket-app";

export interface AppHost {
  expressApp: express.Express;
  server: Server;
  api: ApiInfo;
  region: string;
  registry: ConnectionRegistry;
  limits: LocalGatewayLimits;
  browserGuard: BrowserGuardOptions;
  /** The account's concurrent executions, shared with any other function the gateway runs. */
  concurrency: ConcurrencyLimit;
  /** A function's timeout where the app sets none. */
  defaultTimeoutMs: number;
  /** How code functions run: needed only by apps that have some. */
  runtime?: RuntimeSettings;
  /** Start new environments when a code function's files change. */
  reload: boolean;
  management: ManagementRoutesOptions;
  work: WorkInFlight;
  log: (line: string) => void;
}

export interface ServedApp {
  /** Stops watching for saves: a save while the gateway drains starts no new environments. */
  stopReloading(): void;
  /** Ends the functions' environments (their processes) as they become idle. */
  close(): void;
}

/**
 * Installs the app's routes on `host.expressApp`: the WebSocket API, then the browser guard, then
 * `@connections`. Routes a gateway adds after this call (the chat's page, its token endpoint) are
 * behind the guard too; handshakes are checked by the WebSocket API itself.
 */
export function serveWebSocketApp(app: WebSocketApp, host: AppHost): ServedApp {
  const { api, limits, log, work } = host;
  const functions = appLocalFunctions(appFunctions(app), host.runtime, {
    defaultTimeoutMs: host.defaultTimeoutMs,
    callerTimeoutMs: limits.integrationTimeoutMs,
    concurrency: host.concurrency,
    track: work.track,
  });
  const watcher = host.reload ? reloadOnSave(functions, log) : undefined;
  // The functions answer JSON of any shape; API Gateway checks what it reads of it.
  const invoked = <E, R>(fn: AppFunction) => functions.get(fn) as unknown as LocalFunction<E, R>;
  serveWebSocketApi(host.expressApp, host.server, {
    api,
    registry: host.registry,
    routes: app.routes.map((route) => ({ ...route, function: invoked(route.function) })),
    routeSelectionExpression: app.routeSelectionExpression,
    limits,
    stageThrottle: app.throttling && new StageThrottle(app.throttling),
    ...(app.authorizer && {
      authorizer: new ConnectAuthorizer({
        identitySources: app.authorizer.identitySources,
        function: invoked(app.authorizer.function),
        api,
        region: host.region,
      }),
    }),
    browserGuard: host.browserGuard,
    closing: () => work.closing !== undefined,
    log,
    track: work.track,
  });
  host.expressApp.use(browserGuard(host.browserGuard, log));
  serveManagementApi(host.expressApp, app.stage, host.management);
  return {
    stopReloading: () => watcher?.close(),
    close: () => {
      for (const local of functions.values()) local.close();
    },
  };
}

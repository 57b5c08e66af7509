/**
 * The WebSocket API served on an Express app: its routes bound to their functions, API Gateway's
 * handshake (`$connect`, its authorizer, the account's and the stage's throttling) run in `ws`'s `verifyClient`, and
 * each opened socket's session, at `/{stage}` (and `/ws`, for clients that name no stage).
 */
import type { IncomingMessage, Server } from "node:http";
import type express from "express";
import expressWs from "express-ws";
import type { BrowserGuardOptions } from "../browser-guard";
import type { LocalGatewayLimits } from "../gateway-options";
import type { ConnectAuthorizer } from "./authorizer";
import type { ConnectionRegistry } from "./connection-registry";
import { type ConnectionInfo, disconnectEvent } from "./event-builders";
import { handshake } from "./handshake";
import { type IntegrationOptions, Integrations } from "./integrations";
import { socketSession } from "./socket-session";
import { TokenBucket } from "./token-bucket";

interface WebSocketApiOptions extends IntegrationOptions {
  limits: LocalGatewayLimits;
  authorizer?: ConnectAuthorizer;
  /** Host names and page origins taken besides this machine's and its own page. */
  browserGuard: BrowserGuardOptions;
  /** The gateway is shutting down: handshakes are refused. */
  closing: () => boolean;
  registry: ConnectionRegistry;
}

export function serveWebSocketApi(app: express.Express, server: Server, options: WebSocketApiOptions): Integrations {
  const { api, limits, registry, track } = options;
  const integrations = new Integrations(options);
  const disconnect = (info: ConnectionInfo, code: number, reason: string) =>
    void track(integrations.invoke("$disconnect", disconnectEvent(api, info, code, reason, Date.now())));
  const accepted = new WeakMap<IncomingMessage, ConnectionInfo>();
  const paths = new Set([`/${api.stage}`, `/${api.stage}/`, "/ws", "/ws/"]);
  const { app: wsApp } = expressWs(app, server, {
    wsOptions: {
      maxPayload: limits.maxMessageBytes + 1,
      ...handshake({
        ...options,
        paths,
        integrations,
        accepted,
        disconnect,
        newConnections:
          limits.newConnectionsPerSecond > 0
            ? new TokenBucket(limits.newConnectionsPerSecond, limits.newConnectionsPerSecond)
            : undefined,
      }),
    },
  });
  const onSocket = socketSession({ accepted, registry, integrations, limits, disconnect, track });
  for (const path of paths) wsApp.ws(path, onSocket);
  return integrations;
}

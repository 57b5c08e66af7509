/**
 * The WebSocket handshake as API Gateway runs it: the upgrade stays pending while `$connect` runs,
 * and a non-2xx result (a failed function: 502, a throttled one: 500) refuses it with that HTTP
 * status; only a path of the API reaches `$connect` at all (any other: 403). Runs inside `ws`'s
 * `verifyClient`, the one place where a handshake can still be refused with a status.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
 *
 * With an authorizer (`./authorizer.ts`), it decides first: a refused handshake never reaches
 * `$connect`, so no row is written.
 *
 * Before any of it, local safety that API Gateway does not have (`../browser-guard.ts`): a
 * handshake naming a host that is not this machine's (DNS rebinding) or sent by a page of another
 * origin is refused with 403, and reaches neither the authorizer nor `$connect`.
 *
 * Then API Gateway's quotas (developer guide, "Quotas for configuring and running a WebSocket
 * API"): a URL over 4,096 characters is refused (414 here: AWS documents the length, not the
 * answer), and past the account's 500 new connections a second a handshake gets 429 (the status
 * every API Gateway throttle answers with; the quota's own answer is not documented).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html
 *
 * Subprotocols: the 101 carries `Sec-WebSocket-Protocol` only when the `$connect` integration's
 * response has that header; the client's offers reach it among the event's headers. A browser
 * that offered one and got none fails the handshake, as it does against AWS.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-connect-route-subprotocol.html
 */
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { ServerOptions, VerifyClientCallbackAsync } from "ws";
import { type BrowserGuardOptions, refusalReason } from "../browser-guard";
import { executionLogLine } from "../execution-log";
import { outcomeStatus } from "../lambda/invoke";
import type { ConnectAuthorizer } from "./authorizer";
import { type ApiInfo, type ConnectionInfo, connectEvent, withUpgradeHeaders } from "./event-builders";
import { apiGatewayId } from "./ids";
import type { Integrations } from "./integrations";
import type { StageThrottle } from "./stage-throttling";
import type { TokenBucket } from "./token-bucket";

/** "Length, in characters, of the URL for a WebSocket API: 4096" (not adjustable). */
export const MAX_URL_CHARACTERS = 4096;

interface HandshakeOptions {
  /** URL paths of the API (`/{stage}`, `/ws`). */
  paths: ReadonlySet<string>;
  /** The host names and page origins taken besides this machine's and its own page. */
  browserGuard: BrowserGuardOptions;
  api: ApiInfo;
  integrations: Integrations;
  /** Where an accepted handshake leaves its connection for the socket that opens next. */
  accepted: WeakMap<IncomingMessage, ConnectionInfo>;
  /** Runs `$disconnect` for a connection whose client left before its socket opened. */
  disconnect: (connection: ConnectionInfo, code: number, reason: string) => unknown;
  /** The gateway is shutting down: a handshake whose `$connect` returns now is refused (503). */
  closing: () => boolean;
  /** The `$connect` route's authorizer, if it has one: it decides before `$connect` runs. */
  authorizer?: ConnectAuthorizer;
  /** The stage's throttling, if any: a handshake past it is refused with 429 before `$connect` runs. */
  stageThrottle?: StageThrottle;
  /** The account's new connections a second, if limited: past it a handshake is refused with 429. */
  newConnections?: TokenBucket;
  track: (work: Promise<unknown>) => void;
  log: (line: string) => void;
}

/** `ws` options that run API Gateway's handshake: `$connect` decides, subprotocol included. */
export function handshake(options: HandshakeOptions): Pick<ServerOptions, "verifyClient" | "handleProtocols"> {
  const { api, integrations, accepted } = options;
  const protocols = new WeakMap<IncomingMessage, string>();
  const verifyClient: VerifyClientCallbackAsync = (info, accept) => {
    const request = info.req;
    const refused = refusalReason({ host: request.headers.host, origin: request.headers.origin }, options.browserGuard);
    if (refused) {
      options.log(`handshake refused: ${refused}`);
      accept(false, 403, STATUS_CODES[403]);
      return;
    }
    // The URL as the client wrote it: scheme, the API's domain name, path and query.
    if (`wss://${api.domainName}${request.url ?? ""}`.length > MAX_URL_CHARACTERS) {
      accept(false, 414, STATUS_CODES[414]);
      return;
    }
    if (!options.paths.has(new URL(request.url ?? "/", "http://localhost").pathname)) {
      accept(false, 403, STATUS_CODES[403]);
      return;
    }
    const connection: ConnectionInfo = {
      connectionId: apiGatewayId(),
      connectedAt: Date.now(),
      sourceIp: (request.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
      userAgent: request.headers["user-agent"],
    };
    const throttledBy =
      options.newConnections && !options.newConnections.take()
        ? "the account's new connections a second"
        : options.stageThrottle && !options.stageThrottle.take("$connect")
          ? "the stage"
          : undefined;
    if (throttledBy) {
      options.log(
        executionLogLine({
          requestId: apiGatewayId(),
          what: "$connect",
          connectionId: connection.connectionId,
          status: 429,
          note: `throttled by ${throttledBy}`,
        }),
      );
      accept(false, 429, STATUS_CODES[429]);
      return;
    }
    const run = (async () => {
      const event = connectEvent(api, connection, request, Date.now());
      if (options.authorizer) {
        const decision = await options.authorizer.authorize(withUpgradeHeaders(event, request));
        const { invocation } = decision;
        options.log(
          executionLogLine({
            requestId: event.requestContext.requestId,
            what: "$connect authorizer",
            connectionId: connection.connectionId,
            status: decision.allowed ? 200 : decision.status,
            invocation,
            note: decision.allowed ? undefined : `${decision.why}${invocation ? "" : " (authorizer not invoked)"}`,
          }),
        );
        if (!decision.allowed) {
          accept(false, decision.status, STATUS_CODES[decision.status]);
          return;
        }
        connection.authorizer = decision.authorizer;
        event.requestContext.authorizer = decision.authorizer;
      }
      const outcome = await integrations.invoke("$connect", event);
      const status = outcome ? outcomeStatus(outcome) : 200;
      if (status < 200 || status > 299) {
        accept(false, status >= 600 ? 500 : status, STATUS_CODES[status] ?? "Error");
        return;
      }
      const headers = outcome?.kind === "result" ? (outcome.result.headers ?? {}) : {};
      const protocol = Object.entries(headers).find(([name]) => name.toLowerCase() === "sec-websocket-protocol")?.[1];
      if (protocol) protocols.set(request, protocol);
      // The client may leave while $connect runs: the socket never opens, but its row exists.
      const left = () => options.disconnect(connection, 1006, "Connection closed abnormally");
      if (request.socket.destroyed) {
        left();
        return;
      }
      if (options.closing()) {
        accept(false, 503, STATUS_CODES[503]);
        left();
        return;
      }
      accepted.set(request, connection);
      request.socket.once("close", () => {
        if (accepted.delete(request)) left();
      });
      accept(true);
    })().catch((error: unknown) => {
      // A fault in the gateway itself: refuse like a failed integration, never leave the handshake hanging.
      accept(false, 500, STATUS_CODES[500]);
      options.log(`$connect connection=${connection.connectionId} gateway error: ${String(error)}`);
    });
    options.track(run);
  };
  // What $connect answered, or no subprotocol at all (ws would otherwise pick the first offered).
  const handleProtocols: ServerOptions["handleProtocols"] = (_offered, request) => protocols.get(request) ?? false;
  return { verifyClient, handleProtocols };
}

/**
 * Builds the events API Gateway sends to a WebSocket Lambda proxy integration, one builder per
 * event type, field for field as captured from AWS:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
 * Headers and query strings are sent on CONNECT only; messageId on MESSAGE only;
 * disconnectStatusCode and disconnectReason on DISCONNECT only.
 *
 * CONNECT's headers are the client's without the upgrade's `Connection` and `Upgrade`, plus API
 * Gateway's `X-Amzn-Trace-Id` and `X-Forwarded-*`: captured `$connect` events (2020, 2024) and
 * the multiValueHeaders of aws-lambda-go's `apigw-websocket-request.json` hold Host, Sec-WebSocket-*, X-Amzn-Trace-Id and
 * X-Forwarded-* and nothing else for a client that sends nothing else. The authorizer does see
 * `Connection` and `Upgrade` (the developer guide's REQUEST authorizer input).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type {
  LambdaAuthorizerContext,
  WebSocketEvent,
  WebSocketRequestContext,
} from "../../functions/runtime/lambda-events";
import { apiGatewayId } from "./ids";

/** What the gateway knows of a connection, fixed at `$connect`. */
export interface ConnectionInfo {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  /** What the `$connect` authorizer allowed the connection with: on every later event. */
  authorizer?: LambdaAuthorizerContext;
}

/** Where the API lives, as API Gateway reports it in every event. */
export interface ApiInfo {
  apiId: string;
  stage: string;
  domainName: string;
}

/**
 * Sets `map[name]` as an own property. Names come from the client: a plain assignment of
 * `__proto__` would change the prototype instead, and a read of `constructor` or `toString`
 * would find Object.prototype's members, not an earlier value.
 */
function set<T>(map: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

/** `map[name]` if the client sent it, never an inherited member. */
function own<T>(map: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(map, name) ? map[name] : undefined;
}

function append(map: Record<string, string[]>, name: string, value: string): void {
  const values = own(map, name);
  if (values) values.push(value);
  else set(map, name, [value]);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `requestTime` in Common Log Format, always UTC as AWS sends it: `27/Nov/2026:02:26:19 +0000`. */
export function commonLogFormatTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

function requestContext(
  api: ApiInfo,
  connection: ConnectionInfo,
  routeKey: string,
  eventType: WebSocketRequestContext["eventType"],
  now: number,
): WebSocketRequestContext {
  // One id for both: every captured WebSocket event has requestId equal to extendedRequestId.
  const requestId = apiGatewayId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: commonLogFormatTime(now),
    messageDirection: "IN",
    stage: api.stage,
    connectedAt: connection.connectedAt,
    requestTimeEpoch: now,
    identity: { userAgent: connection.userAgent, sourceIp: connection.sourceIp },
    requestId,
    domainName: api.domainName,
    connectionId: connection.connectionId,
    apiId: api.apiId,
    ...(connection.authorizer && { authorizer: connection.authorizer }),
  };
}

/** The upgrade's own headers: the `$connect` integration never gets them, the authorizer does. */
const UPGRADE_HEADERS = new Set(["connection", "upgrade"]);

/** Adds a header as API Gateway lists it: repeated names joined with commas, and each value kept. */
function addHeader(event: WebSocketEvent, name: string, value: string): void {
  const headers = event.headers as Record<string, string>;
  const earlier = own(headers, name);
  set(headers, name, earlier === undefined ? value : `${earlier},${value}`);
  append(event.multiValueHeaders as Record<string, string[]>, name, value);
}

/** The request's headers, names as the client sent them, that `keep` keeps. */
function clientHeaders(event: WebSocketEvent, request: IncomingMessage, keep: (lowerName: string) => boolean): void {
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    if (keep(name.toLowerCase())) addHeader(event, name, request.rawHeaders[i + 1] as string);
  }
}

/** An X-Ray trace id, `Root=1-{epoch seconds, hex}-{96 random bits, hex}`, as API Gateway adds one. */
function traceId(now: number): string {
  return `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;
}

/** CONNECT: the upgrade request's headers (names as the client sent them) and query string. */
export function connectEvent(
  api: ApiInfo,
  connection: ConnectionInfo,
  request: IncomingMessage,
  now: number,
): WebSocketEvent {
  const event: WebSocketEvent = {
    headers: {},
    multiValueHeaders: {},
    requestContext: requestContext(api, connection, "$connect", "CONNECT", now),
    isBase64Encoded: false,
  };
  clientHeaders(event, request, (name) => !UPGRADE_HEADERS.has(name));
  // API Gateway adds its trace id (a client's own is kept) and the forwarding headers of its load balancer.
  const traced = Object.keys(event.headers as object).some((name) => name.toLowerCase() === "x-amzn-trace-id");
  if (!traced) addHeader(event, "X-Amzn-Trace-Id", traceId(now));
  for (const [name, value] of [
    ["X-Forwarded-For", connection.sourceIp],
    ["X-Forwarded-Port", String(request.socket.localPort ?? "")],
    ["X-Forwarded-Proto", "http"],
  ] as const) {
    (event.headers as Record<string, string>)[name] = value;
    (event.multiValueHeaders as Record<string, string[]>)[name] = [value];
  }
  const query = new URL(request.url ?? "/", "http://localhost").searchParams;
  if (query.size > 0) {
    const single: Record<string, string> = {};
    const multi: Record<string, string[]> = {};
    for (const [name, value] of query) {
      set(single, name, value);
      append(multi, name, value);
    }
    event.queryStringParameters = single;
    event.multiValueQueryStringParameters = multi;
  }
  return event;
}

/** The CONNECT event as the `$connect` authorizer gets it: with the upgrade's own headers. */
export function withUpgradeHeaders(event: WebSocketEvent, request: IncomingMessage): WebSocketEvent {
  const copy = { ...event, headers: { ...event.headers }, multiValueHeaders: { ...event.multiValueHeaders } };
  clientHeaders(copy, request, (name) => UPGRADE_HEADERS.has(name));
  return copy;
}

/** MESSAGE: the text frame (API Gateway closes a connection that sends a binary one). */
export function messageEvent(
  api: ApiInfo,
  connection: ConnectionInfo,
  routeKey: string,
  body: string,
  now: number,
): WebSocketEvent {
  return {
    requestContext: { ...requestContext(api, connection, routeKey, "MESSAGE", now), messageId: apiGatewayId() },
    body,
    isBase64Encoded: false,
  };
}

/** DISCONNECT: how the connection ended. */
export function disconnectEvent(
  api: ApiInfo,
  connection: ConnectionInfo,
  statusCode: number,
  reason: string,
  now: number,
): WebSocketEvent {
  return {
    headers: { Host: api.domainName, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": "" },
    multiValueHeaders: {
      Host: [api.domainName],
      "x-api-key": [""],
      "X-Forwarded-For": [""],
      "x-restapi": [""],
    },
    requestContext: {
      ...requestContext(api, connection, "$disconnect", "DISCONNECT", now),
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    },
    isBase64Encoded: false,
  };
}

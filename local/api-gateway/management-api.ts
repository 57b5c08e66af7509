/**
 * API Gateway's `@connections` management API: POST sends the body to the client as one frame
 * (at most 128 KB, else 413 PayloadTooLargeException), GET describes the connection, DELETE
 * closes it; an unknown or closed id answers 410 GoneException. Errors carry `x-amzn-errortype`
 * and a JSON body, which is how the AWS SDK v3 names the exception it throws; every answer has an
 * `x-amzn-RequestId` UUID.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
 *
 * - The path may spell `@` as `%40`: the developer guide's own example is
 *   `awscurl ... https://aabbccddee.execute-api.us-east-1.amazonaws.com/prod/%40connections/R0oXAdfD0kwCH6w%3D`,
 *   and the Go SDK v2 sends it so (aws-sdk-go-v2 #889).
 * - Any other route or method, signed: 404 NotFoundException
 *   `{"message":"No method found matching route {path under the stage} for http method {METHOD}."}`,
 *   the route as sent with its ASCII escapes decoded (simple-websockets-chat-app #40: "No method
 *   found matching route test0/@connections/PxWP8cfSDoECFYw= for http method POST."; cognitect-labs
 *   aws-api #201: "... route @connections/ for http method GET"; the 404 and the error type as
 *   API Gateway answers this text elsewhere: serverless-stack guide #320, "status: 404", and
 *   cloudquery's "NotFoundException: No method found matching route security-profiles ...").
 * - A POST to a client whose buffer is full: 429 LimitExceededException, "the WebSocket client
 *   side buffer is full" (the API's model); how full is AWS's secret, the threshold is a setting.
 *
 * Every call is authorized as AWS does it, by its signature and the signer's IAM policies
 * (`./management-auth.ts`), before its route is matched. One implementation, two ways in: over
 * HTTP (`./management-routes.ts`, for any caller) and in process (an SDK request handler, for the
 * handlers the gateway runs itself).
 */
import { randomUUID } from "node:crypto";
import type { LocalIam } from "../iam/local-iam";
import type { SignedRequest } from "../iam/sigv4";
import { type EnvironmentState, refuseIfStopped } from "../lambda/execution-environments";
import type { ConnectionRegistry } from "./connection-registry";
import { type ManagementAuthorization, managementRefusal, type Refusal } from "./management-auth";

export interface ManagementApiOptions {
  registry: ConnectionRegistry;
  /** Calls must be signed for `execute-api` in this region. */
  region: string;
  /** The API and stage whose connections these are: the resource every call is authorized on. */
  api: { apiId: string; stage: string };
  /** Who signs calls, and what each may do. */
  iam: LocalIam;
  maxPayloadBytes: number;
  /** Bytes waiting for a client past which a POST to it answers 429 LimitExceededException. */
  maxClientBufferBytes: number;
  /** Extra milliseconds before each call is answered, to model AWS's round trip. */
  latencyMs: number;
  /** The execution log: refused calls are written there. */
  log: (line: string) => void;
}

export interface ManagementResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * DeleteConnection's close, as clients (wscat: `Disconnected (code: 1000, reason: "Connection
 * Closed Normally")`) and `$disconnect` (API Gateway's execution log) see it; the caller cannot
 * choose either.
 */
const DELETED = { code: 1000, reason: "Connection Closed Normally" } as const;
const EMPTY = Buffer.alloc(0);
/** `/@connections/{id}` under the stage, `@` written as is or as `%40`. */
const CONNECTION_PATH = /^\/(?:@|%40)connections\/([^/]+)$/i;

export function errorResponse(status: number, type: string, message: string | null): ManagementResponse {
  return {
    status,
    headers: { "x-amzn-errortype": type, "content-type": "application/json" },
    // IAM's denials say `Message`, API Gateway's own errors `message` (as captured).
    body: Buffer.from(JSON.stringify(type === "AccessDeniedException" ? { Message: message } : { message })),
  };
}

export const refused = ({ status, type, message }: Refusal) => errorResponse(status, type, message);

/**
 * The call's refusal as API Gateway answers it, if it would refuse it: `path` is under the stage,
 * without its query; IAM decides on the connection a call to the API's route names.
 */
export async function authorization(
  options: ManagementApiOptions,
  request: SignedRequest,
  path: string,
  over: "in process" | ManagementAuthorization["connection"],
): Promise<ManagementResponse | undefined> {
  const call = routedCall(request.method, path);
  const refusal = await managementRefusal(request, call && (call.connectionId ?? call.sent), {
    ...options,
    recompute: over !== "in process",
    ...(over !== "in process" && { connection: over }),
  });
  return refusal && refused(refusal);
}

export const payloadTooLarge = (maxPayloadBytes: number) =>
  errorResponse(413, "PayloadTooLargeException", `Request payload is larger than ${maxPayloadBytes} bytes`);
const badRequest = () => errorResponse(400, "BadRequestException", "Invalid request");

/** A call to the API's route: the connection's id as sent, and decoded (`undefined` where it cannot be). */
interface RoutedCall {
  sent: string;
  connectionId: string | undefined;
}

/** The call to `path` (under the stage, without its query), if the API has a route for it. */
function routedCall(method: string, path: string): RoutedCall | undefined {
  const match = CONNECTION_PATH.exec(path);
  if (!match || !["POST", "GET", "DELETE"].includes(method)) return undefined;
  const sent = match[1] as string;
  try {
    return { sent, connectionId: decodeURIComponent(sent) };
  } catch {
    return { sent, connectionId: undefined };
  }
}

/** A signed call to a route the API does not have; `path` is under the stage. */
function noMethodFound(path: string, method: string): ManagementResponse {
  const route = path
    .replace(/^\//, "")
    .replace(/%([2-7][0-9A-F])/gi, (encoded, hex: string) =>
      hex.toUpperCase() === "7F" ? encoded : String.fromCharCode(Number.parseInt(hex, 16)),
    );
  return errorResponse(404, "NotFoundException", `No method found matching route ${route} for http method ${method}.`);
}

/** Answers one signed call to `path` (under the stage, without its query), as API Gateway would. */
export function managementCall(
  options: ManagementApiOptions,
  method: string,
  path: string,
  body: Buffer | undefined,
): ManagementResponse {
  const call = routedCall(method, path);
  if (!call) return noMethodFound(path, method);
  const { connectionId } = call;
  if (connectionId === undefined) return badRequest();
  const { registry } = options;
  const connection = registry.get(connectionId);
  switch (method) {
    case "POST":
      if (body && body.length > options.maxPayloadBytes) return payloadTooLarge(options.maxPayloadBytes);
      if (!connection) return errorResponse(410, "GoneException", null);
      if (!body || body.length === 0)
        return errorResponse(400, "BadRequestException", "Invalid request: Data must not be empty");
      if (connection.socket.bufferedAmount >= options.maxClientBufferBytes)
        return errorResponse(429, "LimitExceededException", "The client side buffer is full");
      registry.send(connection, body);
      return { status: 200, headers: {}, body: EMPTY };
    case "GET":
      if (!connection) return errorResponse(410, "GoneException", null);
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: Buffer.from(
          JSON.stringify({
            connectedAt: new Date(connection.connectedAt).toISOString(),
            identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
            lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
          }),
        ),
      };
    default:
      if (!connection) return errorResponse(410, "GoneException", null);
      registry.close(connection, DELETED.code, DELETED.reason);
      return { status: 204, headers: {}, body: EMPTY };
  }
}

/** `headers[name]` whatever the case of the name there. */
function lowerCaseLookup(headers: SdkHttpRequest["headers"], name: string): string | string[] | undefined {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The part of the SDK's HTTP request a request handler reads. */
interface SdkHttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  query?: Record<string, string | string[] | null>;
  body?: unknown;
}

/**
 * The in-process way in: an AWS SDK v3 `requestHandler` that answers the management client's
 * requests without a socket. The client still builds, signs and parses every request and
 * response exactly as over HTTP, so errors still surface as GoneException and friends. One per
 * execution environment: calls from an environment that Lambda would have stopped are refused.
 */
export function inProcessRequestHandler(options: ManagementApiOptions, environment: EnvironmentState) {
  const bodyOf = (request: SdkHttpRequest) =>
    request.body === undefined
      ? undefined
      : typeof request.body === "string"
        ? Buffer.from(request.body)
        : Buffer.from(request.body as Uint8Array);
  return {
    metadata: { handlerProtocol: "http/1.1" },
    async handle(request: SdkHttpRequest) {
      if (options.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      refuseIfStopped(environment);
      const body = bodyOf(request);
      // The client's endpoint is the stage's URL: its path starts with the stage.
      const path = request.path.replace(/^\/[^/]*/, "");
      // Once per post of every broadcast: read the few fields the check needs, copy nothing.
      const refusal = await authorization(
        options,
        {
          method: request.method,
          path: request.path,
          query: (request.query ?? {}) as Record<string, string | string[]>,
          header: (name) => first(request.headers[name] ?? lowerCaseLookup(request.headers, name)),
          ...(body && { body }),
        },
        path,
        "in process",
      );
      const response = refusal ?? managementCall(options, request.method, path, body);
      return {
        response: {
          statusCode: response.status,
          reason: undefined,
          headers: { ...response.headers, "x-amzn-requestid": randomUUID() },
          body: new Uint8Array(response.body.buffer, response.body.byteOffset, response.body.byteLength),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

/**
 * API Gateway's `@connections` management API: POST sends the body to the client as one frame
 * (at most 128 KB, else 413 PayloadTooLargeException), GET describes the connection, DELETE
 * closes it; an unknown or closed id answers 410 GoneException. Errors carry `x-amzn-errortype`
 * and a JSON body, which is how the AWS SDK v3 names the exception it throws; every answer has an
 * `x-amzn-RequestId` UUID.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
 *
 * One implementation, two ways in: over HTTP (an Express router, for any caller) and in process
 * (an SDK request handler, for the handlers the gateway runs itself).
 */
import { randomUUID } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import type { LocalIam } from "../iam/local-iam";
import { type SignedRequest, signedHttpRequest } from "../iam/sigv4";
import { type EnvironmentState, refuseIfStopped } from "../lambda/execution-environments";
import type { ConnectionRegistry } from "./connection-registry";
import {
  connectionIdOf,
  type ManagementAuthorization,
  managementRefusal,
  missingAuthentication,
  type Refusal,
} from "./management-auth";

export interface ManagementApiOptions {
  registry: ConnectionRegistry;
  /** Calls must be signed for `execute-api` in this region. */
  region: string;
  /** The API and stage whose connections these are: the resource every call is authorized on. */
  api: { apiId: string; stage: string };
  /** Who signs calls, and what each may do. */
  iam: LocalIam;
  maxPayloadBytes: number;
  /** Extra milliseconds before each call is answered, to model AWS's round trip. */
  latencyMs: number;
  /** The execution log: refused calls are written there. */
  log: (line: string) => void;
}

interface ManagementResponse {
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

function errorResponse(status: number, type: string, message: string | null): ManagementResponse {
  return {
    status,
    headers: { "x-amzn-errortype": type, "content-type": "application/json" },
    // IAM's denials say `Message`, API Gateway's own errors `message` (as captured).
    body: Buffer.from(JSON.stringify(type === "AccessDeniedException" ? { Message: message } : { message })),
  };
}

const refused = ({ status, type, message }: Refusal) => errorResponse(status, type, message);
/** What API Gateway answers for a path or method it has no route for. */
const missingAuthenticationToken = () => refused(missingAuthentication());

/** The call's refusal as API Gateway answers it, if it would refuse it. */
async function authorization(
  options: ManagementApiOptions,
  request: SignedRequest,
  over: "in process" | ManagementAuthorization["connection"],
): Promise<ManagementResponse | undefined> {
  const refusal = await managementRefusal(request, {
    ...options,
    recompute: over !== "in process",
    ...(over !== "in process" && { connection: over }),
  });
  return refusal && refused(refusal);
}

const payloadTooLarge = (maxPayloadBytes: number) =>
  errorResponse(413, "PayloadTooLargeException", `Request payload is larger than ${maxPayloadBytes} bytes`);

/** Answers one management call, as API Gateway would. */
function managementCall(
  options: ManagementApiOptions,
  method: string,
  connectionId: string,
  body: Buffer | undefined,
): ManagementResponse {
  const { registry } = options;
  const connection = registry.get(connectionId);
  switch (method) {
    case "POST":
      if (body && body.length > options.maxPayloadBytes) return payloadTooLarge(options.maxPayloadBytes);
      if (!connection) return errorResponse(410, "GoneException", null);
      if (!body || body.length === 0)
        return errorResponse(400, "BadRequestException", "Invalid request: Data must not be empty");
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
    case "DELETE":
      if (!connection) return errorResponse(410, "GoneException", null);
      registry.close(connection, DELETED.code, DELETED.reason);
      return { status: 204, headers: {}, body: EMPTY };
    default:
      return missingAuthenticationToken();
  }
}

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === "::1" || /^(::ffff:)?127\./.test(address));
}

/**
 * The HTTP way in: a router for `/@connections/:connectionId`, mounted under the stage path. A
 * request that carries an `Origin` comes from a web page, and is refused (local safety: the SDK
 * never sends one, and a page must not post to or close anyone's connection); the signature of
 * every other is recomputed.
 */
export function managementRouter(
  options: ManagementApiOptions & {
    /** Accept callers other than loopback. Default `false`: the API can close anyone's connection. */
    allowRemote: boolean;
  },
): express.Router {
  const router = express.Router();
  const reply = (res: Response, response: ManagementResponse) => {
    res.status(response.status).set(response.headers).end(response.body);
  };

  router.use((req, res, next) => {
    res.set("x-amzn-RequestId", randomUUID());
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      reply(res, errorResponse(403, "ForbiddenException", "Forbidden"));
      return;
    }
    if (req.headers.origin !== undefined) {
      options.log(
        `@connections refused ${req.method} ${req.originalUrl}: a web page's request (Origin ${JSON.stringify(req.headers.origin)}); SDK clients send none`,
      );
      reply(res, errorResponse(403, "ForbiddenException", "Forbidden"));
      return;
    }
    next();
  });
  // The body first: the signature covers it.
  router.use(express.raw({ type: () => true, limit: options.maxPayloadBytes }));
  // The key each keep-alive connection has proved, so that its later calls are not recomputed.
  const proved = new WeakMap<object, string>();
  router.use(async (req, res, next) => {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    const request = signedHttpRequest(req.method, req.originalUrl, req.headers, body);
    const refusal = await authorization(options, request, { socket: req.socket, proved });
    if (refusal) {
      reply(res, refusal);
      return;
    }
    if (options.latencyMs > 0) setTimeout(next, options.latencyMs);
    else next();
  });

  router.all("/@connections/:connectionId", (req: Request<{ connectionId: string }>, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    reply(res, managementCall(options, req.method, req.params.connectionId, body));
  });

  router.use((error: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error.type === "entity.too.large" || error.status === 413)
      return reply(res, payloadTooLarge(options.maxPayloadBytes));
    options.log(`management API error: ${String(error)}`);
    reply(
      res,
      errorResponse(error.status && error.status < 500 ? error.status : 500, "BadRequestException", "Invalid request"),
    );
  });

  return router;
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
        "in process",
      );
      const response = refusal ?? managementCall(options, request.method, connectionIdOf(request.path) as string, body);
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

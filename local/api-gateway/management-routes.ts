/**
 * The `@connections` API over HTTP, where API Gateway serves it: under the stage, on the host of
 * the WebSocket API. Local safety first (a web page's request, a remote caller: 403), then what
 * is not a management call gets what AWS answers it:
 * - a GET that is no upgrade, anywhere under the stage but `@connections`: 426 Upgrade Required,
 *   as serverless-offline's WebSocket suite asserts when run against a deployed API
 *   (`tests/manual/websocket/main/test/e2e/ws.e2e.js`, "should request to upgrade to WebSocket when
 *   receiving an HTTP request"); no body, and the `Upgrade` header RFC 9110 requires of a 426;
 * - `@connections` without the stage: 403 `{"message":"Forbidden"}`, as aws-sdk-php #1955 got
 *   from a client that dropped the stage from its endpoint (ForbiddenException, as API Gateway
 *   types its other 403s);
 * - then the signature and IAM, for every call (`./management-auth.ts`: unsigned, 403 Missing
 *   Authentication Token), and only then the route (signed calls to others: `./management-api.ts`).
 */
import { randomUUID } from "node:crypto";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { signedHttpRequest } from "../iam/sigv4";
import {
  authorization,
  errorResponse,
  type ManagementApiOptions,
  type ManagementResponse,
  managementCall,
  payloadTooLarge,
} from "./management-api";

export interface ManagementRoutesOptions extends ManagementApiOptions {
  /** Accept callers other than loopback. Default `false`: the API can close anyone's connection. */
  allowRemote: boolean;
}

/** The options from a gateway's parts: its limits' payload and buffer sizes, AWS's round trip added if asked. */
export function managementOptions(
  parts: Omit<ManagementApiOptions, "maxPayloadBytes" | "maxClientBufferBytes" | "latencyMs"> & {
    limits: { managementMaxPayloadBytes: number; maxClientBufferBytes: number };
  },
  latencyMs = 0,
): ManagementApiOptions {
  const { limits, ...rest } = parts;
  return {
    ...rest,
    maxPayloadBytes: limits.managementMaxPayloadBytes,
    maxClientBufferBytes: limits.maxClientBufferBytes,
    latencyMs,
  };
}

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === "::1" || /^(::ffff:)?127\./.test(address));
}

const reply = (res: Response, response: ManagementResponse) => {
  res.status(response.status).set(response.headers).end(response.body);
};
const forbidden = () => errorResponse(403, "ForbiddenException", "Forbidden");

/** Serves the management API under `/{stage}`, and API Gateway's 403 for it without the stage. */
export function serveManagementApi(app: express.Express, stage: string, options: ManagementRoutesOptions): void {
  const safety = localSafety(options);
  app.use(["/@connections", "/%40connections"], safety, (_req, res) => reply(res, forbidden()));
  app.use(`/${stage}`, safety, managementRouter(options));
}

/**
 * Local safety before anything AWS would answer: callers other than loopback are refused unless
 * allowed, and so is any request that carries an `Origin`, which comes from a web page (the SDK
 * never sends one, and a page must not post to or close anyone's connection).
 */
function localSafety(options: ManagementRoutesOptions): RequestHandler {
  return (req, res, next) => {
    res.set("x-amzn-RequestId", randomUUID());
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      reply(res, forbidden());
      return;
    }
    if (req.headers.origin !== undefined) {
      options.log(
        `@connections refused ${req.method} ${req.originalUrl}: a web page's request (Origin ${JSON.stringify(req.headers.origin)}); SDK clients send none`,
      );
      reply(res, forbidden());
      return;
    }
    next();
  };
}

/** The path under the stage, without its query, as sent. */
const routePath = (req: Request) => req.url.split("?")[0] as string;

function managementRouter(options: ManagementRoutesOptions): express.Router {
  const router = express.Router();
  router.use((req, res, next) => {
    if (req.method === "GET" && !/^\/(@|%40)connections(\/|$)/i.test(req.path)) {
      res.status(426).set("upgrade", "websocket").end();
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
    const refusal = await authorization(options, request, routePath(req), { socket: req.socket, proved });
    if (refusal) {
      reply(res, refusal);
      return;
    }
    if (options.latencyMs > 0) setTimeout(next, options.latencyMs);
    else next();
  });
  router.use((req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    reply(res, managementCall(options, req.method, routePath(req), body));
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

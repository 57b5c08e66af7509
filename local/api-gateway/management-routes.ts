/**
 * The `@connections` API over HTTP, where API Gateway serves it: under the stage, on the host of
 * the WebSocket API. What is not a management call gets what AWS answers it:
 * - a GET that is no upgrade, anywhere under the stage but `@connections`: 426 Upgrade Required,
 *   as serverless-offline's WebSocket suite asserts when run against a deployed API
 *   (`tests/manual/websocket/main/test/e2e/ws.e2e.js`, "should request to upgrade to WebSocket when
 *   receiving an HTTP request"); no body, and the `Upgrade` header RFC 9110 requires of a 426;
 * - `@connections` without the stage: 403 `{"message":"Forbidden"}`, as aws-sdk-php #1955 got
 *   from a client that dropped the stage from its endpoint (ForbiddenException, as API Gateway
 *   types its other 403s);
 * - unsigned calls: `./management-auth.ts`; signed calls to other routes: `./management-api.ts`.
 */
import { randomUUID } from "node:crypto";
import express, { type NextFunction, type Request, type Response } from "express";
import {
  errorResponse,
  type ManagementApiOptions,
  type ManagementResponse,
  managementCall,
  payloadTooLarge,
  refused,
} from "./management-api";
import { checkSignature } from "./management-auth";

interface ManagementRoutesOptions extends ManagementApiOptions {
  /** Accept callers other than loopback. Default `false`: the API can close anyone's connection. */
  allowRemote: boolean;
  log: (line: string) => void;
}

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === "::1" || /^(::ffff:)?127\./.test(address));
}

const reply = (res: Response, response: ManagementResponse) => {
  res.status(response.status).set(response.headers).end(response.body);
};

/** Serves the management API under `/{stage}`, and API Gateway's 403 for it without the stage. */
export function serveManagementApi(app: express.Express, stage: string, options: ManagementRoutesOptions): void {
  app.use(["/@connections", "/%40connections"], (_req, res) => {
    res.set("x-amzn-RequestId", randomUUID());
    reply(res, errorResponse(403, "ForbiddenException", "Forbidden"));
  });
  app.use(`/${stage}`, managementRouter(options));
}

function managementRouter(options: ManagementRoutesOptions): express.Router {
  const router = express.Router();
  router.use((req, res, next) => {
    res.set("x-amzn-RequestId", randomUUID());
    if (req.method === "GET" && !/^\/(@|%40)connections(\/|$)/i.test(req.path)) {
      res.status(426).set("upgrade", "websocket").end();
      return;
    }
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      reply(res, errorResponse(403, "ForbiddenException", "Forbidden"));
      return;
    }
    const query = new URLSearchParams(req.url.split("?")[1] ?? "");
    const refusal = checkSignature(
      { header: (name) => [req.headers[name]].flat()[0], query: (name) => query.get(name) ?? undefined },
      options.region,
    );
    if (refusal) {
      reply(res, refused(refusal));
      return;
    }
    if (options.latencyMs > 0) setTimeout(next, options.latencyMs);
    else next();
  });

  router.use(express.raw({ type: () => true, limit: options.maxPayloadBytes }), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : undefined;
    reply(res, managementCall(options, req.method, req.url.split("?")[0] as string, body));
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

/**
 * API Gateway's `@connections` management API: POST sends the body to the client as one frame
 * (at most 128 KB, else 413 PayloadTooLargeException), GET describes the connection, DELETE
 * closes it; an unknown or closed id answers 410 GoneException. Errors carry `x-amzn-errortype`
 * and a JSON body, which is how the AWS SDK v3 names the exception it throws.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { ConnectionRegistry } from "./connection-registry";
import { apiGatewayId } from "./ids";

export interface ManagementApiOptions {
  registry: ConnectionRegistry;
  maxPayloadBytes: number;
  /** Accept callers other than loopback. Default `false`: the API can close anyone's connection. */
  allowRemote: boolean;
  log: (line: string) => void;
}

/** DeleteConnection's close code, as AWS sends it. */
const DELETED = { code: 1000, reason: "" } as const;

function sendError(res: Response, status: number, type: string, message: string | null): void {
  res.status(status).set("x-amzn-errortype", type).type("application/json").send(JSON.stringify({ message }));
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === "::1" || /^(::ffff:)?127\./.test(address));
}

/** The router for `/@connections/:connectionId`, to be mounted under the stage path. */
export function managementApi(options: ManagementApiOptions): express.Router {
  const { registry } = options;
  const router = express.Router();

  router.use((req, res, next) => {
    res.set("x-amzn-RequestId", apiGatewayId());
    if (!options.allowRemote && !isLoopback(req.socket.remoteAddress)) {
      sendError(res, 403, "ForbiddenException", "Forbidden");
      return;
    }
    next();
  });

  router.post(
    "/@connections/:connectionId",
    express.raw({ type: () => true, limit: options.maxPayloadBytes }),
    (req: Request<{ connectionId: string }>, res) => {
      const connection = registry.get(req.params.connectionId);
      if (!connection) return sendError(res, 410, "GoneException", null);
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        return sendError(res, 400, "BadRequestException", "Invalid request: Data must not be empty");
      }
      registry.send(connection, body);
      res.status(200).end();
    },
  );

  router.get("/@connections/:connectionId", (req: Request<{ connectionId: string }>, res) => {
    const connection = registry.get(req.params.connectionId);
    if (!connection) return sendError(res, 410, "GoneException", null);
    res.status(200).json({
      connectedAt: new Date(connection.connectedAt).toISOString(),
      identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
    });
  });

  router.delete("/@connections/:connectionId", (req: Request<{ connectionId: string }>, res) => {
    const connection = registry.get(req.params.connectionId);
    if (!connection) return sendError(res, 410, "GoneException", null);
    registry.close(connection, DELETED.code, DELETED.reason);
    res.status(204).end();
  });

  // Any other method or path: what API Gateway answers for a resource it does not have.
  router.all("/@connections{/*rest}", (_req, res) =>
    sendError(res, 403, "ForbiddenException", "Missing Authentication Token"),
  );

  router.use((error: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error.type === "entity.too.large" || error.status === 413) {
      return sendError(
        res,
        413,
        "PayloadTooLargeException",
        `Request payload is larger than ${options.maxPayloadBytes} bytes`,
      );
    }
    options.log(`management API error: ${String(error)}`);
    sendError(res, error.status && error.status < 500 ? error.status : 500, "BadRequestException", "Invalid request");
  });

  return router;
}

/**
 * A Lambda function URL, replayed as an Express route: the request becomes a payload format 2.0
 * event (headers lowercased, repeated ones joined with commas, a body that is not text sent
 * base64), the function's result becomes the response, a function that fails answers 502 and a
 * throttled one 429. https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
 * Requests are limited to 6 MB, as Lambda's synchronous invocations are. With CORS configured,
 * Lambda answers a preflight from an allowed origin itself and adds the CORS headers to the
 * function's answers to that origin; to any other origin it adds none
 * (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors).
 */
import { randomUUID } from "node:crypto";
import express, { type Request, type Response } from "express";
import type { HttpRequestEvent, HttpResult } from "../../functions/runtime/lambda-events";
import { commonLogFormatTime } from "../api-gateway/event-builders";
import { executionLogLine } from "../execution-log";
import type { LocalFunction } from "./lambda-function";

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)\b)|\+(json|xml)\b/i;

/** A function URL's CORS settings (`aws.lambda.FunctionUrl`'s `cors`). */
export interface FunctionUrlCors {
  allowOrigins: readonly string[];
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  maxAge: number;
}

export function functionUrlRoute(
  path: string,
  fn: LocalFunction<HttpRequestEvent, HttpResult>,
  log: (line: string) => void,
  cors?: FunctionUrlCors,
): express.Router {
  const router = express.Router();
  router.all(path, (request, response, next) => {
    const origin = request.headers.origin;
    if (!cors || origin === undefined || !cors.allowOrigins.includes(origin)) return next();
    response.set({ "Access-Control-Allow-Origin": origin, Vary: "Origin" });
    if (request.method !== "OPTIONS") return next();
    response
      .status(200)
      .set({
        "Access-Control-Allow-Methods": cors.allowMethods.join(","),
        "Access-Control-Allow-Headers": cors.allowHeaders.join(","),
        "Access-Control-Max-Age": String(cors.maxAge),
      })
      .end();
  });
  router.all(path, express.raw({ type: () => true, limit: "6mb" }), async (request: Request, response: Response) => {
    const event = requestEvent(request);
    const { outcome, ms, coldStart } = await fn.invoke(event);
    let status: number;
    if (outcome.kind === "result") {
      const result = outcome.result;
      status = result.statusCode ?? 200;
      response.status(status).set(result.headers ?? {});
      response.send(result.body ?? "");
    } else {
      status = outcome.kind === "throttled" ? 429 : 502;
      response.status(status).json({ Message: status === 429 ? "Rate Exceeded." : "Internal Server Error" });
    }
    log(
      executionLogLine({
        requestId: event.requestContext.requestId,
        what: `${request.method} ${path} function=${fn.name}`,
        status,
        invocation: { ms, coldStart },
        note: outcome.kind === "result" ? undefined : outcome.kind,
      }),
    );
  });
  return router;
}

function requestEvent(request: Request): HttpRequestEvent {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = (request.rawHeaders[i] as string).toLowerCase();
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = Object.hasOwn(headers, name) ? `${headers[name]},${value}` : value;
  }
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const text = TEXT_TYPES.test(headers["content-type"] ?? "");
  const url = new URL(request.originalUrl, "http://localhost");
  const now = Date.now();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "anonymous",
      requestId: randomUUID(),
      http: {
        method: request.method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: (request.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
        userAgent: headers["user-agent"] ?? "",
      },
      routeKey: "$default",
      stage: "$default",
      time: commonLogFormatTime(now),
      timeEpoch: now,
    },
    ...(body.length > 0 && { body: body.toString(text ? "utf8" : "base64") }),
    isBase64Encoded: body.length > 0 && !text,
  };
}

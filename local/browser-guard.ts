/**
 * What keeps web pages from driving the local gateway, which runs on a developer's machine while
 * they browse: local safety, none of it in AWS (API Gateway checks neither `Host` nor `Origin`).
 *
 * - `Host`: a page on a DNS-rebinding name (`rebind.attacker.example` answering 127.0.0.1) is
 *   same-origin with the gateway as far as the browser knows, but its requests still carry that
 *   name. Only names that cannot be rebound are taken: `localhost`, IP literals (a request that
 *   names an address reached that address), and the names the developer allows.
 * - `Origin`: browsers send it on every WebSocket handshake and every cross-origin or non-GET
 *   fetch; tools and SDKs do not. A request that has one comes from a page, which is accepted
 *   where that page may act (its own origin, the page this gateway serves, or one allowed).
 * https://fetch.spec.whatwg.org/#origin-header, https://www.rfc-editor.org/rfc/rfc6455#section-10.2
 */
import { isIP } from "node:net";
import type { RequestHandler } from "express";

export interface BrowserGuardOptions {
  /** Host names besides `localhost` and IP literals (`HOST`'s, `ALLOWED_HOSTS`), lower-case. */
  allowedHosts?: readonly string[];
  /** Origins besides the gateway's own whose pages may connect and sign in (`ALLOWED_ORIGINS`). */
  allowedOrigins?: readonly string[];
}

/** `Host`'s name without its port (`[::1]:8080` gives `::1`), lower-case. */
function hostName(host: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return (bracketed[1] as string).toLowerCase();
  return host.replace(/:\d+$/, "").toLowerCase();
}

/** Whether `host` (a `Host` header) names this machine in a way no DNS answer can change. */
export function hostAllowed(host: string | undefined, options: BrowserGuardOptions = {}): boolean {
  if (!host) return false;
  const name = hostName(host);
  return name === "localhost" || isIP(name) !== 0 || (options.allowedHosts ?? []).includes(name);
}

/**
 * Whether a page at `origin` may use the gateway reached at `host`: no origin (not a browser),
 * the same origin (`http://{host}`, the page it serves), or one allowed.
 */
function originAllowed(origin: string | undefined, host: string | undefined, options: BrowserGuardOptions = {}) {
  if (origin === undefined) return true;
  if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return true;
  return (options.allowedOrigins ?? []).includes(origin);
}

/** Why a request is refused, for the execution log; the client gets 403 and nothing else. */
export function refusalReason(
  request: { host: string | undefined; origin: string | undefined },
  options: BrowserGuardOptions,
): string | undefined {
  if (!hostAllowed(request.host, options)) {
    return `Host ${JSON.stringify(request.host ?? "")} is not this machine's (localhost, an address, HOST or ALLOWED_HOSTS): a DNS-rebinding page?`;
  }
  if (!originAllowed(request.origin, request.host, options)) {
    return `Origin ${JSON.stringify(request.origin)} is not this gateway's page, nor in ALLOWED_ORIGINS`;
  }
  return undefined;
}

/** The same checks on every HTTP request: refused with a bare 403, and a line of the log saying why. */
export function browserGuard(options: BrowserGuardOptions, log: (line: string) => void): RequestHandler {
  return (request, response, next) => {
    const why = refusalReason({ host: request.headers.host, origin: request.headers.origin }, options);
    if (!why) return next();
    log(`refused ${request.method} ${request.originalUrl}: ${why}`);
    response.status(403).type("text/plain").send("Forbidden");
  };
}

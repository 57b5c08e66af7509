/**
 * Loaded first in every Node.js function process: calls to AWS's hosts (`*.amazonaws.com`) go to
 * the local gateway instead, however the code built its endpoint: the SDK's default
 * (`https://dynamodb.{region}.amazonaws.com`), `requestContext.domainName` and `stage`, or
 * `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` as AWS's sample builds it. Every
 * AWS SDK for JavaScript (v3, and v2) sends through `node:https`'s `request`, read when the call is
 * made, so replacing it here reaches the SDK copy the gateway provides and one the function carries
 * in its own `node_modules` alike. The request keeps its `Host` header, its signature, its path and
 * body; only the connection goes to loopback, over plain HTTP. DynamoDB's host goes to the gateway's
 * DynamoDB, every other AWS host to the gateway itself (`_LOCAL_GATEWAY_ENDPOINTS`).
 * Code that calls AWS through `fetch` (undici) is not redirected.
 */
"use strict";
const http = require("node:http");
const https = require("node:https");

const endpoints = JSON.parse(process.env._LOCAL_GATEWAY_ENDPOINTS || "{}");
const plainRequest = http.request;
const agent = new http.Agent({ keepAlive: true });

/** Where a call to `host` goes instead, or `undefined` for a host that is not AWS's. */
function localEndpoint(host) {
  const name = String(host ?? "")
    .replace(/:\d+$/, "")
    .toLowerCase();
  if (!/\.amazonaws\.com(\.cn)?$/.test(name)) return undefined;
  return name.startsWith("dynamodb.") ? endpoints.dynamodb : endpoints.gateway;
}

/** `request(options[, callback])` or `request(url[, options][, callback])`, as `node:http` takes them. */
function redirecting(original) {
  return function request(...args) {
    const [first, second] = args;
    const url = typeof first === "string" || first instanceof URL ? new URL(first) : undefined;
    const options = url
      ? {
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          ...(typeof second === "object" ? second : {}),
        }
      : (first ?? {});
    const callback = args.find((argument) => typeof argument === "function");
    const host = options.hostname ?? options.host;
    const target = localEndpoint(host);
    if (!target) return original.apply(this, args);
    const local = new URL(target);
    const headers = { ...options.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "host")) headers.host = host;
    const { host: _host, hostname: _hostname, port: _port, protocol: _protocol, agent: _agent, ...rest } = options;
    return plainRequest({ ...rest, hostname: local.hostname, port: local.port, headers, agent }, callback);
  };
}

function getting(request) {
  return function get(...args) {
    const call = request(...args);
    call.end();
    return call;
  };
}

https.request = redirecting(https.request);
https.get = getting(https.request);
http.request = redirecting(http.request);
http.get = getting(http.request);

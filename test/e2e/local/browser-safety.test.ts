/**
 * A web page the developer visits must not drive the local gateway: each attack over real sockets,
 * as a page's browser would send it, refused (local safety: `local/browser-guard.ts`); and what
 * AWS itself checks (the signature of `@connections` calls and DynamoDB requests) checked for real.
 */
import { request as httpRequest } from "node:http";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import test from "ava";
import { chatGateway, signIn, whoAmI } from "../../support/chat";
import { rawRequest, upgradeRequest } from "../../support/raw-http";
import { signedFetch } from "../../support/sigv4";
import { connect } from "../../support/websocket";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request with headers no browser API lets a test set (`Host`), as a page's browser sends it. */
function send(
  port: number,
  {
    method = "GET",
    path = "/",
    headers = {},
    body,
  }: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, method, path, headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

const portOf = (url: string) => Number(new URL(url).port);
const EVIL = "https://evil.example";
const REBIND = "rebind.attacker.example";

test("a DNS-rebinding host name is refused on the WebSocket handshake and on every HTTP route; this machine's names are not", async (t) => {
  const gw = await chatGateway({ auth: { mode: "guest" }, servePage: true });
  t.teardown(() => gw.close());
  const token = (await signIn(`http://127.0.0.1:${gw.port}`, "Ada")).token;
  const upgrade = (host: string) => rawRequest(gw.port, upgradeRequest(`/dev?token=${token}`, "", { Host: host }));

  t.is(await upgrade(`${REBIND}:${gw.port}`), "HTTP/1.1 403 Forbidden");
  for (const path of ["/", "/config.json"]) {
    t.is((await send(gw.port, { path, headers: { Host: `${REBIND}:${gw.port}` } })).status, 403, path);
  }
  const token2 = await send(gw.port, {
    method: "POST",
    path: "/auth/token",
    headers: { Host: REBIND, "content-type": "application/json" },
    body: '{"name":"Mallory"}',
  });
  t.is(token2.status, 403);
  t.false(token2.body.includes("token"));
  t.true(gw.log.some((line) => line.includes(`Host "${REBIND}:${gw.port}" is not this machine's`)));

  for (const host of [`127.0.0.1:${gw.port}`, `localhost:${gw.port}`, `[::1]:${gw.port}`]) {
    t.is(await upgrade(host), "HTTP/1.1 101 Switching Protocols", host);
  }
  t.is((await send(gw.port, { path: "/config.json", headers: { Host: `localhost:${gw.port}` } })).status, 200);
});

test("a page of another origin cannot open a WebSocket or get a token; the gateway's own page and allowed origins can", async (t) => {
  const allowed = "http://localhost:5173";
  const gw = await chatGateway({ auth: { mode: "guest" }, allowedOrigins: [allowed] });
  t.teardown(() => gw.close());
  const own = `http://127.0.0.1:${gw.port}`;
  const token = (await signIn(own, "Ada")).token;
  const upgrade = (origin: string) =>
    rawRequest(gw.port, upgradeRequest(`/dev?token=${token}`, "", { Host: `127.0.0.1:${gw.port}`, Origin: origin }));
  const tokenFrom = (origin: string, method = "POST") =>
    send(gw.port, {
      method,
      path: "/auth/token",
      headers: {
        Host: `127.0.0.1:${gw.port}`,
        Origin: origin,
        "content-type": "application/json",
        ...(method === "OPTIONS" && { "Access-Control-Request-Method": "POST" }),
      },
      ...(method === "POST" && { body: '{"name":"Mallory"}' }),
    });

  t.is(await upgrade(EVIL), "HTTP/1.1 403 Forbidden");
  t.false(
    gw.log.some((line) => line.includes("$connect authorizer")),
    "neither the authorizer nor $connect ran",
  );
  const stolen = await tokenFrom(EVIL);
  t.is(stolen.status, 403);
  t.is(stolen.headers["access-control-allow-origin"], undefined);
  t.is((await tokenFrom(EVIL, "OPTIONS")).status, 403, "no preflight answered for it either");

  t.is(await upgrade(own), "HTTP/1.1 101 Switching Protocols");
  t.is((await tokenFrom(own)).status, 200);
  t.is(await upgrade(allowed), "HTTP/1.1 101 Switching Protocols");
  const preflight = await tokenFrom(allowed, "OPTIONS");
  t.is(preflight.status, 200);
  t.is(preflight.headers["access-control-allow-origin"], allowed);
  t.is(preflight.headers["access-control-allow-methods"], "POST");
  const granted = await tokenFrom(allowed);
  t.is(granted.status, 200);
  t.is(granted.headers["access-control-allow-origin"], allowed, "as the function URL's CORS answers it");
});

test("@connections: a forged signature in the query string posts nothing and closes nothing; a page's request is refused outright", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await connect(`${gw.url}?name=Ada`);
  const id = await whoAmI(ada);
  const path = `/dev/@connections/${encodeURIComponent(id)}`;
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const forged = (accessKeyId: string) =>
    `${path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${accessKeyId}%2F${date.slice(0, 8)}%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=${date}&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=00`;
  const host = { Host: `127.0.0.1:${gw.port}` };
  ada.received.length = 0;

  const post = await send(gw.port, {
    method: "POST",
    path: forged("AKIAIOSFODNN7EXAMPLE"),
    headers: host,
    body: "forged",
  });
  t.is(post.status, 403);
  t.is(post.headers["x-amzn-errortype"], "UnrecognizedClientException");
  const withKnownKey = await send(gw.port, {
    method: "POST",
    path: forged(gw.credentials.accessKeyId),
    headers: host,
    body: "forged",
  });
  t.is(withKnownKey.status, 403);
  t.is(withKnownKey.headers["x-amzn-errortype"], "InvalidSignatureException");
  const close = await send(gw.port, { method: "DELETE", path: forged(gw.credentials.accessKeyId), headers: host });
  t.is(close.status, 403);
  const fromPage = await signedFetch(
    `${gw.managementUrl}/@connections/${encodeURIComponent(id)}`,
    { method: "POST", body: "from a page", headers: { Origin: EVIL } },
    { credentials: gw.credentials },
  );
  t.is(fromPage.status, 403, "even signed: the SDK never sends an Origin");
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.deepEqual(ada.received, [], "nothing was posted");
  t.is(ada.socket.readyState, ada.socket.OPEN, "nor was the connection closed");

  // The same query string signed for real, with the operator's keys, is delivered.
  const signer = new SignatureV4({
    service: "execute-api",
    region: "us-east-1",
    credentials: gw.credentials,
    sha256: Hash.bind(null, "sha256"),
  });
  const presigned = await signer.presign(
    { method: "POST", protocol: "http:", hostname: "127.0.0.1", path, query: {}, headers: host, body: "signed" },
    { expiresIn: 300 },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  const real = await send(gw.port, { method: "POST", path: `${path}?${query}`, headers: host, body: "signed" });
  t.is(real.status, 200);
  t.is(await ada.next(), "signed");
});

test("the embedded DynamoDB refuses browsers: no CORS, no preflight, no Scan with a fake signature, no health answer to find it by", async (t) => {
  const gw = await chatGateway();
  t.teardown(() => gw.close());
  const ada = await connect(`${gw.url}?name=Ada`);
  await whoAmI(ada);
  const port = portOf(gw.dynamodbEndpoint);
  const host = `127.0.0.1:${port}`;
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const scan = (headers: Record<string, string>) =>
    send(port, {
      method: "POST",
      headers: {
        Host: host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "DynamoDB_20120810.Scan",
        "x-amz-date": date,
        authorization: `AWS4-HMAC-SHA256 Credential=fake/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00`,
        ...headers,
      },
      body: JSON.stringify({ TableName: gw.tableName }),
    });

  const fromPage = await scan({ Origin: EVIL });
  const preflight = await send(port, {
    method: "OPTIONS",
    headers: { Host: host, Origin: EVIL, "Access-Control-Request-Method": "POST" },
  });
  const rebound = await scan({ Host: `${REBIND}:${port}` });
  const forged = await scan({});
  const health = await send(port, { headers: { Host: host } });

  for (const answer of [fromPage, preflight, rebound]) {
    t.is(answer.status, 403);
    t.is(answer.headers["access-control-allow-origin"], undefined);
    t.false(answer.body.includes(gw.apiId), "no row leaked");
  }
  t.is(forged.status, 400);
  t.regex(forged.body, /UnrecognizedClientException/);
  t.false(forged.body.includes(gw.apiId));
  t.is(health.status, 400, "unsigned, as every request must be");
  t.false(health.body.includes("healthy"));
  // The operator's own tools still work, signed with its keys.
  t.is((await gw.table.rows()).length, 1);
});

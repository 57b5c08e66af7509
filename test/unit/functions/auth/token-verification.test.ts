import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createTokenVerifier, TokenRefusedError } from "../../../../functions/auth/token-verification";
import { badTokens, guestToken, rsaKeyPair, type TokenSettings } from "../../../support/tokens";

const keys = rsaKeyPair();
const settings: TokenSettings = { ...keys, issuer: "websocket-chat/test", audience: "a1b2c3d4e5" };
const guest = createTokenVerifier({ mode: "guest", ...settings });

test("a guest token of the endpoint's key, issuer and audience admits its subject under its name", async (t) => {
  t.deepEqual(await guest(await guestToken(settings, { name: "  Ada  " })), {
    userId: "guest-00000000-0000-4000-8000-000000000001",
    name: "Ada",
  });
});

test("a token a little past its expiry still admits: 30 s of clock skew are allowed", async (t) => {
  const now = Math.floor(Date.now() / 1000);
  await t.notThrowsAsync(guest(await guestToken(settings, { exp: now - 20 })));
});

test("every kind of bad token is refused with TokenRefusedError, saying why", async (t) => {
  const reasons: string[] = [];
  for (const bad of await badTokens(settings)) {
    const error = await t.throwsAsync(guest(bad.token), { instanceOf: TokenRefusedError }, bad.case);
    reasons.push(`${bad.case}: ${error?.message}`);
  }
  t.log(reasons.join("\n"));
  t.true(reasons.every((reason) => /: \S/.test(reason)));
});

/** An OpenID Connect issuer on loopback: discovery document, JWKS, and tokens signed by its key. */
async function startIssuer(t: { teardown(fn: () => unknown): void }) {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "RS256", use: "sig" };
  const requests: string[] = [];
  let up = true;
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? "");
    if (!up) {
      response.writeHead(503).end();
      return;
    }
    const { port } = server.address() as AddressInfo;
    const issuer = `http://127.0.0.1:${port}/pool/`;
    const body =
      request.url === "/pool/.well-known/openid-configuration"
        ? { issuer, jwks_uri: `http://127.0.0.1:${port}/pool/jwks.json` }
        : request.url === "/pool/jwks.json"
          ? { keys: [jwk] }
          : undefined;
    response.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pool/`;
  const idToken = (claims: Record<string, unknown>, audience = "app-client") =>
    new SignJWT({ name: "Grace Hopper", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "key-1" })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject("3f1c0c9e-user")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
  return { issuer, idToken, requests, setUp: (value: boolean) => (up = value) };
}

test("oidc: an ID token of the issuer, found through its discovery document, admits its subject", async (t) => {
  const issuer = await startIssuer(t);
  const verify = createTokenVerifier({
    mode: "oidc",
    issuer: issuer.issuer,
    audience: "app-client",
    nameClaim: "cognito:username",
    algorithms: ["RS256"],
  });
  t.deepEqual(await verify(await issuer.idToken({ "cognito:username": "grace" })), {
    userId: "3f1c0c9e-user",
    name: "grace",
  });
  await verify(await issuer.idToken({ "cognito:username": "grace" }));
  t.deepEqual(issuer.requests, ["/pool/.well-known/openid-configuration", "/pool/jwks.json"], "keys are cached");
  await t.throwsAsync(verify(await issuer.idToken({ "cognito:username": "grace" }, "another-client")), {
    instanceOf: TokenRefusedError,
    message: /aud/,
  });
  await t.throwsAsync(verify(await issuer.idToken({})), {
    instanceOf: TokenRefusedError,
    message: /claim cognito:username: "name" must be a string/,
  });
});

test("oidc: an issuer that cannot be reached is a failure, not a refusal (API Gateway answers 500), and is retried", async (t) => {
  const issuer = await startIssuer(t);
  const verify = createTokenVerifier({
    mode: "oidc",
    issuer: issuer.issuer,
    audience: "app-client",
    nameClaim: "name",
    algorithms: ["RS256"],
  });
  issuer.setUp(false);
  const error = await t.throwsAsync(verify(await issuer.idToken({})));
  t.false(error instanceof TokenRefusedError);
  t.regex(error?.message ?? "", /openid-configuration answered 503/);
  issuer.setUp(true);
  t.is((await verify(await issuer.idToken({}))).name, "Grace Hopper");
});

test("oidc: a discovery document of another issuer is not trusted", async (t) => {
  const issuer = await startIssuer(t);
  const verify = createTokenVerifier({
    mode: "oidc",
    // The same server, named without the trailing slash its document gives: `iss` must match exactly.
    issuer: issuer.issuer.replace(/\/$/, ""),
    audience: "app-client",
    nameClaim: "name",
    algorithms: ["RS256"],
  });
  await t.throwsAsync(verify(await issuer.idToken({})), { message: /is for issuer/ });
});

test("oidc: keys that cannot be fetched are a failure; a key the issuer does not publish is a refusal", async (t) => {
  const issuer = await startIssuer(t);
  const config = {
    mode: "oidc",
    issuer: issuer.issuer,
    audience: "app-client",
    nameClaim: "name",
    algorithms: ["RS256"],
  };
  const noKeys = createTokenVerifier({ ...config, mode: "oidc", jwksUri: `${issuer.issuer}missing.json` });
  const failure = await t.throwsAsync(noKeys(await issuer.idToken({})));
  t.false(failure instanceof TokenRefusedError, String(failure));

  const { privateKey } = await generateKeyPair("RS256");
  const unknownKey = await new SignJWT({ name: "Mallory" })
    .setProtectedHeader({ alg: "RS256", kid: "key-2" })
    .setIssuer(issuer.issuer)
    .setAudience("app-client")
    .setSubject("mallory")
    .setExpirationTime("5m")
    .sign(privateKey);
  await t.throwsAsync(createTokenVerifier({ ...config, mode: "oidc" })(unknownKey), {
    instanceOf: TokenRefusedError,
    message: /JWKSNoMatchingKey/,
  });
});

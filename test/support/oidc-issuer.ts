/**
 * A stand-in OIDC issuer for the page's sign-in, answering as Cognito's hosted UI does: an
 * authorize endpoint that signs the configured user in at once and redirects back with
 * `?code=&state=`, a token endpoint that takes the code with its PKCE verifier (S256 only, the code
 * once, the redirect URI it was issued for) from a form POST and answers CORS `*`, and the
 * discovery document and keys the `$connect` authorizer fetches. It records every request.
 * https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html
 * https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html
 */
import { createHash, createPublicKey, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, SignJWT } from "jose";
import { rsaKeyPair } from "./tokens";

export interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
}

export interface StandInIssuer {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  /** Redirect URIs registered for the client (exact match, as Cognito's callback URLs). */
  redirectUris: string[];
  /** Who signs in at the authorize endpoint: the claims of the ID tokens it issues. */
  user: Record<string, unknown>;
  /** Claims written over the next ID tokens' (a nonce of another sign-in, say). */
  tamper: Record<string, unknown>;
  /** Holds the browser at the authorize endpoint (a sign-in form nobody fills in) instead of redirecting. */
  hold: boolean;
  /** Each request, by path: the query's or the form's parameters. */
  requests: Array<{ path: string; params: Record<string, string> }>;
  /** A code as the authorize endpoint would issue it for `code` (someone's own sign-in, elsewhere). */
  issueCode(code: IssuedCode): string;
  /** An ID token for the user, signed with the issuer's key. */
  idToken(claims?: Record<string, unknown>): Promise<string>;
}

/** The PKCE S256 challenge of a verifier (RFC 7636, 4.2). */
export const pkceChallenge = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

export async function startStandInIssuer(
  t: { teardown(fn: () => Promise<void>): void },
  clientId = "chat-page-client",
): Promise<StandInIssuer> {
  const { privateKey } = rsaKeyPair();
  const jwk = { ...(await exportJWK(createPublicKey(privateKey))), kid: "stand-in-1", alg: "RS256", use: "sig" };
  const codes = new Map<string, IssuedCode>();
  const server = createServer((request, response) => {
    answer(request, response).catch((error: Error) => send(response, 500, { error: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer: StandInIssuer = {
    issuer: base,
    authorizationEndpoint: `${base}/oauth2/authorize`,
    tokenEndpoint: `${base}/oauth2/token`,
    clientId,
    redirectUris: [],
    user: { sub: "user-ada-0001", name: "Ada" },
    tamper: {},
    hold: false,
    requests: [],
    issueCode(code) {
      const value = randomUUID();
      codes.set(value, code);
      return value;
    },
    idToken(claims = {}) {
      return new SignJWT({ ...issuer.user, ...claims })
        .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
        .setIssuer(base)
        .setAudience(clientId)
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(privateKey);
    },
  };

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", base);
    const params = Object.fromEntries(
      request.method === "POST" ? new URLSearchParams(await body(request)) : url.searchParams,
    );
    issuer.requests.push({ path: url.pathname, params });
    if (url.pathname === "/.well-known/openid-configuration") {
      const { authorizationEndpoint, tokenEndpoint } = issuer;
      const discovery = { authorization_endpoint: authorizationEndpoint, token_endpoint: tokenEndpoint };
      return send(response, 200, { issuer: base, jwks_uri: `${base}/jwks.json`, ...discovery });
    }
    if (url.pathname === "/jwks.json") return send(response, 200, { keys: [jwk] });
    if (url.pathname === "/oauth2/authorize") return authorize(params, response);
    if (url.pathname === "/oauth2/token" && request.method === "POST") return token(params, response);
    send(response, 404, { error: "not_found" });
  }

  function authorize(params: Record<string, string>, response: ServerResponse): void {
    const wrong =
      (params.response_type !== "code" && "response_type must be code") ||
      (params.client_id !== clientId && "unknown client_id") ||
      (!issuer.redirectUris.includes(params.redirect_uri ?? "") && "redirect_uri is not registered") ||
      (params.code_challenge_method !== "S256" && "code_challenge_method must be S256") ||
      (!params.code_challenge && "code_challenge is missing") ||
      (!(params.scope ?? "").split(" ").includes("openid") && "scope must include openid");
    if (wrong) {
      send(response, 400, { error: "invalid_request", error_description: wrong });
      return;
    }
    if (issuer.hold) {
      response.writeHead(200, { "content-type": "text/html" }).end("<p>Sign in</p>");
      return;
    }
    const redirectUri = params.redirect_uri as string;
    const code = issuer.issueCode({
      clientId,
      redirectUri,
      codeChallenge: params.code_challenge as string,
      nonce: params.nonce,
    });
    const back = new URL(redirectUri);
    back.searchParams.set("code", code);
    if (params.state) back.searchParams.set("state", params.state);
    response.writeHead(302, { location: back.href }).end();
  }

  async function token(params: Record<string, string>, response: ServerResponse): Promise<void> {
    const code = codes.get(params.code ?? "");
    codes.delete(params.code ?? "");
    const wrong =
      (params.grant_type !== "authorization_code" && "unsupported_grant_type") ||
      ((!code || code.clientId !== params.client_id || code.redirectUri !== params.redirect_uri) && "invalid_grant") ||
      (code && pkceChallenge(params.code_verifier ?? "") !== code.codeChallenge && "invalid_grant");
    if (wrong || !code) return send(response, 400, { error: wrong || "invalid_grant" });
    const idToken = await issuer.idToken({ ...(code.nonce && { nonce: code.nonce }), ...issuer.tamper });
    send(response, 200, { id_token: idToken, access_token: randomUUID(), token_type: "Bearer", expires_in: 600 });
  }

  return issuer;
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** JSON, with CORS for any origin, as Cognito's token endpoint answers. */
function send(response: ServerResponse, status: number, json: object): void {
  response
    .writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*" })
    .end(JSON.stringify(json));
}

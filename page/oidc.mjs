/*
 * Signing in with an OIDC issuer (a Cognito user pool's hosted UI, Auth0, ...): the
 * authorization-code flow with PKCE (S256), `state` and `nonce` (RFC 7636; OpenID Connect Core 1.0,
 * 3.1). The page sends the browser to the issuer with a fresh state, nonce and code challenge, kept
 * in this tab's session storage; the issuer sends it back with `?code=&state=`. An answer whose
 * state this tab did not send is refused before anything is exchanged (a link from elsewhere would
 * sign the reader in as someone else); the code and its verifier go to the token endpoint, and the
 * ID token is used only if it carries this sign-in's nonce, issuer and client.
 */

const PENDING_KEY = "chat.oidc.pending";
/** What an issuer's answer adds to the page's address. */
const ANSWER_PARAMS = ["code", "state", "error", "error_description", "error_uri", "iss", "session_state"];

/** The page's own address, where the issuer sends the browser back (registered with the issuer). */
const redirectUri = (oidc) => oidc.redirectUri || `${location.origin}/`;

/** Sends the browser to the issuer to sign in; it comes back to this page with a code. */
export async function beginSignIn(oidc) {
  const pending = { state: randomToken(), nonce: randomToken(), verifier: randomToken(), returnTo: location.search };
  try {
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  } catch {
    throw new Error("Cannot sign in: this browser keeps no session storage for the page, which sign-in needs");
  }
  const target = new URL(oidc.authorizationEndpoint);
  const parameters = {
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectUri(oidc),
    scope: oidc.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pending.verifier))),
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  location.assign(target.href);
}

/**
 * The issuer's answer, if the page's address holds one: taken out of the address (which becomes
 * what it was before the sign-in), checked, and exchanged. Resolves to `{ idToken, claims }`, or
 * null without an answer; rejects, saying why, when the answer is refused or the exchange fails.
 */
export async function completeSignIn(oidc) {
  const answer = new URLSearchParams(location.search);
  if (!answer.has("code") && !answer.has("error")) return null;
  const pending = takePending();
  const expected = pending !== null && answer.get("state") === pending.state;
  restoreAddress(answer, expected ? pending.returnTo : null);
  if (!expected) {
    throw new Error("Sign-in refused: its answer carries a state this page did not send (a link from elsewhere?)");
  }
  if (answer.has("error")) {
    throw new Error(`Sign-in failed: ${answer.get("error_description") || answer.get("error")}`);
  }
  const idToken = await exchange(oidc, answer.get("code") ?? "", pending.verifier);
  const claims = claimsOf(idToken);
  if (claims.nonce !== pending.nonce) {
    throw new Error("Sign-in refused: the ID token's nonce is not the one this sign-in sent");
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== oidc.issuer || !audiences.includes(oidc.clientId)) {
    throw new Error("Sign-in refused: the ID token is not from this page's issuer, or not for its client");
  }
  return { idToken, claims };
}

/** The sign-in under way in this tab, forgotten as it is read: an answer is taken once. */
function takePending() {
  try {
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null");
    sessionStorage.removeItem(PENDING_KEY);
    return pending && typeof pending.state === "string" ? pending : null;
  } catch {
    return null;
  }
}

/** The address without the answer: as it was before the sign-in, or (for an answer not expected) as it is. */
function restoreAddress(answer, returnTo) {
  let search = returnTo;
  if (search === null) {
    const rest = new URLSearchParams(answer);
    for (const name of ANSWER_PARAMS) rest.delete(name);
    search = rest.size > 0 ? `?${rest}` : "";
  }
  history.replaceState(null, "", `${location.pathname}${search}`);
}

/** The code and its PKCE verifier for an ID token, at the token endpoint (a public client: no secret). */
async function exchange(oidc, code, verifier) {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: oidc.clientId,
    code,
    redirect_uri: redirectUri(oidc),
    code_verifier: verifier,
  });
  let response;
  try {
    response = await fetch(oidc.tokenEndpoint, { method: "POST", body: form, cache: "no-store" });
  } catch (error) {
    throw new Error(`Sign-in failed: the token endpoint cannot be reached (${error.message})`);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok || typeof body.id_token !== "string") {
    const why = body.error_description || body.error;
    throw new Error(`Sign-in failed: the token endpoint answered ${response.status}${why ? ` (${why})` : ""}`);
  }
  return body.id_token;
}

/**
 * The ID token's claims, read but not verified: it came straight from the token endpoint over TLS
 * (OpenID Connect Core 1.0, 3.1.3.7), and the `$connect` authorizer verifies its signature.
 */
function claimsOf(idToken) {
  try {
    const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
    if (claims && typeof claims === "object") return claims;
  } catch {
    // Reported below.
  }
  throw new Error("Sign-in failed: the token endpoint's answer holds no readable ID token");
}

/** 32 random bytes, base64url: a state, a nonce, or a PKCE verifier (43 characters, RFC 7636 4.1). */
function randomToken() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function base64url(bytes) {
  const binary = String.fromCharCode(...new Uint8Array(bytes));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

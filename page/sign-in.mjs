/*
 * Signing in: the token the WebSocket URL carries as `?token=` (a browser cannot set headers on a
 * WebSocket, so the authorizer's identity source is `route.request.querystring.token`).
 *   guest: POST {"name"} to the token endpoint, which answers {token, expiresAt, userId, name};
 *   oidc:  an ID token handed to the page in its URL fragment (`#id_token=`, where an identity
 *          provider's implicit flow redirects to), read once and taken out of the address bar;
 *   none:  no token, the open chat.
 */

/** A token this close to its expiry (or a quarter of its life, if shorter) is not used for a new connection. */
const RENEW_MARGIN_MS = 60_000;

/** A refusal only the person can fix (a name the endpoint will not take): not retried. */
export class SignInError extends Error {}

export function createSignIn({ auth, tokenUrl }) {
  let idToken = auth === "oidc" ? takeIdTokenFromFragment() : null;
  /** The guest token held: `{ token, renewAtMs, userId, name, askedFor }`. */
  let held = null;
  /** Bumped by each token request: only the latest one's answer is kept (a name changed twice quickly). */
  let latest = 0;

  async function guestToken(name) {
    if (held && held.askedFor === name && Date.now() < held.renewAtMs) return held.token;
    held = null;
    const request = ++latest;
    if (!name) throw new SignInError("Pick a name to join the chat");
    let response;
    try {
      response = await fetch(tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name }),
        cache: "no-store",
      });
    } catch (error) {
      throw new Error(`the token endpoint cannot be reached (${error.message})`);
    }
    const body = await response.json().catch(() => ({}));
    if (response.status === 400) throw new SignInError(body.message || "That name cannot be used");
    if (!response.ok || typeof body.token !== "string") {
      throw new Error(`the token endpoint answered ${response.status}${body.message ? `: ${body.message}` : ""}`);
    }
    if (request !== latest) throw new Error("a newer sign-in has begun");
    const expiresAtMs = body.expiresAt * 1000;
    const renewAtMs = expiresAtMs - Math.min(RENEW_MARGIN_MS, (expiresAtMs - Date.now()) / 4);
    held = { ...body, renewAtMs, askedFor: name };
    return held.token;
  }

  return {
    auth,
    /** Whether names come from the token (and a message's own `name` is ignored by the server). */
    verified: auth === "guest" || auth === "oidc",
    /** The signed-in guest, once a token is held: `{ userId, name }`. */
    get user() {
      return held && { userId: held.userId, name: held.name };
    },
    /** The URL to open for `name`: `url` with a token, fetched anew unless one is held for it. */
    async urlFor(url, name) {
      let token = null;
      if (auth === "guest") token = await guestToken(name);
      else if (auth === "oidc") {
        if (!idToken)
          throw new SignInError("Sign in with your identity provider: this page takes its ID token from #id_token=");
        token = idToken;
      }
      if (token === null) return url;
      const withToken = new URL(url);
      withToken.searchParams.set("token", token);
      return withToken.href;
    },
    /** After a refused handshake: the held token (a guest's, or an ID token) is not offered again. */
    forget() {
      held = null;
      idToken = null;
    },
  };
}

function takeIdTokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get("id_token");
  if (token) history.replaceState(null, "", location.pathname + location.search);
  return token;
}

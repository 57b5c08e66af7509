/*
 * Signing in: the token the WebSocket URL carries as `?token=` (a browser cannot set headers on a
 * WebSocket, so the authorizer's identity source is `route.request.querystring.token`).
 *   guest: POST {"name"} to the token endpoint config.json names, which answers
 *          {token, expiresAt, userId, name};
 *   oidc:  an ID token from the issuer config.json names, by the authorization-code flow with PKCE
 *          (./oidc.mjs), started by the Sign in button;
 *   none:  no token, the open chat.
 */
import { beginSignIn, completeSignIn } from "./oidc.mjs";

/** A token this close to its expiry (or a quarter of its life, if shorter) is not used for a new connection. */
const RENEW_MARGIN_MS = 60_000;

/** A refusal only the person can fix (a name the endpoint will not take): not retried. */
export class SignInError extends Error {}

/** The token held, `{ token, renewAtMs, userId, name }`: renewed this long before it expires. */
function holding(token, expiresAtMs, identity) {
  const renewAtMs = expiresAtMs - Math.min(RENEW_MARGIN_MS, (expiresAtMs - Date.now()) / 4);
  return { token, renewAtMs, ...identity };
}

/**
 * The page's sign-in, as `config` says (its `tokenUrl` read at each request, so a link's choice
 * counts). With OIDC, an answer of the issuer's in the address is taken first, and `button` starts
 * a sign-in.
 */
export async function createSignIn(config, button) {
  const { auth } = config;
  /** The token held: a guest's (with the name it was asked for, `askedFor`) or an ID token. */
  let held = null;
  /** Bumped by each token request: only the latest one's answer is kept (a name changed twice quickly). */
  let latest = 0;
  /** OIDC: why the last sign-in brought no token, said until the next one. */
  let problem = "";

  async function guestToken(name) {
    if (held && held.askedFor === name && Date.now() < held.renewAtMs) return held.token;
    held = null;
    const request = ++latest;
    if (!name) throw new SignInError("Pick a name to join the chat");
    let response;
    try {
      response = await fetch(config.tokenUrl, {
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
    held = { ...holding(body.token, body.expiresAt * 1000, { userId: body.userId, name: body.name }), askedFor: name };
    return held.token;
  }

  /** The ID token held, or why there is none, with the button to sign in. */
  function idToken() {
    if (held && Date.now() < held.renewAtMs) return held.token;
    if (!config.oidc) {
      throw new SignInError("This page cannot sign you in: its config.json names no identity provider to sign in with");
    }
    const why = problem || (held ? "Your sign-in has expired" : "Sign in to join the chat");
    button.hidden = false;
    throw new SignInError(`${why}: use Sign in (${new URL(config.oidc.authorizationEndpoint).host})`);
  }

  if (auth === "oidc" && config.oidc) {
    const { oidc } = config;
    button.addEventListener("click", () => {
      button.disabled = true;
      beginSignIn(oidc).catch((error) => {
        button.disabled = false;
        button.title = error.message;
      });
    });
    try {
      const signedIn = await completeSignIn(oidc);
      if (signedIn) {
        const { claims } = signedIn;
        const name = typeof claims[oidc.nameClaim] === "string" ? claims[oidc.nameClaim].trim() : "";
        held = holding(signedIn.idToken, Number(claims.exp) * 1000, { userId: String(claims.sub), name });
      }
    } catch (error) {
      problem = error.message;
    }
  }

  return {
    auth,
    /** Whether names come from the token (and a message's own `name` is ignored by the server). */
    verified: auth === "guest" || auth === "oidc",
    /** Who is signed in, once a token is held: `{ userId, name }`. */
    get user() {
      return held && { userId: held.userId, name: held.name };
    },
    /** The URL to open for `name`: `url` with a token, fetched anew unless one is held for it. */
    async urlFor(url, name) {
      let token = null;
      if (auth === "guest") token = await guestToken(name);
      else if (auth === "oidc") token = idToken();
      if (token === null) return url;
      button.hidden = true;
      const withToken = new URL(url);
      withToken.searchParams.set("token", token);
      return withToken.href;
    },
    /** After a refused handshake: the token held (a guest's, or an ID token) is not offered again. */
    forget() {
      if (auth === "oidc" && held) problem = "The chat refused your sign-in (it may have expired)";
      held = null;
    },
  };
}

/*
 * Signing in: the token the WebSocket URL carries as `?token=` (a browser cannot set headers on a
 * WebSocket, so the authorizer's identity source is `route.request.querystring.token`), handed to
 * the client library as its token provider, which asks before each handshake.
 *   guest: the library's guest sign-in, at the token endpoint config.json names;
 *   oidc:  an ID token from the issuer config.json names, by the authorization-code flow with PKCE
 *          (./oidc.mjs), started by the Sign in button;
 *   none:  no token, the open chat.
 */
import { guestSignIn, SignInRefusedError } from "./chat-client.mjs";
import { beginSignIn, completeSignIn } from "./oidc.mjs";

/** An ID token this close to its expiry (or a quarter of its life, if shorter) is not used for a new connection. */
const RENEW_MARGIN_MS = 60_000;

/**
 * The page's sign-in, as `config` says (its `tokenUrl` read at each sign-in, so a link's choice
 * counts). With OIDC, an answer of the issuer's in the address is taken first, and `button` starts
 * a sign-in.
 */
export async function createSignIn(config, button) {
  const { auth } = config;
  /** Guests: the sign-in of the name last asked for. */
  let guest = null;
  /** OIDC: the ID token held, `{ token, renewAtMs, userId, name }`. */
  let held = null;
  /** OIDC: why the last sign-in brought no token, said until the next one. */
  let problem = "";

  /** The ID token held, or why there is none, with the button to sign in. */
  function idToken(renew) {
    if (renew && held) {
      problem = "The chat refused your sign-in (it may have expired)";
      held = null;
    }
    if (held && Date.now() < held.renewAtMs) {
      button.hidden = true;
      return held.token;
    }
    if (!config.oidc) {
      throw new SignInRefusedError(
        "This page cannot sign you in: its config.json names no identity provider to sign in with",
      );
    }
    const why = problem || (held ? "Your sign-in has expired" : "Sign in to join the chat");
    button.hidden = false;
    throw new SignInRefusedError(`${why}: use Sign in (${new URL(config.oidc.authorizationEndpoint).host})`);
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
        const expiresAt = Number(claims.exp) * 1000;
        const renewAtMs = expiresAt - Math.min(RENEW_MARGIN_MS, (expiresAt - Date.now()) / 4);
        held = { token: signedIn.idToken, renewAtMs, userId: String(claims.sub), name };
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
      if (auth === "guest") return guest?.user;
      return held && { userId: held.userId, name: held.name };
    },
    /** The client's token provider for a connection under `name` (guests), or none for the open chat. */
    tokenFor(name) {
      if (auth === "guest") {
        guest = guestSignIn({ tokenUrl: config.tokenUrl, name });
        return guest.token;
      }
      if (auth === "oidc") return idToken;
      return undefined;
    },
  };
}

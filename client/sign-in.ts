/**
 * Guests' sign-in: a display name POSTed to the stack's token endpoint (`{"name"}`), which answers
 * `{token, expiresAt, userId, name}` or, for a name it will not take, 400 `{message}`. The token is
 * needed for `$connect` alone (a connection outlives it), so it is kept for the handshakes to come
 * and renewed only when one is due near its expiry, or was refused with it.
 */

import type { TokenProvider } from "./connection";
import { SignInRefusedError } from "./errors";

/** Who a token says the client is. */
export interface SignedInUser {
  userId: string;
  name: string;
}

export interface GuestSignInOptions {
  /** The token endpoint (`tokenUrl` of the stack's outputs; `/auth/token` on the local gateway). */
  tokenUrl: string;
  name: string;
  /** Renew a token this long before it expires (at most a quarter of its life). Default 60 s. */
  renewMarginMs?: number;
  fetch?: typeof fetch;
}

export interface GuestSignIn {
  /** The client's `token` option ({@link TokenProvider}). */
  token(renew: boolean): Promise<string>;
  /** Who the last token is for (the endpoint normalises the name), once one is held. */
  readonly user: SignedInUser | undefined;
}

interface Held extends SignedInUser {
  token: string;
  renewAt: number;
}

export function guestSignIn(options: GuestSignInOptions): GuestSignIn {
  const margin = options.renewMarginMs ?? 60_000;
  const fetchToken = options.fetch ?? globalThis.fetch;
  let held: Held | undefined;

  async function signIn(): Promise<Held> {
    let response: Response;
    try {
      response = await fetchToken(options.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: options.name }),
      });
    } catch (error) {
      throw new Error(`the token endpoint cannot be reached (${error instanceof Error ? error.message : error})`);
    }
    const body = (await response.json().catch(() => ({}))) as Partial<Held & { expiresAt: number; message: string }>;
    if (response.status === 400) throw new SignInRefusedError(body.message || "That name cannot be used");
    if (!response.ok || typeof body.token !== "string" || typeof body.expiresAt !== "number") {
      throw new Error(`the token endpoint answered ${response.status}${body.message ? `: ${body.message}` : ""}`);
    }
    const expiresAt = body.expiresAt * 1000;
    return {
      token: body.token,
      renewAt: expiresAt - Math.min(margin, (expiresAt - Date.now()) / 4),
      userId: String(body.userId),
      name: String(body.name),
    };
  }

  return {
    async token(renew) {
      if (!options.name.trim()) throw new SignInRefusedError("Pick a name to join the chat");
      if (renew || !held || Date.now() >= held.renewAt) held = await signIn();
      return held.token;
    },
    get user() {
      return held && { userId: held.userId, name: held.name };
    },
  };
}

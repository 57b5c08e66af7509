/**
 * What the chat page (`page/`) is told about signing in with an OIDC issuer, and the
 * Content-Security-Policy it is served with: the page's token may go only where these name, so the
 * stack that publishes the page (`infra/chat-page.ts`) and the local gateway that serves it declare
 * them here, once.
 */
import type { OidcAuthSettings } from "./auth-config";

/** The page's OIDC sign-in (`page/oidc.mjs`): the authorization-code flow with PKCE, `state` and `nonce`. */
export interface PageOidcConfig {
  /** The `iss` the ID token must carry. */
  issuer: string;
  /** The app client the page signs in as: a public client (no secret), the ID token's `aud`. */
  clientId: string;
  /** Where the page sends the browser to sign in. */
  authorizationEndpoint: string;
  /** Where the page exchanges the code (and its PKCE verifier) for an ID token. */
  tokenEndpoint: string;
  scope: string;
  /** The claim the authorizer shows as the display name, so the page can say who signed in. */
  nameClaim: string;
  /** Where the issuer sends the browser back (registered with it); default: the page's origin and `/`. */
  redirectUri?: string;
}

export const DEFAULT_OIDC_SCOPE = "openid profile";
const DEFAULT_NAME_CLAIM = "name";

/** The page's sign-in for an issuer, or undefined when its endpoints are not set (the page then cannot sign in). */
export function pageOidcConfig(settings: OidcAuthSettings, redirectUri?: string): PageOidcConfig | undefined {
  const { authorizationEndpoint, tokenEndpoint } = settings;
  if (!authorizationEndpoint || !tokenEndpoint) return undefined;
  return {
    issuer: settings.issuer,
    clientId: settings.audience,
    authorizationEndpoint,
    tokenEndpoint,
    scope: settings.scope ?? DEFAULT_OIDC_SCOPE,
    nameClaim: settings.nameClaim ?? DEFAULT_NAME_CLAIM,
    ...(redirectUri && { redirectUri }),
  };
}

/**
 * The page's policy: its own files only, no inline script, no plugins, not framed, and connections
 * (`fetch`, WebSocket) only to its own origin and `connectSources` (origins, or a host pattern).
 */
export function pageContentSecurityPolicy(connectSources: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${[...new Set(["'self'", ...connectSources])].join(" ")}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

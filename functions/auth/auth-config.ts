/**
 * Identity settings: who may connect (the stack's `auth`), and what the `$connect` authorizer and the
 * token endpoint read from their environment, checked once per cold start.
 */
import type { RateLimits } from "../limits/rate-limits";
import { ConfigError, environmentReader, rateLimitSettings } from "../runtime/function-config";

/**
 * Who may connect: `guest` (a display name, vouched for by a short-lived token from the token
 * endpoint), `oidc` (an ID token from an external issuer: a Cognito user pool, Auth0, ...) or
 * `none` (anyone, under any name they give: the open chat).
 */
type AuthMode = "guest" | "oidc" | "none";
export const AUTH_MODES: readonly AuthMode[] = ["guest", "oidc", "none"];

/** Who may connect, as a stack sets it (`auth`, `tokenTtlSeconds`, `oidc*`); the local gateway takes the same. */
export type AuthSettings = { mode: "none" } | GuestAuthSettings | OidcAuthSettings;

export interface GuestAuthSettings {
  mode: "guest";
  /** How long a guest token admits its holder (default 900 s). */
  tokenTtlSeconds?: number;
  /** Origins whose pages may call the token endpoint (CORS); default: the page's own. */
  allowedOrigins?: string[];
  /**
   * The token endpoint's reserved concurrency: its share of the account's, and its most, so a
   * flood cannot take the concurrency the chat's routes need. Default: none reserved (an account
   * below its default quota may have none to reserve).
   */
  reservedConcurrency?: number;
}

export interface OidcAuthSettings {
  mode: "oidc";
  /** The issuer's URL, as its tokens' `iss` names it. */
  issuer: string;
  /** The app client id ID tokens are issued to (and the one the page signs in as). */
  audience: string;
  /** The claim shown as the display name (default `name`). */
  nameClaim?: string;
  /** The issuer's keys (default: its discovery document's `jwks_uri`). */
  jwksUri?: string;
  /** Signature algorithms accepted (default `RS256`). */
  algorithms?: string[];
  /**
   * The page's sign-in, the authorization-code flow with PKCE: the issuer's `authorization_endpoint`
   * and `token_endpoint` (its discovery document names them). Without them the page cannot sign in.
   */
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  /** The scopes the page asks for (default `openid profile`; `openid` is what brings an ID token). */
  scope?: string;
}

/** The `$connect` authorizer's environment for an OIDC issuer, in the cloud and locally. */
export function oidcAuthorizerEnvironment(settings: OidcAuthSettings): Record<string, string> {
  return {
    AUTH_MODE: "oidc",
    OIDC_ISSUER: settings.issuer,
    OIDC_AUDIENCE: settings.audience,
    ...(settings.nameClaim && { OIDC_NAME_CLAIM: settings.nameClaim }),
    ...(settings.jwksUri && { OIDC_JWKS_URI: settings.jwksUri }),
    ...(settings.algorithms && { OIDC_ALGORITHMS: settings.algorithms.join(",") }),
  };
}

/** What the `$connect` authorizer reads from its environment. */
export type AuthorizerConfig =
  | {
      mode: "guest";
      /** `TOKEN_ISSUER`, `TOKEN_AUDIENCE`: the `iss` and `aud` a guest token must carry. */
      issuer: string;
      audience: string;
      /** `TOKEN_PUBLIC_KEY`: the PEM (SPKI) public half of the key that signs guest tokens. */
      publicKeyPem: string;
    }
  | {
      mode: "oidc";
      /** `OIDC_ISSUER`, `OIDC_AUDIENCE`: the `iss` and `aud` (the app client id) an ID token must carry. */
      issuer: string;
      audience: string;
      /** `OIDC_JWKS_URI`: the issuer's keys; default: the `jwks_uri` of its discovery document. */
      jwksUri?: string;
      /** `OIDC_NAME_CLAIM`: the claim shown as the display name (default `name`). */
      nameClaim: string;
      /** `OIDC_ALGORITHMS`: signature algorithms accepted, comma-separated (default `RS256`). */
      algorithms: string[];
    };

/** What the token endpoint reads from its environment. */
export interface TokenEndpointConfig {
  issuer: string;
  audience: string;
  /** `TOKEN_TTL_SECONDS`: how long a guest token admits its holder (default 900). */
  ttlSeconds: number;
  /** `TOKEN_KMS_KEY_ID`: the asymmetric KMS key that signs (the cloud; locally a key made at start). */
  kmsKeyId?: string;
  region?: string;
  /** `RATE_LIMITS` (its `tokens` budget) and `LIMITS_TABLE_NAME`: how many tokens one address may ask for. */
  rateLimits?: RateLimits;
  limitsTableName?: string;
}

/** Guest tokens: RS256 (RSASSA-PKCS1-v1_5 with SHA-256), what KMS signs with an RSA key. */
export const GUEST_TOKEN_ALGORITHM = "RS256";
const DEFAULT_TOKEN_TTL_SECONDS = 15 * 60;
/** Asymmetric algorithms only: a shared secret (HS256) would let the verifier mint tokens too. */
export const ALLOWED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];

export function readAuthorizerConfig(env: Record<string, string | undefined> = process.env): AuthorizerConfig {
  const { required, url } = environmentReader(env);
  const mode = required("AUTH_MODE");
  if (mode === "guest") {
    return {
      mode,
      issuer: required("TOKEN_ISSUER"),
      audience: required("TOKEN_AUDIENCE"),
      publicKeyPem: required("TOKEN_PUBLIC_KEY"),
    };
  }
  if (mode !== "oidc") throw new ConfigError(`AUTH_MODE must be guest or oidc, got ${JSON.stringify(mode)}`);
  const algorithms = (env.OIDC_ALGORITHMS?.trim() || "RS256").split(",").map((name) => name.trim());
  const refused = algorithms.filter((name) => !ALLOWED_ALGORITHMS.includes(name));
  if (refused.length > 0) {
    throw new ConfigError(`OIDC_ALGORITHMS may name ${ALLOWED_ALGORITHMS.join(", ")}; got ${refused.join(", ")}`);
  }
  return {
    mode,
    // Verbatim: `iss` must match it exactly, trailing slash (Auth0) and all.
    issuer: issuerUrl(required("OIDC_ISSUER")),
    audience: required("OIDC_AUDIENCE"),
    jwksUri: url("OIDC_JWKS_URI"),
    nameClaim: env.OIDC_NAME_CLAIM?.trim() || "name",
    algorithms,
  };
}

export function readTokenEndpointConfig(env: Record<string, string | undefined> = process.env): TokenEndpointConfig {
  const { required, integer } = environmentReader(env);
  return {
    issuer: required("TOKEN_ISSUER"),
    audience: required("TOKEN_AUDIENCE"),
    ttlSeconds: integer("TOKEN_TTL_SECONDS", DEFAULT_TOKEN_TTL_SECONDS, 30, 24 * 60 * 60),
    kmsKeyId: env.TOKEN_KMS_KEY_ID?.trim() || undefined,
    region: env.AWS_REGION?.trim() || undefined,
    ...rateLimitSettings(env),
  };
}

function issuerUrl(value: string): string {
  let protocol = "";
  try {
    protocol = new URL(value).protocol;
  } catch {
    // Reported below.
  }
  if (protocol !== "https:" && protocol !== "http:") {
    throw new ConfigError(`OIDC_ISSUER must be the issuer's URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

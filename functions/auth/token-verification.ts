/**
 * Reads a token presented on `$connect`, with jose: signature, `exp`/`nbf` (30 s of clock skew),
 * `iss`, `aud` and an allow-list of algorithms (so neither `alg: none` nor an HS256 token "signed"
 * with the public key passes), then the display name it vouches for.
 */

import {
  createRemoteJWKSet,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import { ProjectError } from "../../dal/errors";
import { validateDisplayName } from "../chat/display-name";
import { type AuthorizerConfig, GUEST_TOKEN_ALGORITHM } from "./auth-config";

/** Who a valid token says its holder is. */
interface VerifiedIdentity {
  /** `sub`: `guest-{uuid}` for a guest, the issuer's user id for an account. */
  userId: string;
  name: string;
}

/** A token that admits no one; `message` says why, for the authorizer's log (never for the client). */
export class TokenRefusedError extends ProjectError {
  override get name(): string {
    return "TokenRefusedError";
  }
}

export type TokenVerifier = (token: string) => Promise<VerifiedIdentity>;

/** Tokens longer than this are refused unread: no issuer's ID token comes near it. */
const MAX_TOKEN_LENGTH = 8 * 1024;
const CLOCK_TOLERANCE_SECONDS = 30;

export function createTokenVerifier(config: AuthorizerConfig): TokenVerifier {
  const options = (algorithms: string[]): JWTVerifyOptions => ({
    issuer: config.issuer,
    audience: config.audience,
    algorithms,
    requiredClaims: ["sub", "exp"],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  });
  if (config.mode === "guest") {
    const key = importSPKI(config.publicKeyPem, GUEST_TOKEN_ALGORITHM);
    // A bad key fails each verification (a 500), not the process with an unhandled rejection.
    key.catch(() => {});
    const guestOptions = options([GUEST_TOKEN_ALGORITHM]);
    return verifier("name", async () => {
      const publicKey = await key;
      return (token) => jwtVerify(token, publicKey, guestOptions);
    });
  }
  // The issuer's keys, fetched on first use and then as jose's cache and cooldown allow.
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const oidcOptions = options(config.algorithms);
  return verifier(config.nameClaim, async () => {
    keys ??= discoverJwksUri(config.issuer, config.jwksUri).then(
      (uri) => createRemoteJWKSet(new URL(uri)),
      (error: unknown) => {
        keys = undefined; // Try again on the next token: the issuer may be back.
        throw error;
      },
    );
    const getKey = await keys;
    return (token) => jwtVerify(token, getKey, oidcOptions);
  });
}

/**
 * jose's errors that are the token's fault; any other (the issuer's keys cannot be fetched or
 * read) is a failure of the authorizer, which API Gateway answers with 500, not 401. An array, not
 * a Set: Pulumi's closure serializer captures module values, and a Set arrives as a plain object.
 */
const TOKEN_ERRORS: readonly unknown[] = [
  "ERR_JWS_INVALID",
  "ERR_JWT_INVALID",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JWT_EXPIRED",
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  // Also an issuer's key of a type jose cannot use; but a client's token can cause it too, and a
  // client must not be able to make the authorizer fail (500, and an alarm) at will.
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
];

function verifier(
  nameClaim: string,
  verification: () => Promise<(token: string) => Promise<{ payload: JWTPayload }>>,
): TokenVerifier {
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenRefusedError(`token is ${token.length} characters`);
    const verify = await verification();
    let payload: JWTPayload;
    try {
      ({ payload } = await verify(token));
    } catch (error) {
      if (!TOKEN_ERRORS.includes((error as { code?: unknown }).code)) throw error;
      throw new TokenRefusedError(`${(error as Error).name}: ${(error as Error).message}`, { cause: error });
    }
    const name = validateDisplayName(payload[nameClaim]);
    if ("error" in name) throw new TokenRefusedError(`claim ${nameClaim}: ${name.error}`);
    return { userId: String(payload.sub), name: name.value };
  };
}

/** The issuer's `jwks_uri`, from its OpenID Connect discovery document unless configured. */
async function discoverJwksUri(issuer: string, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0, section 4.3: the document's issuer must be the one asked for.
  if (document.issuer !== issuer) throw new Error(`${url} is for issuer ${JSON.stringify(document.issuer)}`);
  if (typeof document.jwks_uri !== "string") throw new Error(`${url} has no jwks_uri`);
  return document.jwks_uri;
}

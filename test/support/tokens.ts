/** Tokens for tests: good ones signed like the token endpoint's, and every kind of bad one. */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { SignJWT, UnsecuredJWT } from "jose";
import { issueToken, localTokenSigner, signingKey } from "../../functions/auth/token-signing";

/** An RSA key pair in PEM, the form the gateway and the authorizer take keys in. */
export function rsaKeyPair(): { privateKeyPem: string; publicKeyPem: string; privateKey: KeyObject } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return { privateKeyPem, publicKeyPem: signingKey(privateKeyPem).publicKeyPem, privateKey };
}

export interface TokenSettings {
  privateKeyPem: string;
  publicKeyPem: string;
  issuer: string;
  audience: string;
}

const now = () => Math.floor(Date.now() / 1000);

/** A guest token as the token endpoint issues it, with `overrides` applied to its claims. */
export function guestToken(settings: TokenSettings, overrides: Record<string, unknown> = {}): Promise<string> {
  const claims = {
    iss: settings.issuer,
    aud: settings.audience,
    sub: "guest-00000000-0000-4000-8000-000000000001",
    name: "Ada",
    iat: now(),
    nbf: now(),
    exp: now() + 600,
    ...overrides,
  };
  return issueToken(localTokenSigner(createPrivateKey(settings.privateKeyPem)), claims as never);
}

/** Each way a token can be wrong, and the token; every one must be refused. */
export async function badTokens(settings: TokenSettings): Promise<Array<{ case: string; token: string }>> {
  const good = await guestToken(settings);
  const [header, payload, signature] = good.split(".") as [string, string, string];
  const other = rsaKeyPair();
  const claims = { iss: settings.issuer, aud: settings.audience, sub: "guest-x", name: "Mallory" };
  return [
    { case: "empty", token: "" },
    { case: "not a JWT", token: "hello" },
    { case: "truncated", token: good.slice(0, good.length - 20) },
    { case: "no signature", token: `${header}.${payload}.` },
    { case: "expired", token: await guestToken(settings, { iat: now() - 3600, nbf: now() - 3600, exp: now() - 60 }) },
    { case: "not yet valid", token: await guestToken(settings, { nbf: now() + 600, exp: now() + 1200 }) },
    { case: "forged signature (another key)", token: await guestToken({ ...settings, ...other }) },
    {
      case: "payload swapped under a valid signature",
      token: `${header}.${Buffer.from(JSON.stringify({ ...claims, exp: now() + 600 })).toString("base64url")}.${signature}`,
    },
    { case: "alg: none", token: new UnsecuredJWT({ ...claims, exp: now() + 600 }).encode() },
    {
      // The public key is no secret: an HS256 verifier that took it as one would accept this.
      case: "HS256 signed with the public key (algorithm confusion)",
      token: await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setExpirationTime("10m")
        .sign(Buffer.from(settings.publicKeyPem)),
    },
    { case: "wrong issuer", token: await guestToken(settings, { iss: "someone-else" }) },
    { case: "wrong audience", token: await guestToken(settings, { aud: "another-api" }) },
    { case: "no expiry", token: await guestToken(settings, { exp: undefined }) },
    { case: "name with control characters", token: await guestToken(settings, { name: "Ada\u0007" }) },
    { case: "16 KB token", token: await guestToken(settings, { padding: "x".repeat(16 * 1024) }) },
  ];
}

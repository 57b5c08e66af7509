/**
 * Guest tokens: JWTs signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3). In the
 * cloud the private key never leaves KMS, which signs the JWS signing input itself; locally a key
 * made at start signs the same input with Node's crypto. jose cannot sign with a key it does not
 * hold, so the compact serialization (RFC 7515 section 7.1) is assembled here from jose's
 * base64url; reading a token, the security-critical half, is jose's alone (`token-verification.ts`).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { KMSClient, type KMSClientConfig, SignCommand } from "@aws-sdk/client-kms";
import { base64url } from "jose";
import { GUEST_TOKEN_ALGORITHM } from "./auth-config";

/** Signs bytes with RSASSA-PKCS1-v1_5 and SHA-256: the raw signature, as JWS RS256 carries it. */
export interface TokenSigner {
  sign(data: Uint8Array): Promise<Uint8Array>;
}

interface GuestClaims {
  iss: string;
  aud: string;
  /** The guest's id: `guest-{uuid}`, the authorizer's `principalId`. */
  sub: string;
  name: string;
  /** Epoch seconds. */
  iat: number;
  nbf: number;
  exp: number;
}

/** The compact JWS of `claims`, signed by `signer`. */
export async function issueToken(signer: TokenSigner, claims: GuestClaims): Promise<string> {
  const json = (value: object) => base64url.encode(JSON.stringify(value));
  const signingInput = `${json({ alg: GUEST_TOKEN_ALGORITHM, typ: "JWT" })}.${json(claims)}`;
  const signature = await signer.sign(Buffer.from(signingInput, "ascii"));
  return `${signingInput}.${base64url.encode(signature)}`;
}

/**
 * KMS signs with an RSA_2048 `SIGN_VERIFY` key; `RSASSA_PKCS1_V1_5_SHA_256` over the RAW message
 * returns the PKCS #1 v1.5 signature bytes, which is what RS256 puts in a JWS (KMS's ECDSA
 * signatures, by contrast, are DER and would need re-encoding for ES256).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 */
export function kmsTokenSigner(client: Pick<KMSClient, "send">, keyId: string): TokenSigner {
  return {
    async sign(data) {
      const { Signature } = await client.send(
        new SignCommand({
          KeyId: keyId,
          Message: data,
          MessageType: "RAW",
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
      );
      if (!Signature) throw new Error("KMS returned no signature");
      return Signature;
    },
  };
}

/** A KMS client of `client`'s settings (region, and locally endpoint and keys) signing with `keyId`. */
export function createKmsTokenSigner(keyId: string, client: KMSClientConfig = {}): TokenSigner {
  // One retry at most: a throttled KMS (its request quota is the account's) is not retried into a storm.
  return kmsTokenSigner(new KMSClient({ ...client, maxAttempts: 2 }), keyId);
}

/** Signs with an RSA private key held in this process (the local gateway's). */
export function localTokenSigner(privateKey: KeyObject): TokenSigner {
  return { sign: async (data) => sign("sha256", data, privateKey) };
}

/**
 * The signer of an RSA private key (PEM) and its PEM public key; without one, of a key pair made
 * now, as the local gateway makes at start.
 */
export function signingKey(privateKeyPem?: string): { signer: TokenSigner; publicKeyPem: string } {
  const privateKey = privateKeyPem
    ? createPrivateKey(privateKeyPem)
    : generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  if (privateKey.asymmetricKeyType !== "rsa") throw new Error("the token signing key must be an RSA key");
  return {
    signer: localTokenSigner(privateKey),
    publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
  };
}

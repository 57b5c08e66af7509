/**
 * KMS's `Sign`, replayed in process for the functions the gateway runs: an asymmetric RSA key made
 * at start (or given), whose private half stays here as it stays in KMS; the SDK's KMS client
 * reaches it through a transport of its own (`requestHandler`), signing and parsing as against AWS.
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 * - The caller's role must allow `kms:Sign` on the key's ARN, else HTTP 400 `__type`
 *   `AccessDeniedException` (no namespace, awsJson1_1) with `Message` "User: ... is not authorized
 *   to perform: kms:Sign on resource: ... because no identity-based policy allows the kms:Sign
 *   action" (captured: aws/aws-nitro-enclaves-sdk-c#127, ecadlabs/signatory#366), and a line of the
 *   execution log naming action and resource.
 * - RAW messages signed `RSASSA_PKCS1_V1_5_SHA_256` are replayed; other algorithms or a DIGEST are
 *   refused (ValidationException) rather than signed differently from KMS.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { executionLogLine } from "../execution-log";
import { deniedNote, LOCAL_ACCOUNT_ID, type LocalIam, notAuthorizedMessage } from "../iam/local-iam";
import { authenticate } from "../iam/sigv4";

interface SdkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: unknown;
}

interface LocalSigningKey {
  /** `arn:aws:kms:{region}:{account}:key/{id}`: `KeyId` in `Sign`, the resource IAM decides on. */
  arn: string;
  publicKeyPem: string;
}

export class LocalKms {
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly options: { iam: LocalIam; log: (line: string) => void }) {}

  /** An RSA signing key: the given private key (PEM), else a 2048-bit one made now. */
  createSigningKey(privateKeyPem?: string): LocalSigningKey {
    const privateKey = privateKeyPem
      ? createPrivateKey(privateKeyPem)
      : generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    if (privateKey.asymmetricKeyType !== "rsa") throw new Error("the token signing key must be an RSA key");
    const arn = `arn:aws:kms:${this.options.iam.region}:${LOCAL_ACCOUNT_ID}:key/${randomUUID()}`;
    this.keys.set(arn, privateKey);
    return { arn, publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString() };
  }

  /** The transport of a KMS client: answers `Sign` in process. */
  requestHandler() {
    return {
      metadata: { handlerProtocol: "http/1.1" },
      handle: async (request: SdkRequest) => {
        const { status, body } = await this.answer(request);
        const json = Buffer.from(JSON.stringify(body));
        return {
          response: {
            statusCode: status,
            headers: { "x-amzn-requestid": randomUUID(), "content-type": "application/x-amz-json-1.1" },
            body: new Uint8Array(json),
          },
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
      destroy() {},
    };
  }

  private async answer(request: SdkRequest): Promise<{ status: number; body: object }> {
    const { iam, log } = this.options;
    const header = (name: string) => Object.entries(request.headers).find(([key]) => key.toLowerCase() === name)?.[1];
    const signed = await authenticate(
      { method: request.method, path: request.path, query: {}, header },
      { service: "kms", region: iam.region, iam, maxSkewMinutes: 15, recompute: false },
    );
    if ("refusal" in signed)
      return { status: 400, body: { __type: signed.refusal.type, message: signed.refusal.message } };
    if (header("x-amz-target") !== "TrentService.Sign") {
      return { status: 400, body: { __type: "UnknownOperationException", message: "only Sign is replayed" } };
    }
    // The SDK's JSON body is a Uint8Array that would turn itself into a string (with a warning) if asked.
    const bytes = request.body as Uint8Array;
    const input = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as Record<
      string,
      string
    >;
    // A key id or its ARN, as KMS takes either.
    const keyId =
      [...this.keys.keys()].find((arn) => arn === input.KeyId || arn.endsWith(`/${input.KeyId}`)) ??
      String(input.KeyId);
    const action = "kms:Sign";
    const decision = iam.decide(signed.principal, action, keyId);
    if (decision !== "allowed") {
      log(
        executionLogLine({
          requestId: randomUUID(),
          what: "KMS Sign",
          status: 400,
          note: deniedNote(signed.principal, action, keyId),
        }),
      );
      return {
        status: 400,
        body: {
          __type: "AccessDeniedException",
          Message: notAuthorizedMessage(signed.principal, action, keyId, decision),
        },
      };
    }
    const key = this.keys.get(keyId);
    if (!key) return { status: 400, body: { __type: "NotFoundException", message: `Key '${keyId}' does not exist` } };
    if (input.SigningAlgorithm !== "RSASSA_PKCS1_V1_5_SHA_256" || (input.MessageType ?? "RAW") !== "RAW") {
      return {
        status: 400,
        body: {
          __type: "ValidationException",
          message: "only RAW messages signed RSASSA_PKCS1_V1_5_SHA_256 are replayed",
        },
      };
    }
    const signature = sign("sha256", Buffer.from(String(input.Message), "base64"), key);
    return {
      status: 200,
      body: { KeyId: keyId, Signature: signature.toString("base64"), SigningAlgorithm: input.SigningAlgorithm },
    };
  }
}

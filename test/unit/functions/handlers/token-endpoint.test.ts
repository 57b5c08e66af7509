import { createPrivateKey, sign } from "node:crypto";
import type { KMSClient, SignCommand } from "@aws-sdk/client-kms";
import test from "ava";
import sinon from "sinon";
import { kmsTokenSigner, type TokenSigner } from "../../../../functions/auth/token-signing";
import { createTokenVerifier } from "../../../../functions/auth/token-verification";
import {
  createTokenHandler,
  MAX_TOKEN_REQUEST_BYTES,
  type TokenResponse,
} from "../../../../functions/handlers/token-endpoint";
import type { HttpRequestEvent } from "../../../../functions/runtime/lambda-events";
import { functionUrlEvent } from "../../../support/function-fixtures";
import { rsaKeyPair } from "../../../support/tokens";

const NOW = 1_800_000_000_000;
const keys = rsaKeyPair();
const config = { issuer: "websocket-chat/test", audience: "a1b2c3d4e5", ttlSeconds: 900 };
const verify = createTokenVerifier({ mode: "guest", ...config, publicKeyPem: keys.publicKeyPem });

/** A function URL's event at NOW. */
const request = (body: string | undefined, method = "POST", isBase64Encoded = false) =>
  functionUrlEvent(body, { method, isBase64Encoded, timeEpoch: NOW });

/** A KMS client stub that signs as KMS does for RSASSA_PKCS1_V1_5_SHA_256 over a RAW message. */
function kmsStub() {
  const key = createPrivateKey(keys.privateKeyPem);
  const send = sinon.stub().callsFake(async (command: SignCommand) => ({
    Signature: sign("sha256", command.input.Message as Uint8Array, key),
  }));
  return { client: { send } as unknown as Pick<KMSClient, "send">, send };
}

function handlerWith(signer: TokenSigner) {
  const logger = { error: sinon.stub() };
  return { handler: createTokenHandler({ signer, config, now: () => NOW, logger }), logger };
}

test("POST {name} answers 200 with a token KMS signed, which the authorizer's verifier accepts", async (t) => {
  const kms = kmsStub();
  const { handler } = handlerWith(kmsTokenSigner(kms.client, "alias/chat-tokens"));
  const result = await handler(request(JSON.stringify({ name: " Ada " })));
  t.is(result.statusCode, 200);
  t.like(result.headers, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  const body = JSON.parse(result.body ?? "") as TokenResponse;
  t.is(body.name, "Ada");
  t.regex(body.userId, /^guest-[0-9a-f-]{36}$/);
  t.is(body.expiresAt, NOW / 1000 + 900);

  const { input } = kms.send.firstCall.args[0] as SignCommand;
  t.like(input, { KeyId: "alias/chat-tokens", MessageType: "RAW", SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" });
  t.is(Buffer.from(input.Message as Uint8Array).toString(), body.token.split(".").slice(0, 2).join("."));

  // Issued at NOW, which is the past: the verifier's clock is the real one, so pin exp ahead of it.
  const fresh = createTokenHandler({ signer: kmsTokenSigner(kms.client, "k"), config, now: Date.now, logger: console });
  const token = (JSON.parse((await fresh(request('{"name":"Ada"}'))).body ?? "") as TokenResponse).token;
  t.like(await verify(token), { name: "Ada" });
});

test("each guest gets a user id of its own, even under the same name", async (t) => {
  const { handler } = handlerWith(kmsTokenSigner(kmsStub().client, "k"));
  const ids = await Promise.all(
    [1, 2, 3].map(
      async () => (JSON.parse((await handler(request('{"name":"Ada"}'))).body ?? "") as TokenResponse).userId,
    ),
  );
  t.is(new Set(ids).size, 3);
});

const badRequests: Array<[string, HttpRequestEvent, number, RegExp]> = [
  ["no body", request(undefined), 400, /not valid JSON/],
  ["not JSON", request("name=Ada"), 400, /not valid JSON/],
  ["a JSON string", request('"Ada"'), 400, /must be a JSON object/],
  ["an array", request('["Ada"]'), 400, /must be a JSON object/],
  ["no name", request("{}"), 400, /"name" must be a string/],
  ["a number as name", request('{"name":7}'), 400, /"name" must be a string/],
  ["an empty name", request('{"name":""}'), 400, /must not be empty/],
  ["65 characters", request(JSON.stringify({ name: "x".repeat(65) })), 400, /65 characters; the limit is 64/],
  ["a control character", request(JSON.stringify({ name: "Ada\u0007" })), 400, /control/],
  [
    "a body too large",
    request(JSON.stringify({ name: "Ada", pad: "x".repeat(MAX_TOKEN_REQUEST_BYTES) })),
    400,
    /limit is 1024/,
  ],
  ["GET", request(undefined, "GET"), 405, /Use POST/],
];
for (const [what, event, status, message] of badRequests) {
  test(`refused, nothing signed: ${what}`, async (t) => {
    const kms = kmsStub();
    const { handler } = handlerWith(kmsTokenSigner(kms.client, "k"));
    const result = await handler(event);
    t.is(result.statusCode, status);
    t.regex((JSON.parse(result.body ?? "") as { message: string }).message, message);
    t.is(kms.send.callCount, 0);
  });
}

test("a base64 body (a function URL's way with non-text content types) is read too", async (t) => {
  const { handler } = handlerWith(kmsTokenSigner(kmsStub().client, "k"));
  const result = await handler(request(Buffer.from('{"name":"Ada"}').toString("base64"), "POST", true));
  t.is(result.statusCode, 200);
});

test("KMS failing: 503 with a clear message, the cause logged with the request id", async (t) => {
  const failing: TokenSigner = { sign: sinon.stub().rejects(new Error("ThrottlingException: Rate exceeded")) };
  const { handler, logger } = handlerWith(failing);
  const result = await handler(request('{"name":"Ada"}'));
  t.is(result.statusCode, 503);
  t.regex(result.body ?? "", /No token can be issued right now/);
  t.regex(logger.error.firstCall.args[0], /c6af9ac6-7b61-11e6-9a41-93e8deadbeef/);
});

test("KMS answering without a signature is a failure, not a token", async (t) => {
  const signer = kmsTokenSigner({ send: sinon.stub().resolves({}) } as unknown as Pick<KMSClient, "send">, "k");
  await t.throwsAsync(signer.sign(Buffer.from("x")), { message: "KMS returned no signature" });
});

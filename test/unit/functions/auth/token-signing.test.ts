/**
 * Signing guest tokens with KMS: a KMS that throttles (its request quota is the whole account's)
 * is asked once more at most, not three times, so a flood of token requests does not turn into a
 * storm of retries. A local stand-in answers as KMS does (JSON 1.1, `ThrottlingException`,
 * https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html), reached through the
 * SDK's own endpoint variable.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { createKmsTokenSigner } from "../../../../functions/auth/token-signing";

test("a throttling KMS is asked twice at most, then the signature fails", async (t) => {
  // Prepare
  let requests = 0;
  const kms = createServer((request, response) => {
    requests++;
    request.resume();
    response.writeHead(400, { "content-type": "application/x-amz-json-1.1" });
    response.end(JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }));
  });
  await new Promise<void>((resolve) => kms.listen(0, "127.0.0.1", resolve));
  t.teardown(() => kms.close());
  const saved = { ...process.env };
  t.teardown(() => {
    process.env = saved;
  });
  process.env.AWS_ENDPOINT_URL_KMS = `http://127.0.0.1:${(kms.address() as AddressInfo).port}`;
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";

  // Act
  const signing = createKmsTokenSigner("alias/guest-tokens", { region: "us-east-1" }).sign(new Uint8Array([1, 2, 3]));

  // Assess
  await t.throwsAsync(signing, { name: "ThrottlingException" });
  t.is(requests, 2);
});

import test from "ava";
import sinon from "sinon";
import { TokenRefusedError } from "../../../../functions/auth/token-verification";
import { createAuthorizerHandler } from "../../../../functions/handlers/authorizer";
import { authorizerEvent, METHOD_ARN } from "../../../support/function-fixtures";

function setup(verify: (token: string) => Promise<{ userId: string; name: string }>) {
  const verifyToken = sinon.spy(verify);
  const logger = { warn: sinon.stub() };
  return { handler: createAuthorizerHandler({ verifyToken, logger }), verifyToken, logger };
}

test("a valid token: a policy allowing exactly this $connect, the user as principal and as context", async (t) => {
  const { handler, verifyToken } = setup(async () => ({ userId: "guest-1", name: "Ada" }));
  const result = await handler(authorizerEvent({ token: "good" }));
  t.deepEqual(verifyToken.firstCall.args, ["good"]);
  t.deepEqual(result, {
    principalId: "guest-1",
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: METHOD_ARN }],
    },
    context: { userId: "guest-1", name: "Ada" },
  });
});

test('a refused token fails with exactly "Unauthorized" (API Gateway\'s 401) and logs why, with the connection', async (t) => {
  const { handler, logger } = setup(async () => {
    throw new TokenRefusedError('JWTExpired: "exp" claim timestamp check failed');
  });
  await t.throwsAsync(handler(authorizerEvent({ token: "old" })), { message: "Unauthorized" });
  t.is(logger.warn.callCount, 1);
  t.is(
    logger.warn.firstCall.args[0],
    'connection BFHPhfCWIAMCKlQ= refused: JWTExpired: "exp" claim timestamp check failed',
  );
});

test("no token at all is refused the same way, without a crash", async (t) => {
  const { handler, verifyToken } = setup(async (token) => {
    throw new TokenRefusedError(`empty: ${JSON.stringify(token)}`);
  });
  await t.throwsAsync(handler(authorizerEvent()), { message: "Unauthorized" });
  t.deepEqual(verifyToken.firstCall.args, [""]);
});

test("any other failure (the issuer unreachable) passes through: API Gateway answers 500, not 401", async (t) => {
  const { handler, logger } = setup(async () => {
    throw new Error("fetch failed");
  });
  await t.throwsAsync(handler(authorizerEvent({ token: "x" })), { message: "fetch failed" });
  t.regex(logger.warn.firstCall.args[0], /not authorized, the authorizer failed: fetch failed$/);
});

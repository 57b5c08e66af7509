import { createPrivateKey, sign } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import anyTest, { type TestFn } from "ava";
import {
  type Factory,
  invokePacked,
  measure,
  type Packages,
  packFunctions,
  runPacked,
} from "../../../bench/deployed-packages";
import { createAuthorizerHandler } from "../../../functions/handlers/authorizer";
import { createTokenHandler, type TokenResponse } from "../../../functions/handlers/token-endpoint";
import { connectAuthorizer, tokenEndpoint } from "../../../functions/routes";
import type { AuthorizerResult, HttpResult } from "../../../functions/runtime/lambda-events";
import { authorizerFactory, tokenEndpointFactory } from "../../../infra/chat-auth";
import { authorizerEvent, functionUrlEvent, METHOD_ARN } from "../../support/function-fixtures";
import { guestToken, rsaKeyPair } from "../../support/tokens";

/**
 * The identity functions as deployed, each run on its own in a fresh Node: the token endpoint signs
 * through the real KMS client (pointed, by the SDK's own `AWS_ENDPOINT_URL_KMS`, at a stand-in that
 * speaks KMS's JSON protocol and signs as KMS does), and the authorizer verifies what it issued.
 */

interface KmsCall {
  target: string;
  input: { KeyId?: string; Message?: string; MessageType?: string; SigningAlgorithm?: string };
  /** The access key id the request was signed with. */
  accessKeyId?: string;
}

interface Context {
  packages: Packages;
  kms: Server;
  kmsUrl: string;
  kmsCalls: KmsCall[];
  publicKeyPem: string;
}

const test = anyTest as TestFn<Context>;
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const GUEST_TOKENS = { TOKEN_ISSUER: "websocket-chat/dev", TOKEN_AUDIENCE: "abc123defg" };

/** KMS Sign (https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html) for one RSA key. */
function startKms(privateKeyPem: string, calls: KmsCall[]): Promise<Server> {
  const key = createPrivateKey(privateKeyPem);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const target = String(request.headers["x-amz-target"]);
      const input = JSON.parse(Buffer.concat(chunks).toString() || "{}") as KmsCall["input"];
      const accessKeyId = /Credential=([^/]+)\//.exec(String(request.headers.authorization))?.[1];
      calls.push({ target, input, ...(accessKeyId && { accessKeyId }) });
      const reply = (status: number, body: object) => {
        response.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        response.end(JSON.stringify(body));
      };
      if (target !== "TrentService.Sign") return reply(400, { __type: "UnknownOperationException" });
      if (input.KeyId !== KEY_ARN) return reply(400, { __type: "NotFoundException", message: "Key not found" });
      const signature = sign("sha256", Buffer.from(input.Message ?? "", "base64"), key);
      reply(200, { KeyId: KEY_ARN, Signature: signature.toString("base64"), SigningAlgorithm: input.SigningAlgorithm });
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

test.before(async (t) => {
  const keys = rsaKeyPair();
  const kmsCalls: KmsCall[] = [];
  const kms = await startKms(keys.privateKeyPem, kmsCalls);
  const packages = await packFunctions(
    new Map<string, Factory>([
      ["authorizer", authorizerFactory()],
      ["token", tokenEndpointFactory()],
    ]),
  );
  const { port } = kms.address() as AddressInfo;
  t.context = { packages, kms, kmsUrl: `http://127.0.0.1:${port}`, kmsCalls, publicKeyPem: keys.publicKeyPem };
});

test.after.always(async (t) => {
  const context = t.context as Partial<Context>;
  context.kms?.closeAllConnections();
  await new Promise((resolve) => context.kms?.close(resolve) ?? resolve(undefined));
  if (context.packages) rmSync(context.packages.workDir, { recursive: true, force: true });
});

function issue(context: Context, body: string, keyArn = KEY_ARN): Promise<HttpResult> {
  return invokePacked(context.packages, "token", functionUrlEvent(body), {
    ...GUEST_TOKENS,
    TOKEN_KMS_KEY_ID: keyArn,
    AWS_ENDPOINT_URL_KMS: context.kmsUrl,
  });
}

function authorize(context: Context, token: string): Promise<AuthorizerResult> {
  return invokePacked(context.packages, "authorizer", authorizerEvent({ token }), {
    AUTH_MODE: "guest",
    ...GUEST_TOKENS,
    TOKEN_PUBLIC_KEY: context.publicKeyPem,
  });
}

test.serial("the packed token endpoint has KMS sign a token that the packed authorizer admits", async (t) => {
  t.context.kmsCalls.length = 0;
  const result = await issue(t.context, '{"name":"Ada"}');
  t.is(result.statusCode, 200, result.body);
  const body = JSON.parse(result.body ?? "") as TokenResponse;
  t.is(body.name, "Ada");
  t.deepEqual(
    t.context.kmsCalls.map(({ target, input }) => [target, input.KeyId, input.MessageType, input.SigningAlgorithm]),
    [["TrentService.Sign", KEY_ARN, "RAW", "RSASSA_PKCS1_V1_5_SHA_256"]],
  );

  const policy = await authorize(t.context, body.token);
  t.is(policy.principalId, body.userId);
  t.deepEqual(policy.context, { userId: body.userId, name: "Ada" });
  t.deepEqual(policy.policyDocument.Statement, [
    { Action: "execute-api:Invoke", Effect: "Allow", Resource: METHOD_ARN },
  ]);
});

test.serial("the packed authorizer refuses a token it did not issue with Unauthorized", async (t) => {
  const result = await issue(t.context, '{"name":"Ada"}');
  const token = (JSON.parse(result.body ?? "") as TokenResponse).token;
  const tampered = `${token.slice(0, token.lastIndexOf(".") + 1)}${"A".repeat(342)}`;
  await t.throwsAsync(authorize(t.context, tampered), { message: /Error: Unauthorized/ });
});

test.serial(
  "the packed authorizer logs no ERROR for a refusal, only for a failure: the alarm counts its ERROR lines",
  async (t) => {
    // The lines a run wrote at ERROR: Powertools' JSON lines (Lambda's runtime adds an `Invoke Error` line of its own).
    const errorLines = async (run: Promise<unknown>) => {
      const failed = (await run.catch((error: unknown) => error)) as { lines: (Record<string, unknown> | string)[] };
      return failed.lines.filter((line) => typeof line === "object" && line.level === "ERROR");
    };

    const refused = await errorLines(
      runPacked(t.context.packages, "authorizer", authorizerEvent({ token: "forged.token.here" }), {
        AUTH_MODE: "guest",
        ...GUEST_TOKENS,
        TOKEN_PUBLIC_KEY: t.context.publicKeyPem,
      }),
    );
    // An issuer whose keys cannot be fetched: the authorizer cannot tell, and fails (500).
    const keys = rsaKeyPair();
    const token = await guestToken({ ...keys, issuer: "https://issuer.example", audience: "app" });
    const failed = await errorLines(
      runPacked(t.context.packages, "authorizer", authorizerEvent({ token }), {
        AUTH_MODE: "oidc",
        OIDC_ISSUER: "https://issuer.example",
        OIDC_AUDIENCE: "app",
        OIDC_JWKS_URI: "http://127.0.0.1:9/jwks",
      }),
    );

    t.deepEqual(refused, [], "a refusal is the authorizer's answer (401), not a failure");
    t.is(failed.length, 1);
    t.like(failed[0], { message: "invocation failed", route: "authorizer" });
  },
);

test.serial("the packed token endpoint answers 400 to a bad name without calling KMS", async (t) => {
  t.context.kmsCalls.length = 0;
  const result = await issue(t.context, JSON.stringify({ name: "x".repeat(65) }));
  t.is(result.statusCode, 400);
  t.regex(JSON.parse(result.body ?? "").message, /the limit is 64/);
  t.deepEqual(t.context.kmsCalls, []);
});

test.serial("the packed token endpoint answers 503 when KMS refuses to sign", async (t) => {
  const result = await issue(t.context, '{"name":"Ada"}', `${KEY_ARN.slice(0, -1)}0`);
  t.is(result.statusCode, 503);
  t.regex(JSON.parse(result.body ?? "").message, /No token can be issued/);
});

test.serial(
  "without keys in its environment, the packed token endpoint gets its role's from the container endpoint, through the runtime's SDK",
  async (t) => {
    // The credential providers after the environment's are not bundled (LOADED_FROM_RUNTIME): on
    // Lambda NODE_PATH finds the runtime's SDK; here this project's node_modules stands for it.
    const credentials = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const expiration = new Date(Date.now() + 3_600_000).toISOString();
      response.end(
        JSON.stringify({ AccessKeyId: "ASIACONTAINER", SecretAccessKey: "s", Token: "t", Expiration: expiration }),
      );
    });
    await new Promise<void>((resolve) => credentials.listen(0, "127.0.0.1", resolve));
    const noKeys = {
      ...GUEST_TOKENS,
      TOKEN_KMS_KEY_ID: KEY_ARN,
      AWS_ENDPOINT_URL_KMS: t.context.kmsUrl,
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(credentials.address() as AddressInfo).port}/role`,
    };
    try {
      t.context.kmsCalls.length = 0;
      const issued = await invokePacked<HttpResult>(t.context.packages, "token", functionUrlEvent('{"name":"Ada"}'), {
        ...noKeys,
        NODE_PATH: join(__dirname, "..", "..", "..", "node_modules"),
      });
      t.is(issued.statusCode, 200, issued.body);
      t.deepEqual(
        t.context.kmsCalls.map((call) => call.accessKeyId),
        ["ASIACONTAINER"],
      );
      // Out of the runtime's reach, no provider: no token, and KMS never asked.
      t.context.kmsCalls.length = 0;
      const refused = await invokePacked<HttpResult>(
        t.context.packages,
        "token",
        functionUrlEvent('{"name":"Ada"}'),
        noKeys,
      );
      t.is(refused.statusCode, 503);
      t.deepEqual(t.context.kmsCalls, []);
    } finally {
      credentials.close();
    }
  },
);

test("each identity function's bundle holds only what it uses: its init loads no route's client", (t) => {
  const dependencies = Object.keys(
    (JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: object }).dependencies,
  );
  const bundled = (name: string) => {
    t.log(
      `${name}: __index.js ${measure(join(t.context.packages.dirs.get(name) as string, "__index.js"), "").bytes} bytes`,
    );
    return (t.context.packages.bundled.get(name) ?? []).filter((pkg) => dependencies.includes(pkg));
  };
  // Powertools' logger only: neither broadcasts, so neither holds the metrics; the authorizer no SDK
  // client; the token endpoint KMS's and DynamoDB's (each address's budget of tokens, in the limits table).
  t.deepEqual(bundled("authorizer"), ["@aws-lambda-powertools/logger", "jose"]);
  t.deepEqual(bundled("token"), [
    "@aws-lambda-powertools/logger",
    "@aws-sdk/client-dynamodb",
    "@aws-sdk/client-kms",
    "@aws-sdk/lib-dynamodb",
    "@aws-sdk/util-dynamodb",
    "jose",
  ]);
  // One handler for cloud and local: the route table's entries are the functions packed here.
  t.is(connectAuthorizer.createHandler, createAuthorizerHandler);
  t.is(tokenEndpoint.createHandler, createTokenHandler);
});

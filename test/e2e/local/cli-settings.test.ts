import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { STAGE_THROTTLING_DEFAULTS } from "../../../functions/routes";
import { ConfigError } from "../../../functions/runtime/function-config";

import { readCliSettings } from "../../../local/cli-settings";
import { startLocalGateway } from "../../../local/express-server";
import { readStackFile, stackThrottling } from "../../../local/stack-file";

test("LAMBDA_CONCURRENCY sets the local concurrency limit; unset keeps Lambda's default", (t) => {
  t.deepEqual(readCliSettings({ LAMBDA_CONCURRENCY: " 50 " }).limits, { concurrentExecutions: 50 });
  t.is(readCliSettings({}).limits, undefined);
  t.is(readCliSettings({ LAMBDA_CONCURRENCY: "" }).limits, undefined);
});

for (const value of ["0", "-1", "ten", "1.5", "1e3", "9999999"]) {
  test(`LAMBDA_CONCURRENCY=${value} is refused with an error naming the variable`, (t) => {
    const error = t.throws(() => readCliSettings({ LAMBDA_CONCURRENCY: value }), { instanceOf: ConfigError });
    t.regex(error?.message ?? "", /^LAMBDA_CONCURRENCY must be a whole number from 1 to 999999/);
  });
}

test("npm run local throttles as the dev stack's stage does, from Pulumi.dev.yaml; THROTTLING=off lifts it", (t) => {
  t.deepEqual(readCliSettings({}).throttling, { burstLimit: 100, rateLimit: 50 });
  // And what one user and one address may do, as the stack's functions get it (the defaults: the file sets none).
  t.like(JSON.parse(readCliSettings({}).functionEnvironment?.RATE_LIMITS ?? "{}"), {
    messages: { perUser: 20, perAddress: 100, seconds: 10 },
    connectionsPerUser: 10,
  });
  t.is(readCliSettings({ THROTTLING: "off" }).functionEnvironment?.RATE_LIMITS, undefined);
  t.is(readCliSettings({ THROTTLING: "off" }).throttling, undefined);
  t.deepEqual(
    readCliSettings({ STACK: "no-such-stack" }).throttling,
    STAGE_THROTTLING_DEFAULTS,
    "the program's defaults",
  );
  t.throws(() => readCliSettings({ THROTTLING: "maybe" }), {
    instanceOf: ConfigError,
    message: /^THROTTLING must be on or off/,
  });
});

test("a stack file with a bad throttling setting is refused, naming the file and the setting", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "stack-"));
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(path.join(dir, "Pulumi.dev.yaml"), 'config:\n  websocket-chat:throttlingRateLimit: "fast"\n');
  const error = t.throws(() => stackThrottling(readStackFile(dir, "dev")), { instanceOf: ConfigError });
  t.regex(error?.message ?? "", /Pulumi\.dev\.yaml: throttlingRateLimit must be a number of at least 0, got "fast"$/);
  writeFileSync(path.join(dir, "Pulumi.dev.yaml"), 'config:\n  websocket-chat:throttlingBurstLimit: "7"\n');
  // What the file leaves out is the program's default, as `pulumi up` would deploy it.
  t.deepEqual(stackThrottling(readStackFile(dir, "dev")), { burstLimit: 7, rateLimit: 500 });
});

test("npm run local signs guests in as the dev stack does; AUTH and TOKEN_TTL_SECONDS override it, AUTH=oidc needs its issuer", async (t) => {
  t.deepEqual(readCliSettings({}).auth, { mode: "guest" }, "Pulumi.dev.yaml sets auth: guest");
  t.deepEqual(readCliSettings({ AUTH: "none" }).auth, { mode: "none" });
  t.deepEqual(readCliSettings({ TOKEN_TTL_SECONDS: "120" }).auth, { mode: "guest", tokenTtlSeconds: 120 });
  t.throws(() => readCliSettings({ AUTH: "maybe" }), {
    instanceOf: ConfigError,
    message: /^AUTH must be guest, oidc or none/,
  });
  t.throws(() => readCliSettings({ AUTH: "oidc" }), {
    instanceOf: ConfigError,
    message: /needs OIDC_ISSUER and OIDC_AUDIENCE/,
  });
  // A TTL out of range stops the gateway at start, not at the first sign-in.
  await t.throwsAsync(
    startLocalGateway({ port: 0, log: () => {}, ...readCliSettings({ TOKEN_TTL_SECONDS: "5", WS_PORT: "0" }) }),
    { message: /TOKEN_TTL_SECONDS/ },
  );
});

test("ALLOWED_HOSTS and ALLOWED_ORIGINS are comma-separated lists; an origin that is not one is refused, naming the variable", (t) => {
  const settings = readCliSettings({
    ALLOWED_HOSTS: "devbox.local, chat.test",
    ALLOWED_ORIGINS: "http://localhost:5173",
  });
  t.deepEqual(settings.allowedHosts, ["devbox.local", "chat.test"]);
  t.deepEqual(settings.allowedOrigins, ["http://localhost:5173"]);
  t.deepEqual(readCliSettings({}).allowedOrigins, []);
  const error = t.throws(() => readCliSettings({ ALLOWED_ORIGINS: "http://localhost:5173/path" }), {
    instanceOf: ConfigError,
  });
  t.regex(error?.message ?? "", /^ALLOWED_ORIGINS must list origins like http:\/\/localhost:3000/);
});

test("the shell's AWS keys become the operator's, so its tools sign for the server as they are; without them the server makes some", (t) => {
  t.deepEqual(
    readCliSettings({ AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_SESSION_TOKEN: "token" })
      .credentials,
    { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token" },
  );
  t.is(readCliSettings({ AWS_ACCESS_KEY_ID: "AKIDEXAMPLE" }).credentials, undefined, "a key without its secret");
  t.is(readCliSettings({}).credentials, undefined);
});

test("AUTH=oidc: OIDC_AUTHORIZATION_ENDPOINT, OIDC_TOKEN_ENDPOINT and OIDC_SCOPE give the page its sign-in; a bad endpoint is named", (t) => {
  const cognito = "https://my-chat.auth.us-east-1.amazoncognito.com/oauth2";
  const oidc = {
    AUTH: "oidc",
    OIDC_ISSUER: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
    OIDC_AUDIENCE: "1example23456789",
  };
  t.like(
    readCliSettings({
      ...oidc,
      OIDC_AUTHORIZATION_ENDPOINT: `${cognito}/authorize`,
      OIDC_TOKEN_ENDPOINT: `${cognito}/token`,
      OIDC_SCOPE: "openid",
    }).auth,
    { mode: "oidc", authorizationEndpoint: `${cognito}/authorize`, tokenEndpoint: `${cognito}/token`, scope: "openid" },
  );
  t.throws(() => readCliSettings({ ...oidc, OIDC_TOKEN_ENDPOINT: "my-chat/token" }), {
    instanceOf: ConfigError,
    message: /^OIDC_TOKEN_ENDPOINT must be an http\(s\) URL/,
  });
});

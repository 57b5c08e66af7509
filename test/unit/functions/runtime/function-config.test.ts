import test from "ava";
import {
  ConfigError,
  DEFAULT_BROADCAST_CONCURRENCY,
  DEFAULT_CONNECTION_TTL_SECONDS,
  DEFAULT_MAX_MESSAGE_BYTES,
  readFunctionConfig,
} from "../../../../functions/runtime/function-config";

/** What Lambda sets for a deployed handler. */
const LAMBDA_ENV = {
  TABLE_NAME: "connections-1a2b3c",
  MESSAGES_TABLE_NAME: "messages-4d5e6f",
  AWS_REGION: "eu-west-1",
};

test("reads a Lambda environment and fills in the defaults", (t) => {
  // Act
  const config = readFunctionConfig(LAMBDA_ENV);

  // Assess
  t.deepEqual(config, {
    tableName: "connections-1a2b3c",
    messagesTableName: "messages-4d5e6f",
    historyTtlSeconds: 86_400,
    region: "eu-west-1",
    dynamodbEndpoint: undefined,
    managementEndpoint: undefined,
    broadcastConcurrency: 100,
    broadcastFunctionName: undefined,
    fanoutShardThreshold: 250,
    fanoutSliceSize: 1000,
    accountConcurrency: 1000,
    roomsPerConnection: 10,
    maxMessageBytes: 32768,
    connectionTtlSeconds: 7200,
    connectTimeoutMs: 29_000,
    credentials: undefined,
  });
  t.is(DEFAULT_BROADCAST_CONCURRENCY, 100);
  t.is(DEFAULT_MAX_MESSAGE_BYTES, 32 * 1024);
  t.is(DEFAULT_CONNECTION_TTL_SECONDS, 2 * 60 * 60);
});

test("reads every setting that is given", (t) => {
  // Prepare
  const env = {
    ...LAMBDA_ENV,
    DYNAMODB_ENDPOINT_URL: "http://localhost:4566/",
    MANAGEMENT_ENDPOINT_URL: "https://example.com/dev//",
    BROADCAST_CONCURRENCY: " 7 ",
    MAX_MESSAGE_BYTES: "1000",
    CONNECTION_TTL_SECONDS: "60",
    CONNECT_TIMEOUT_MS: "5000",
    HISTORY_TTL_SECONDS: "3600",
    BROADCAST_FUNCTION_NAME: " chat-dev-broadcast ",
    FANOUT_SHARD_THRESHOLD: "50",
    FANOUT_SLICE_SIZE: "400",
    ACCOUNT_CONCURRENCY: "10",
    RATE_LIMITS: '{"messages":{"perUser":5},"connectionsPerUser":3}',
    LIMITS_TABLE_NAME: " limits-7a8b9c ",
    ROOMS_PER_CONNECTION: "3",
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  };

  // Act
  const config = readFunctionConfig(env);

  // Assess
  t.deepEqual(config, {
    tableName: "connections-1a2b3c",
    messagesTableName: "messages-4d5e6f",
    historyTtlSeconds: 3600,
    region: "eu-west-1",
    dynamodbEndpoint: "http://localhost:4566",
    managementEndpoint: "https://example.com/dev",
    broadcastConcurrency: 7,
    broadcastFunctionName: "chat-dev-broadcast",
    fanoutShardThreshold: 50,
    fanoutSliceSize: 400,
    accountConcurrency: 10,
    // What RATE_LIMITS leaves out is the default.
    rateLimits: {
      messages: { perUser: 5, perAddress: 100, seconds: 10 },
      reads: { perUser: 20, perAddress: 100, seconds: 10 },
      typing: { perUser: 2, perAddress: 20, seconds: 6 },
      presence: { perUser: 5, perAddress: 50, seconds: 60 },
      connects: { perAddress: 300, seconds: 60 },
      tokens: { perAddress: 20, seconds: 60 },
      connectionsPerUser: 3,
    },
    limitsTableName: "limits-7a8b9c",
    roomsPerConnection: 3,
    maxMessageBytes: 1000,
    connectionTtlSeconds: 60,
    connectTimeoutMs: 5000,
    credentials: undefined,
  });
});

test("reads process.env when no environment is passed", (t) => {
  // Prepare
  const saved = {
    TABLE_NAME: process.env.TABLE_NAME,
    MESSAGES_TABLE_NAME: process.env.MESSAGES_TABLE_NAME,
    AWS_REGION: process.env.AWS_REGION,
  };
  t.teardown(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  process.env.TABLE_NAME = "from-process-env";
  process.env.MESSAGES_TABLE_NAME = "messages-from-process-env";
  process.env.AWS_REGION = "sa-east-1";

  // Act
  const config = readFunctionConfig();

  // Assess
  t.is(config.tableName, "from-process-env");
  t.is(config.region, "sa-east-1");
});

const rejects = test.macro({
  exec(t, env: Record<string, string | undefined>, variable: string) {
    // Act
    const error = t.throws(() => readFunctionConfig(env), { instanceOf: ConfigError });

    // Assess
    t.is(error?.name, "ConfigError");
    t.true(error?.message.startsWith(`${variable} `), error?.message);
  },
  title: (description, _env, variable) => `${description} is a ConfigError naming ${variable}`,
});

test("a missing TABLE_NAME", rejects, { AWS_REGION: "eu-west-1" }, "TABLE_NAME");
test("a blank TABLE_NAME", rejects, { TABLE_NAME: "   ", AWS_REGION: "eu-west-1" }, "TABLE_NAME");
test("a missing MESSAGES_TABLE_NAME", rejects, { TABLE_NAME: "c", AWS_REGION: "eu-west-1" }, "MESSAGES_TABLE_NAME");
test(
  "a missing AWS_REGION without a local endpoint",
  rejects,
  { TABLE_NAME: "connections", MESSAGES_TABLE_NAME: "messages" },
  "AWS_REGION",
);
test(
  "a HISTORY_TTL_SECONDS under a minute",
  rejects,
  { ...LAMBDA_ENV, HISTORY_TTL_SECONDS: "59" },
  "HISTORY_TTL_SECONDS",
);
test(
  "a zero FANOUT_SHARD_THRESHOLD",
  rejects,
  { ...LAMBDA_ENV, FANOUT_SHARD_THRESHOLD: "0" },
  "FANOUT_SHARD_THRESHOLD",
);
test("a fractional FANOUT_SLICE_SIZE", rejects, { ...LAMBDA_ENV, FANOUT_SLICE_SIZE: "10.5" }, "FANOUT_SLICE_SIZE");
const LIMITS = { ...LAMBDA_ENV, LIMITS_TABLE_NAME: "limits" };
test("RATE_LIMITS that is not JSON", rejects, { ...LIMITS, RATE_LIMITS: "{messages: 20}" }, "RATE_LIMITS");
test(
  "a negative budget in RATE_LIMITS",
  rejects,
  { ...LIMITS, RATE_LIMITS: '{"messages":{"perUser":-1}}' },
  "RATE_LIMITS: messages.perUser",
);
test(
  "a zero window in RATE_LIMITS",
  rejects,
  { ...LIMITS, RATE_LIMITS: '{"reads":{"seconds":0}}' },
  "RATE_LIMITS: reads.seconds",
);
test("RATE_LIMITS without LIMITS_TABLE_NAME", rejects, { ...LAMBDA_ENV, RATE_LIMITS: "{}" }, "LIMITS_TABLE_NAME");
test(
  "a non-numeric BROADCAST_CONCURRENCY",
  rejects,
  { ...LAMBDA_ENV, BROADCAST_CONCURRENCY: "many" },
  "BROADCAST_CONCURRENCY",
);
test(
  "a fractional BROADCAST_CONCURRENCY",
  rejects,
  { ...LAMBDA_ENV, BROADCAST_CONCURRENCY: "2.5" },
  "BROADCAST_CONCURRENCY",
);
test(
  "an exponent BROADCAST_CONCURRENCY",
  rejects,
  { ...LAMBDA_ENV, BROADCAST_CONCURRENCY: "1e2" },
  "BROADCAST_CONCURRENCY",
);
test("a hexadecimal MAX_MESSAGE_BYTES", rejects, { ...LAMBDA_ENV, MAX_MESSAGE_BYTES: "0x10" }, "MAX_MESSAGE_BYTES");
test("a zero BROADCAST_CONCURRENCY", rejects, { ...LAMBDA_ENV, BROADCAST_CONCURRENCY: "0" }, "BROADCAST_CONCURRENCY");
test(
  "a BROADCAST_CONCURRENCY over 1000",
  rejects,
  { ...LAMBDA_ENV, BROADCAST_CONCURRENCY: "1001" },
  "BROADCAST_CONCURRENCY",
);
test(
  "a MAX_MESSAGE_BYTES past API Gateway's limit",
  rejects,
  { ...LAMBDA_ENV, MAX_MESSAGE_BYTES: "131072" },
  "MAX_MESSAGE_BYTES",
);
test(
  "a negative CONNECTION_TTL_SECONDS",
  rejects,
  { ...LAMBDA_ENV, CONNECTION_TTL_SECONDS: "-1" },
  "CONNECTION_TTL_SECONDS",
);
test(
  "a DYNAMODB_ENDPOINT_URL that is not a URL",
  rejects,
  { ...LAMBDA_ENV, DYNAMODB_ENDPOINT_URL: "localhost:4566" },
  "DYNAMODB_ENDPOINT_URL",
);
test(
  "a DYNAMODB_ENDPOINT_URL that is not http(s)",
  rejects,
  { ...LAMBDA_ENV, DYNAMODB_ENDPOINT_URL: "ftp://localhost:4566" },
  "DYNAMODB_ENDPOINT_URL",
);
test(
  "a MANAGEMENT_ENDPOINT_URL that is not a URL",
  rejects,
  { ...LAMBDA_ENV, MANAGEMENT_ENDPOINT_URL: "not a url" },
  "MANAGEMENT_ENDPOINT_URL",
);

test("a local endpoint without AWS_ACCESS_KEY_ID gets fixed local credentials and a default region", (t) => {
  // Prepare
  const env = {
    TABLE_NAME: "connections",
    MESSAGES_TABLE_NAME: "messages",
    DYNAMODB_ENDPOINT_URL: "http://127.0.0.1:8000",
  };

  // Act
  const config = readFunctionConfig(env);

  // Assess
  t.deepEqual(config.credentials, { accessKeyId: "local", secretAccessKey: "local" });
  t.is(config.region, "us-east-1");
});

test("a local management endpoint alone also gets fixed local credentials", (t) => {
  // Act
  const config = readFunctionConfig({
    TABLE_NAME: "connections",
    MESSAGES_TABLE_NAME: "messages",
    MANAGEMENT_ENDPOINT_URL: "http://127.0.0.1:3001/dev",
  });

  // Assess
  t.deepEqual(config.credentials, { accessKeyId: "local", secretAccessKey: "local" });
});

test("a local endpoint with AWS_ACCESS_KEY_ID leaves credentials to the SDK", (t) => {
  // Prepare
  const env = {
    TABLE_NAME: "connections",
    MESSAGES_TABLE_NAME: "messages",
    DYNAMODB_ENDPOINT_URL: "http://127.0.0.1:8000",
    AWS_ACCESS_KEY_ID: "AKID",
  };

  // Act
  const config = readFunctionConfig(env);

  // Assess
  t.is(config.credentials, undefined);
});

/**
 * What one PostToConnection costs in the AWS SDK v3 client alone, with a transport that answers
 * at once: the floor under every delivery of a broadcast, since each delivery is one command.
 * `npm run bench:client`. Prints wall and CPU microseconds per command, in the same run: SDK
 * defaults, then the handlers' settings one by one (`cacheMiddleware`, then `makeConfigFast`), then
 * the handlers' client without SigV4 signing (what skipping the signature locally would save).
 */
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { makeConfigFast } from "../dal/sdk-client-config";

const COMMANDS = 20_000;
const IN_FLIGHT = 100;

/** A transport that answers 200 without doing anything. */
const instantTransport = {
  metadata: { handlerProtocol: "http/1.1" },
  handle: async () => ({ response: { statusCode: 200, headers: {}, body: new Uint8Array() } }),
  updateHttpClientConfig() {},
  httpHandlerConfigs: () => ({}),
  destroy() {},
};

async function measure(label: string, client: ApiGatewayManagementApiClient): Promise<void> {
  const Data = Buffer.from(JSON.stringify({ type: "message", connectionId: "BFHPhfCWIAMCKlQ=", data: "x".repeat(64) }));
  const post = () => client.send(new PostToConnectionCommand({ ConnectionId: "BFHPhfCWIAMCKlQ=", Data }));
  for (let i = 0; i < 2_000; i++) await post(); // warm up
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  for (let sent = 0; sent < COMMANDS; sent += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, post));
  const cpu = process.cpuUsage(cpuStart);
  const wallUs = ((performance.now() - wallStart) * 1000) / COMMANDS;
  const cpuUs = (cpu.user + cpu.system) / COMMANDS;
  console.log(
    `${label.padEnd(30)} ${wallUs.toFixed(1).padStart(7)} µs wall  ${cpuUs.toFixed(1).padStart(7)} µs CPU  per command`,
  );
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const config = {
    region: "us-east-1",
    endpoint: "http://127.0.0.1:8080/dev",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    requestHandler: instantTransport,
  };
  console.log(`${COMMANDS} PostToConnection commands, ${IN_FLIGHT} in flight`);
  const fast = (client: ApiGatewayManagementApiClient) => {
    makeConfigFast(client);
    return client;
  };
  await measure("SDK defaults", new ApiGatewayManagementApiClient(config));
  await measure("cacheMiddleware", new ApiGatewayManagementApiClient({ ...config, cacheMiddleware: true }));
  await measure(
    "and makeConfigFast (handlers)",
    fast(new ApiGatewayManagementApiClient({ ...config, cacheMiddleware: true })),
  );
  await measure(
    "the same, unsigned (noAuth)",
    fast(
      new ApiGatewayManagementApiClient({
        ...config,
        cacheMiddleware: true,
        httpAuthSchemeProvider: () => [{ schemeId: "smithy.api#noAuth" }],
        httpAuthSchemes: [
          {
            schemeId: "smithy.api#noAuth",
            identityProvider: () => async () => ({}),
            signer: { sign: async (request) => request },
          },
        ],
      }),
    ),
  );
}

void main();

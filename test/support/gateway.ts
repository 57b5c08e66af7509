/** The local gateway as the API Gateway conformance tests start it: its log kept, and a real SDK management client signing with the operator's keys. */
import { ApiGatewayManagementApiClient } from "@aws-sdk/client-apigatewaymanagementapi";
import { type LocalGatewayOptions, startLocalGateway } from "../../local/express-server";

export async function testGateway(options: LocalGatewayOptions = {}) {
  const log: string[] = [];
  const instance = await startLocalGateway({ port: 0, log: (line) => log.push(line), ...options });
  const management = new ApiGatewayManagementApiClient({
    endpoint: instance.managementUrl,
    region: "us-east-1",
    credentials: instance.credentials,
    maxAttempts: 1,
  });
  return { ...instance, log, management };
}

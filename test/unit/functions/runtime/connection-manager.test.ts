import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiGatewayManagementApiClient, GoneException } from "@aws-sdk/client-apigatewaymanagementapi";
import test, { type ExecutionContext } from "ava";
import { ApiGatewayConnectionManager } from "../../../../functions/runtime/api-gateway-connection-manager";
import { ConnectionGoneError, managementEndpoint } from "../../../../functions/runtime/connection-manager";
import { webSocketEvent } from "../../../support/function-fixtures";

interface RecordedRequest {
  method: string;
  url: string;
  body: Buffer;
}

const GONE_ID = "GoneConnId0=";
const BROKEN_ID = "BrokenConnId=";

/**
 * A stand-in for API Gateway's `@connections` API on loopback: 410 GoneException for
 * {@link GONE_ID}, 500 for {@link BROKEN_ID}, success otherwise. Errors carry the
 * `x-amzn-errortype` header and JSON body the SDK needs to name them.
 */
async function startManagementApi(t: ExecutionContext) {
  const requests: RecordedRequest[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({ method: request.method ?? "", url: request.url ?? "", body: Buffer.concat(chunks) });
      const id = decodeURIComponent((request.url ?? "").split("/@connections/")[1] ?? "");
      if (id === GONE_ID) {
        response.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" });
        response.end(JSON.stringify({ message: null }));
      } else if (id === BROKEN_ID) {
        response.writeHead(500, { "content-type": "application/json", "x-amzn-errortype": "InternalServerError" });
        response.end(JSON.stringify({ message: "Internal server error" }));
      } else {
        response.writeHead(request.method === "DELETE" ? 204 : 200);
        response.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const client = new ApiGatewayManagementApiClient({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}/dev`,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    // One attempt: the 500 case should reach the server once, not be retried.
    maxAttempts: 1,
  });
  t.teardown(async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { manager: new ApiGatewayConnectionManager(client), requests };
}

test("post sends the string's UTF-8 bytes to POST {stage}/@connections/{url-encoded id}", async (t) => {
  // Prepare
  const { manager, requests } = await startManagementApi(t);

  // Act
  await manager.post("BFHPhfCWIAMCKlQ=", '{"data":"héllo 👋"}');

  // Assess
  t.is(requests.length, 1);
  t.is(requests[0]?.method, "POST");
  t.is(requests[0]?.url, "/dev/@connections/BFHPhfCWIAMCKlQ%3D");
  t.is(requests[0]?.body.toString("utf8"), '{"data":"héllo 👋"}');
});

test("post sends a byte array unchanged", async (t) => {
  // Prepare
  const { manager, requests } = await startManagementApi(t);
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);

  // Act
  await manager.post("abcDEF123=", bytes);

  // Assess
  t.is(requests[0]?.url, "/dev/@connections/abcDEF123%3D");
  t.deepEqual([...(requests[0]?.body ?? [])], [0, 1, 2, 250, 255]);
});

test("post to a gone connection (410 GoneException) throws ConnectionGoneError", async (t) => {
  // Prepare
  const { manager, requests } = await startManagementApi(t);

  // Act
  const error = await t.throwsAsync(manager.post(GONE_ID, "hi"), { instanceOf: ConnectionGoneError });

  // Assess
  t.is(error?.connectionId, GONE_ID);
  t.true(error?.message.includes(GONE_ID));
  t.true(error?.cause instanceof GoneException);
  t.is(requests.length, 1);
});

test("post failing with a 500 rethrows the SDK error, not ConnectionGoneError", async (t) => {
  // Prepare
  const { manager, requests } = await startManagementApi(t);

  // Act
  const error = await t.throwsAsync(manager.post(BROKEN_ID, "hi"));

  // Assess
  t.false(error instanceof ConnectionGoneError);
  t.is(error?.name, "InternalServerError");
  t.is((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 500);
  t.is(requests.length, 1);
});

test("disconnect sends DELETE {stage}/@connections/{url-encoded id}", async (t) => {
  // Prepare
  const { manager, requests } = await startManagementApi(t);

  // Act
  await manager.disconnect("BFHPhfCWIAMCKlQ=");

  // Assess
  t.is(requests.length, 1);
  t.is(requests[0]?.method, "DELETE");
  t.is(requests[0]?.url, "/dev/@connections/BFHPhfCWIAMCKlQ%3D");
});

test("disconnect of a gone connection resolves", async (t) => {
  // Prepare
  const { manager, requests } = await startManagementApi(t);

  // Act
  const result = await manager.disconnect(GONE_ID);

  // Assess
  t.is(result, undefined);
  t.is(requests[0]?.method, "DELETE");
});

test("disconnect failing with a 500 rethrows the SDK error", async (t) => {
  // Prepare
  const { manager } = await startManagementApi(t);

  // Act
  const error = await t.throwsAsync(manager.disconnect(BROKEN_ID));

  // Assess
  t.false(error instanceof ConnectionGoneError);
  t.is(error?.name, "InternalServerError");
});

test("managementEndpoint is built from the API id, region and stage, not the domain name", (t) => {
  // Prepare
  const { requestContext } = webSocketEvent("MESSAGE", {
    requestContext: { apiId: "a1b2c3d4e5", stage: "prod", domainName: "chat.example.com" },
  });

  // Act
  const endpoint = managementEndpoint(requestContext, "eu-central-1");

  // Assess
  t.is(endpoint, "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/prod");
});

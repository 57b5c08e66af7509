// The handlers every emulator runs, unchanged: AWS's simple-websockets-chat-app design (a row per
// connection; a message Scans the table and posts to each row, deleting a row whose connection is
// gone), on the AWS SDK v3. Where the `@connections` API is differs by emulator; everything else
// comes from the environment each one gives its functions.

const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand } = require("@aws-sdk/lib-dynamodb");
const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require("@aws-sdk/client-apigatewaymanagementapi");

const region = process.env.AWS_REGION || "us-east-1";
// Given by the benchmark to the emulators without a DynamoDB of their own; absent, the SDK's default (AWS's host).
const dynamodb = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region, ...(process.env.DDB_ENDPOINT && { endpoint: process.env.DDB_ENDPOINT }) }),
);
const TABLE_NAME = process.env.TABLE_NAME;

/** Where to post: as the sample builds it on AWS, unless the emulator serves `@connections` elsewhere. */
function managementEndpoint(event) {
  if (process.env.MANAGEMENT_ENDPOINT) return process.env.MANAGEMENT_ENDPOINT; // serverless-offline: no stage
  if (process.env.ARC_SANDBOX) return `http://127.0.0.1:${JSON.parse(process.env.ARC_SANDBOX).ports._arc}/_arc/ws`;
  return `https://${event.requestContext.apiId}.execute-api.${region}.amazonaws.com/${event.requestContext.stage}`;
}

exports.connect = async (event) => {
  // The behaviour probe's handshake that `$connect` refuses, as an app's own check would.
  if (event.queryStringParameters?.refuse) return { statusCode: 401, body: "Refused." };
  await dynamodb.send(
    new PutCommand({ TableName: TABLE_NAME, Item: { connectionId: event.requestContext.connectionId } }),
  );
  return { statusCode: 200, body: "Connected." };
};

exports.disconnect = async (event) => {
  await dynamodb.send(
    new DeleteCommand({ TableName: TABLE_NAME, Key: { connectionId: event.requestContext.connectionId } }),
  );
  return { statusCode: 200, body: "Disconnected." };
};

exports.sendmessage = async (event) => {
  const api = new ApiGatewayManagementApiClient({ region, endpoint: managementEndpoint(event) });
  const { Items = [] } = await dynamodb.send(
    new ScanCommand({ TableName: TABLE_NAME, ProjectionExpression: "connectionId" }),
  );
  const data = JSON.parse(event.body).data;
  await Promise.all(
    Items.map(async ({ connectionId }) => {
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      } catch (error) {
        // serverless-offline's 410 has no error type: the status says it.
        if (error.$metadata?.httpStatusCode !== 410) throw error;
        await dynamodb.send(new DeleteCommand({ TableName: TABLE_NAME, Key: { connectionId } }));
      }
    }),
  );
  return { statusCode: 200, body: "Data sent." };
};

exports.default = async () => ({ statusCode: 200 });

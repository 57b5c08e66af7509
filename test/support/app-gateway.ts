/**
 * A fixture app (test/fixtures/apps/*) on the generic gateway, as `websocket-gateway` runs it: read
 * from its template, served on a free port, its execution log and functions' output kept for the test.
 */
import path from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { newApiId } from "../../local/api-gateway/ids";
import { type AppGateway, startAppGateway } from "../../local/app-gateway";
import { readApp } from "../../local/sources/app-source";
import type { WebSocketApp } from "../../local/websocket-app";

export const FIXTURE_APPS = path.join(__dirname, "..", "fixtures", "apps");

export interface FixtureGateway extends AppGateway {
  app: WebSocketApp;
  apiId: string;
  /** Every line the gateway logged so far. */
  lines: string[];
  /** The `connectionId`s stored in `table`, sorted. */
  storedConnections(table: string): Promise<string[]>;
}

export async function startFixture(
  folder: string,
  options: { parameterOverrides?: Record<string, string>; reload?: boolean } = {},
): Promise<FixtureGateway> {
  const place = { apiId: newApiId(), region: "eu-west-1", accountId: "000000000000" };
  const app = readApp(folder, { ...place, parameterOverrides: options.parameterOverrides ?? {} });
  const lines: string[] = [];
  const gateway = await startAppGateway(app, {
    ...place,
    port: 0,
    reload: options.reload ?? false,
    log: (line) => lines.push(line),
  });
  const dynamodb = new DynamoDBClient({
    region: place.region,
    endpoint: gateway.dynamodbEndpoint,
    credentials: gateway.credentials,
  });
  const storedConnections = async (table: string) => {
    const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: table }));
    return Items.map((item) => item.connectionId?.S as string).sort();
  };
  return { ...gateway, app, apiId: place.apiId, lines, storedConnections };
}

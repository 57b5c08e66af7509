/**
 * The local API Gateway for any WebSocket app (`./websocket-app.ts`: one read from a SAM or
 * CloudFormation template, ...): the same replay of API Gateway's WebSocket API, `@connections`
 * API and Lambda that the chat runs on, with the app's functions run by their own runtimes through
 * Lambda's Runtime API, its tables created in the embedded DynamoDB, and its handlers' AWS SDK calls
 * (DynamoDB, `@connections`) sent here however they build the endpoint.
 *
 * The API's domain name in the events is the one AWS gives a deployed API,
 * `{apiId}.execute-api.{region}.amazonaws.com` (the developer guide's `$connect` input and captured
 * events), so code that builds its endpoint from `requestContext.domainName` and `stage`, or from
 * `apiId` and `AWS_REGION` as AWS's simple-websockets-chat-app does, reaches this gateway through
 * the runtimes' redirection of AWS's hosts.
 *
 * Started in named steps: the DynamoDB and its tables, the HTTP server, then the app served as
 * every app is (`./serve-websocket-app.ts`).
 */
import { createServer, type Server } from "node:http";
import { CreateTableCommand, ResourceInUseException } from "@aws-sdk/client-dynamodb";
import express from "express";
import { ConnectionRegistry } from "./api-gateway/connection-registry";
import type { ApiInfo } from "./api-gateway/event-builders";
import { managementOptions } from "./api-gateway/management-routes";
import { dynamodbAuthorization } from "./dynamodb/dynamodb-authorization";
import { startEmbeddedDynamoDB } from "./dynamodb/embedded-dynamodb";
import { adminClient } from "./dynamodb/tables";
import { API_GATEWAY_LIMITS, type LocalGatewayLimits } from "./gateway-options";
import { type Credentials, LocalIam } from "./iam/local-iam";
import { accountConcurrency } from "./lambda/concurrency";
import { serveWebSocketApp } from "./serve-websocket-app";
import { closeGateway, listen, WorkInFlight } from "./server-lifecycle";
import { type AppTable, appFunctions, type CodeFunction, type WebSocketApp } from "./websocket-app";

/** Lambda's default function timeout, for functions that set none. */
const LAMBDA_DEFAULT_TIMEOUT_MS = 3_000;
/**
 * The operator's keys: the user's tools sign with them, and so do functions whose role the source
 * does not say. Never the user's own: a call that escapes the redirection (code using `fetch`)
 * then fails in AWS instead of acting on the user's account.
 */
const LOCAL_CREDENTIALS = { accessKeyId: "AKIALOCALGATEWAY0000", secretAccessKey: "local-gateway-secret" };

export interface AppGatewayOptions {
  /** The API id the app was read with (its `Ref`), and the gateway serves under. */
  apiId: string;
  region: string;
  accountId: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1: nothing outside this machine can connect. */
  host?: string;
  limits?: Partial<LocalGatewayLimits>;
  /** Start new environments when a function's code changes. Default `true`. */
  reload?: boolean;
  /** The Python interpreter for `python3.*` functions. Default `python3`. */
  python?: string;
  /** Where the execution log and the functions' output go. Default `console.log`. */
  log?: (line: string) => void;
}

export interface AppGateway {
  /** `ws://127.0.0.1:{port}/{stage}` */
  url: string;
  /** `http://127.0.0.1:{port}/{stage}`: `@connections` lives under it. */
  managementUrl: string;
  port: number;
  dynamodbEndpoint: string;
  /** The operator's credentials, which the functions get too: sign your own calls with them. */
  credentials: Credentials;
  connectionCount(): number;
  /** Closes every connection with 1001, runs their `$disconnect`, ends the functions' processes. */
  close(): Promise<void>;
}

export async function startAppGateway(app: WebSocketApp, options: AppGatewayOptions): Promise<AppGateway> {
  const log = options.log ?? ((line: string) => console.log(line));
  const limits = { ...API_GATEWAY_LIMITS, ...options.limits };
  // Signed requests only, as DynamoDB and `@connections` take them: a web page can sign none.
  const iam = new LocalIam(options.region, LOCAL_CREDENTIALS);
  // The functions' calls to AWS's hosts arrive with their `Host` kept: names no page can rebind.
  const dynamodb = await startEmbeddedDynamoDB({
    gate: dynamodbAuthorization(iam, log),
    allowedHosts: [`dynamodb.${options.region}.amazonaws.com`],
    log,
  });
  const server = createServer();
  try {
    await createTables(app.tables, dynamodb.endpoint, options.region, log);
    const port = await listen(server, options.port ?? 8080, options.host ?? "127.0.0.1");
    return serveApp(app, options, { server, port, limits, log, dynamodb, iam });
  } catch (error) {
    server.close();
    await dynamodb.close();
    throw error;
  }
}

/**
 * A role for each code function whose statements the source gives, as Lambda gives a function its
 * execution role's keys: its calls to DynamoDB and `@connections` are then allowed what the role
 * allows. The others sign as the operator (the source said why, in its lines).
 */
function functionRoles(
  app: WebSocketApp,
  iam: LocalIam,
  log: (line: string) => void,
): (fn: CodeFunction) => Credentials | undefined {
  const roles = new Map<CodeFunction, Credentials>();
  for (const fn of appFunctions(app)) {
    if (fn.kind !== "code" || !fn.policy) continue;
    try {
      roles.set(fn, iam.createFunctionRole(fn.name, fn.policy));
    } catch (error) {
      log(`function ${fn.name}: its role is not enforced, it may call anything: ${(error as Error).message}`);
    }
  }
  return (fn) => roles.get(fn);
}

/** Creates each table as the template declares it; TTL is named, since the embedded DynamoDB has none. */
async function createTables(
  tables: readonly AppTable[],
  endpoint: string,
  region: string,
  log: (line: string) => void,
) {
  const client = adminClient({ region, dynamodbEndpoint: endpoint, credentials: LOCAL_CREDENTIALS });
  try {
    for (const table of tables) {
      await client.send(new CreateTableCommand(table.definition)).catch((error: unknown) => {
        if (!(error instanceof ResourceInUseException)) throw error;
      });
      if (table.ttlAttribute) {
        log(
          `table ${table.definition.TableName}: TTL on ${table.ttlAttribute} is not applied by the embedded DynamoDB`,
        );
      }
    }
  } finally {
    client.destroy();
  }
}

interface Started {
  server: Server;
  port: number;
  limits: LocalGatewayLimits;
  log: (line: string) => void;
  dynamodb: { endpoint: string; close(): Promise<void> };
  iam: LocalIam;
}

/** From here nothing awaits: the first request finds every route in place. */
function serveApp(app: WebSocketApp, options: AppGatewayOptions, started: Started): AppGateway {
  const { server, port, limits, log, dynamodb, iam } = started;
  const { apiId, region } = options;
  const expressApp = express();
  expressApp.disable("x-powered-by");
  server.on("request", expressApp);
  const api: ApiInfo = { apiId, stage: app.stage, domainName: `${apiId}.execute-api.${region}.amazonaws.com` };
  const work = new WorkInFlight();
  const registry = new ConnectionRegistry(limits);
  const served = serveWebSocketApp(app, {
    expressApp,
    server,
    api,
    region,
    registry,
    limits,
    browserGuard: { allowedHosts: [api.domainName] },
    concurrency: accountConcurrency(limits),
    defaultTimeoutMs: LAMBDA_DEFAULT_TIMEOUT_MS,
    // Each function run by its runtime, its AWS calls sent here, signed with its role's keys.
    runtime: {
      region,
      accountId: options.accountId,
      credentials: LOCAL_CREDENTIALS,
      roleCredentials: functionRoles(app, iam, log),
      endpoints: { gateway: `http://127.0.0.1:${port}`, dynamodb: dynamodb.endpoint },
      python: options.python,
      log,
    },
    reload: options.reload ?? true,
    management: { ...managementOptions({ registry, region, api, iam, limits, log }), allowRemote: false },
    work,
    log,
  });
  const origin = `127.0.0.1:${port}`;
  return {
    url: `ws://${origin}/${app.stage}`,
    managementUrl: `http://${origin}/${app.stage}`,
    port,
    dynamodbEndpoint: dynamodb.endpoint,
    credentials: LOCAL_CREDENTIALS,
    connectionCount: () => registry.size,
    close: () =>
      closeGateway(server, registry, work, {
        stopNewWork: () => served.stopReloading(),
        whenIdle: async () => served.close(),
        afterServer: () => dynamodb.close(),
      }),
  };
}

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE } from "../functions/connection";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, MESSAGES_TTL_ATTRIBUTE } from "../functions/message";
import { ROOM_INDEX, ROOM_INDEX_ATTRIBUTES, ROOM_INDEX_KEY } from "../functions/room";
import {
  broadcastWorker,
  ROUTE_SELECTION_EXPRESSION,
  type RouteDefinition,
  routes as routeTable,
} from "../functions/routes";
import { createBroadcastWorker } from "./broadcast-worker";
import {
  DEFAULT_LAMBDA_MEMORY_MB,
  DEFAULT_LAMBDA_TIMEOUT_SECONDS,
  functionName,
  type LOG_RETENTION_DAYS,
  type RouteSettings,
  validate,
} from "./chat-api-settings";

export { DEFAULT_LAMBDA_MEMORY_MB, LOG_RETENTION_DAYS } from "./chat-api-settings";

import { ChatAuth, type ChatAuthSettings } from "./chat-auth";
import type { FunctionDefaults, InlineFunction, LogLevel } from "./inline-function";
import { WebSocketRoute } from "./websocket-route";

export interface ChatApiArgs {
  /** The stage clients connect to: `wss://{apiId}.execute-api.{region}.amazonaws.com/{stageName}`. */
  stageName: string;
  /** Requests every route of the stage accepts in a burst. */
  throttlingBurstLimit: number;
  /** Steady requests per second every route of the stage accepts. */
  throttlingRateLimit: number;
  /** Days CloudWatch keeps each function's logs; one of {@link LOG_RETENTION_DAYS}. */
  logRetentionDays: number;
  /** The lowest level of the functions' log lines kept (default INFO). */
  logLevel?: LogLevel;
  /** The functions' architecture (default arm64). */
  architecture?: FunctionDefaults["architecture"];
  /** `BROADCAST_CONCURRENCY` of the functions; the handlers' default when omitted. */
  broadcastConcurrency?: number;
  /** Memory in MB of each function whose route names none (default {@link DEFAULT_LAMBDA_MEMORY_MB}). */
  lambdaMemorySize?: number;
  /** Timeout of each function in seconds (default {@link DEFAULT_LAMBDA_TIMEOUT_SECONDS}). */
  lambdaTimeoutSeconds?: number;
  /** The routes to deploy (default: the route table of `functions/routes.ts`). */
  routes?: readonly RouteDefinition[];
  /** Who may connect (default `none`: anyone, the open chat). */
  auth?: ChatAuthSettings;
  /** How long a room's messages are kept, in seconds (default: the handlers', a day). */
  historyTtlSeconds?: number;
}

/**
 * The chat backend: a WebSocket API whose routes come from the route table, one function per
 * route, the connections and messages tables and a throttled, auto-deploying stage.
 */
export class ChatApi extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly messagesTable: aws.dynamodb.Table;
  readonly api: aws.apigatewayv2.Api;
  readonly routes: WebSocketRoute[];
  /** Posts to one slice of a large room; `sendmessage` invokes it asynchronously. */
  readonly broadcastWorker: InlineFunction<unknown, unknown> & { invokeConfig: aws.lambda.FunctionEventInvokeConfig };
  readonly stage: aws.apigatewayv2.Stage;
  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: where clients connect. */
  readonly url: pulumi.Output<string>;
  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: the `@connections` API. */
  readonly managementEndpoint: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  readonly messagesTableName: pulumi.Output<string>;
  /** The authorizer and, for guests, the token endpoint; absent with auth `none`. */
  readonly auth?: ChatAuth;
  /** Where guests get tokens: `POST {"name":"..."}` (guest auth only). */
  readonly tokenUrl?: pulumi.Output<string>;

  constructor(name: string, args: ChatApiArgs, opts?: pulumi.ComponentResourceOptions) {
    const settings = validate(name, args);
    super("websocket-chat:index:ChatApi", name, {}, opts);
    this.table = this.createTable(name);
    this.messagesTable = this.createMessagesTable(name);
    this.api = this.createApi(name);
    if (args.auth && args.auth.mode !== "none") {
      this.auth = new ChatAuth(
        `${name}-auth`,
        {
          settings: args.auth,
          api: this.api,
          functionNamePrefix: `${name}-${pulumi.getStack()}`,
          defaults: settings.defaults,
        },
        { parent: this },
      );
      this.tokenUrl = this.auth.tokenUrl?.functionUrl;
    }
    this.broadcastWorker = createBroadcastWorker(this, `${name}-${broadcastWorker.name}`, {
      api: this.api,
      stageName: settings.stageName,
      tables: this.tables(),
      functionName: functionName(name, broadcastWorker),
      defaults: settings.defaults,
      timeoutSeconds: settings.timeoutSeconds,
      environment: settings.environment ?? {},
    });
    this.routes = (args.routes ?? routeTable).map((route) => this.createRoute(name, route, settings));
    this.stage = this.createStage(name, args);
    this.url = pulumi.interpolate`${this.api.apiEndpoint}/${this.stage.name}`;
    // The client URL's host over HTTPS: taken from the API rather than rebuilt, so it holds in every partition.
    const httpsEndpoint = this.api.apiEndpoint.apply((endpoint) => endpoint.replace(/^wss:/, "https:"));
    this.managementEndpoint = pulumi.interpolate`${httpsEndpoint}/${this.stage.name}`;
    this.tableName = this.table.name;
    this.messagesTableName = this.messagesTable.name;
    this.registerOutputs({
      messagesTableName: this.messagesTableName,
      url: this.url,
      managementEndpoint: this.managementEndpoint,
      tableName: this.tableName,
      tokenUrl: this.tokenUrl,
    });
  }

  private createTable(name: string): aws.dynamodb.Table {
    // One row per open connection; on-demand billing for bursty chat traffic, TTL for rows
    // `$disconnect` missed. The `byRoom` index lists a room's connections, shard by shard, with
    // just what `who` shows and the TTL that hides lingering rows.
    return new aws.dynamodb.Table(
      `${name}-connections`,
      {
        attributes: [
          { name: CONNECTION_KEY, type: "S" },
          { name: ROOM_INDEX_KEY, type: "S" },
        ],
        hashKey: CONNECTION_KEY,
        billingMode: "PAY_PER_REQUEST",
        ttl: { attributeName: CONNECTION_TTL_ATTRIBUTE, enabled: true },
        globalSecondaryIndexes: [
          {
            name: ROOM_INDEX,
            hashKey: ROOM_INDEX_KEY,
            rangeKey: CONNECTION_KEY,
            projectionType: "INCLUDE",
            nonKeyAttributes: [...ROOM_INDEX_ATTRIBUTES],
          },
        ],
      },
      { parent: this },
    );
  }

  private createMessagesTable(name: string): aws.dynamodb.Table {
    // A room's history: its partition, messages in the order they were handled, TTL to forget them.
    return new aws.dynamodb.Table(
      `${name}-messages`,
      {
        attributes: [
          { name: MESSAGES_PARTITION_KEY, type: "S" },
          { name: MESSAGES_RANGE_KEY, type: "S" },
        ],
        hashKey: MESSAGES_PARTITION_KEY,
        rangeKey: MESSAGES_RANGE_KEY,
        billingMode: "PAY_PER_REQUEST",
        ttl: { attributeName: MESSAGES_TTL_ATTRIBUTE, enabled: true },
      },
      { parent: this },
    );
  }

  private createApi(name: string): aws.apigatewayv2.Api {
    // The WebSocket API; a frame's `action` picks its route.
    return new aws.apigatewayv2.Api(
      `${name}-api`,
      { protocolType: "WEBSOCKET", routeSelectionExpression: ROUTE_SELECTION_EXPRESSION },
      { parent: this },
    );
  }

  private tables() {
    return {
      connections: { name: this.table.name, arn: this.table.arn },
      messages: { name: this.messagesTable.name, arn: this.messagesTable.arn },
    };
  }

  private createRoute(name: string, route: RouteDefinition, settings: RouteSettings): WebSocketRoute {
    // One function, role, log group, permission, integration and route per entry of the route table.
    return new WebSocketRoute(
      `${name}-${route.name}`,
      {
        api: this.api,
        route,
        tables: this.tables(),
        functionName: functionName(name, route),
        broadcastWorker: { name: this.broadcastWorker.function.name, arn: this.broadcastWorker.function.arn },
        ...settings,
        memorySize: route.memorySize ?? settings.memorySize,
        ...(route.routeKey === "$connect" && this.auth && { authorizerId: this.auth.authorizer.id }),
      },
      { parent: this },
    );
  }

  private createStage(name: string, args: ChatApiArgs): aws.apigatewayv2.Stage {
    // Redeploys whenever a route changes; throttled so one noisy client cannot run up the bill.
    return new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: this.api.id,
        name: args.stageName,
        autoDeploy: true,
        defaultRouteSettings: {
          throttlingBurstLimit: args.throttlingBurstLimit,
          throttlingRateLimit: args.throttlingRateLimit,
        },
      },
      {
        parent: this,
        dependsOn: [
          ...this.routes.flatMap((route) => route.deploymentDependencies),
          ...(this.auth ? [this.auth.authorizer, this.auth.authorizerPermission] : []),
        ],
      },
    );
  }
}

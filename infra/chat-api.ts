import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_TIMEOUT_SECONDS, MAX_HISTORY_TTL_SECONDS } from "../functions/config";
import { CONNECTION_KEY, CONNECTION_TTL_ATTRIBUTE } from "../functions/connection";
import { MESSAGES_PARTITION_KEY, MESSAGES_RANGE_KEY, MESSAGES_TTL_ATTRIBUTE } from "../functions/message";
import { ROOM_INDEX, ROOM_INDEX_ATTRIBUTES, ROOM_INDEX_KEY } from "../functions/room";
import {
  connectAuthorizer,
  ROUTE_SELECTION_EXPRESSION,
  type RouteDefinition,
  routes as routeTable,
  tokenEndpoint,
} from "../functions/routes";
import { ChatAuth, type ChatAuthSettings, validateAuthSettings } from "./chat-auth";
import { WebSocketRoute } from "./websocket-route";

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const DEFAULT_LAMBDA_MEMORY_MB = 256;
export const DEFAULT_LAMBDA_TIMEOUT_SECONDS = FUNCTION_TIMEOUT_SECONDS;
/** API Gateway stops waiting for an integration after 29 s; a longer Lambda timeout buys nothing. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;

export interface ChatApiArgs {
  /** The stage clients connect to: `wss://{apiId}.execute-api.{region}.amazonaws.com/{stageName}`. */
  stageName: string;
  /** Requests every route of the stage accepts in a burst. */
  throttlingBurstLimit: number;
  /** Steady requests per second every route of the stage accepts. */
  throttlingRateLimit: number;
  /** Days CloudWatch keeps each function's logs; one of {@link LOG_RETENTION_DAYS}. */
  logRetentionDays: number;
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
          logRetentionDays: args.logRetentionDays,
        },
        { parent: this },
      );
      this.tokenUrl = this.auth.tokenUrl?.functionUrl;
    }
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

  private createRoute(name: string, route: RouteDefinition, settings: RouteSettings): WebSocketRoute {
    // One function, role, log group, permission, integration and route per entry of the route table.
    return new WebSocketRoute(
      `${name}-${route.name}`,
      {
        api: this.api,
        route,
        tables: {
          connections: { name: this.table.name, arn: this.table.arn },
          messages: { name: this.messagesTable.name, arn: this.messagesTable.arn },
        },
        functionName: functionName(name, route),
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

type RouteSettings = Pick<
  ConstructorParameters<typeof WebSocketRoute>[1],
  "stageName" | "logRetentionDays" | "memorySize" | "timeoutSeconds" | "environment"
>;

/** The physical name of a function; the stack name keeps stacks in one account apart. */
function functionName(name: string, route: { name: string }): string {
  return `${name}-${pulumi.getStack()}-${route.name}`;
}

function checkMemorySize(label: string, memorySize: number): void {
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
    throw new Error(`${label} must be an integer from 128 to 10240, got ${memorySize}`);
  }
}

/** Checks the arguments AWS would reject only at deploy time, so a bad value fails the preview. */
function validate(name: string, args: ChatApiArgs): RouteSettings {
  const functionNames = (args.routes ?? routeTable).map((route) => functionName(name, route));
  if (args.auth && args.auth.mode !== "none") {
    functionNames.push(functionName(name, connectAuthorizer));
    if (args.auth.mode === "guest") functionNames.push(functionName(name, tokenEndpoint));
  }
  for (const physicalName of functionNames) {
    if (physicalName.length > 64) {
      throw new Error(`Lambda function name ${physicalName} is longer than 64 characters: shorten the component name`);
    }
  }
  for (const route of args.routes ?? routeTable) {
    if (route.memorySize !== undefined) checkMemorySize(`memorySize of route ${route.routeKey}`, route.memorySize);
  }
  if (args.auth) validateAuthSettings(args.auth);
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(args.stageName)) {
    throw new Error(`stageName must be 1 to 128 letters, digits, - or _, got ${JSON.stringify(args.stageName)}`);
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays)) {
    throw new Error(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${args.logRetentionDays}`);
  }
  if (!Number.isInteger(args.throttlingBurstLimit) || args.throttlingBurstLimit < 0) {
    throw new Error(`throttlingBurstLimit must be a whole number, got ${args.throttlingBurstLimit}`);
  }
  if (!Number.isFinite(args.throttlingRateLimit) || args.throttlingRateLimit < 0) {
    throw new Error(`throttlingRateLimit must be a number of requests per second, got ${args.throttlingRateLimit}`);
  }
  const concurrency = args.broadcastConcurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)) {
    throw new Error(`broadcastConcurrency must be an integer from 1 to 1000, got ${concurrency}`);
  }
  const history = args.historyTtlSeconds;
  if (history !== undefined && (!Number.isInteger(history) || history < 60 || history > MAX_HISTORY_TTL_SECONDS)) {
    throw new Error(`historyTtlSeconds must be an integer from 60 to ${MAX_HISTORY_TTL_SECONDS}, got ${history}`);
  }
  const memorySize = args.lambdaMemorySize ?? DEFAULT_LAMBDA_MEMORY_MB;
  checkMemorySize("lambdaMemorySize", memorySize);
  const timeoutSeconds = args.lambdaTimeoutSeconds ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS;
  if (
    !Number.isInteger(timeoutSeconds) ||
    timeoutSeconds < 1 ||
    timeoutSeconds > API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS
  ) {
    throw new Error(
      `lambdaTimeoutSeconds must be an integer from 1 to ${API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS}, got ${timeoutSeconds}`,
    );
  }
  return {
    stageName: args.stageName,
    logRetentionDays: args.logRetentionDays,
    memorySize,
    timeoutSeconds,
    environment: {
      ...(concurrency !== undefined && { BROADCAST_CONCURRENCY: String(concurrency) }),
      ...(history !== undefined && { HISTORY_TTL_SECONDS: String(history) }),
    },
  };
}

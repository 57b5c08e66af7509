/**
 * The chat as a Pulumi component: the WebSocket API, its stage, routes and tables, identity, and what
 * watches it; the composition of the other modules of `infra/`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { pageOidcConfig } from "../functions/auth/page-config";
import {
  broadcastWorker,
  connectAuthorizer,
  ROUTE_SELECTION_EXPRESSION,
  type RouteDefinition,
  routes as routeTable,
  tokenEndpoint,
} from "../functions/routes";
import { checkedAccountConcurrency } from "./account-concurrency";
import { createBroadcastWorker } from "./broadcast-worker";
import { type ChatApiArgs, functionName, type RouteSettings, validate } from "./chat-api-settings";
import { AUTHORIZER_REFUSAL, ChatAuth } from "./chat-auth";
import { ChatPage, pageConnectSources } from "./chat-page";
import { createChatTables } from "./chat-tables";
import { createCustomDomain } from "./custom-domain";
import type { InlineFunction } from "./inline-function";
import { ACCESS_LOG_FORMAT, createAccessLog, createAlarms, type WatchedFunction } from "./observability";
import { WebSocketRoute } from "./websocket-route";

/**
 * The chat: a WebSocket API whose routes come from the route table, one function per route, the
 * connections and messages tables, a throttled, auto-deploying stage; and, as the stack asks, its
 * access log, alarms, a domain of its own and the page served by CloudFront.
 */
export class ChatApi extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly messagesTable: aws.dynamodb.Table;
  /** Each user's and source address's budgets. */
  readonly limitsTable: aws.dynamodb.Table;
  readonly api: aws.apigatewayv2.Api;
  readonly routes: WebSocketRoute[];
  /** Posts to one slice of a large room; `sendmessage` invokes it asynchronously. */
  readonly broadcastWorker: InlineFunction & { invokeConfig: aws.lambda.FunctionEventInvokeConfig };
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
  /** The chat page, unless `publishPage` is false. */
  readonly page?: ChatPage;
  /** `https://{distribution}.cloudfront.net/`: where people chat. */
  readonly pageUrl?: pulumi.Output<string>;
  /** `wss://{customDomain}`, with the host its DNS record must point at. */
  readonly customDomainUrl?: pulumi.Output<string>;
  readonly customDomainTarget?: pulumi.Output<string>;
  readonly accessLog?: ReturnType<typeof createAccessLog>;
  readonly alarms?: ReturnType<typeof createAlarms>;

  constructor(name: string, args: ChatApiArgs, opts?: pulumi.ComponentResourceOptions) {
    const settings = validate(name, args);
    super("websocket-chat:index:ChatApi", name, {}, opts);
    ({
      connections: this.table,
      messages: this.messagesTable,
      limits: this.limitsTable,
    } = createChatTables(this, name, {
      deletionProtection: args.deletionProtection ?? false,
    }));
    this.api = this.createApi(name);
    // Made before the token endpoint: by default its CORS admits the page's origin alone.
    if (args.publishPage ?? true) {
      const connectSources = pageConnectSources({
        api: this.api,
        customDomainName: settings.customDomain?.domainName,
        auth: args.auth,
      });
      this.page = new ChatPage(`${name}-page`, { connectSources }, { parent: this });
    }
    if (args.auth && args.auth.mode !== "none") {
      this.auth = new ChatAuth(
        `${name}-auth`,
        {
          settings: args.auth,
          ...(this.page && { pageOrigin: this.page.origin }),
          api: this.api,
          limits: { table: this.tables().limits, rateLimits: settings.rateLimits },
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
    const accountConcurrency = checkedAccountConcurrency(this, settings.lambdaConcurrency);
    this.routes = (args.routes ?? routeTable).map((route) =>
      this.createRoute(name, route, settings, accountConcurrency),
    );
    if (args.accessLogs) {
      this.accessLog = createAccessLog(this, name, {
        logGroupName: pulumi.interpolate`/aws/apigateway/${this.api.id}/${settings.stageName}`,
        logRetentionDays: settings.defaults.logRetentionDays,
        accountRole: args.apiGatewayAccountRole ?? false,
      });
    }
    this.stage = this.createStage(name, args);
    this.url = pulumi.interpolate`${this.api.apiEndpoint}/${this.stage.name}`;
    // The client URL's host over HTTPS: taken from the API rather than rebuilt, so it holds in every partition.
    const httpsEndpoint = this.api.apiEndpoint.apply((endpoint) => endpoint.replace(/^wss:/, "https:"));
    this.managementEndpoint = pulumi.interpolate`${httpsEndpoint}/${this.stage.name}`;
    this.tableName = this.table.name;
    this.messagesTableName = this.messagesTable.name;
    if (settings.customDomain) {
      const domain = createCustomDomain(this, name, {
        ...settings.customDomain,
        apiId: this.api.id,
        stage: this.stage.name,
      });
      this.customDomainUrl = domain.url;
      this.customDomainTarget = domain.targetDomainName;
    }
    if (this.page) {
      const oidc = args.auth?.mode === "oidc" ? pageOidcConfig(args.auth) : undefined;
      this.page.publishConfig({
        url: this.customDomainUrl ?? this.url,
        // Beside a custom domain, the API's own address is the stack's too: a link may choose it.
        ...(this.customDomainUrl && { urls: [this.url] }),
        auth: args.auth?.mode ?? "none",
        ...(this.tokenUrl && { tokenUrl: this.tokenUrl }),
        ...(oidc && { oidc }),
      });
      this.pageUrl = this.page.pageUrl;
    }
    if (args.alarms) {
      this.alarms = createAlarms(this, name, {
        functions: this.watchedFunctions(),
        apiId: this.api.id,
        stageName: settings.stageName,
        tableNames: { connections: this.table.name, messages: this.messagesTable.name },
        serviceName: settings.defaults.serviceName,
        email: args.alarmEmail,
      });
    }
    this.registerOutputs({
      messagesTableName: this.messagesTableName,
      url: this.url,
      managementEndpoint: this.managementEndpoint,
      tableName: this.tableName,
      tokenUrl: this.tokenUrl,
      pageUrl: this.pageUrl,
      customDomainUrl: this.customDomainUrl,
    });
  }

  /** Every function of the chat, by its short name (its route's, or the worker's, authorizer's, token endpoint's). */
  functions(): [string, aws.lambda.Function][] {
    const all: [string, aws.lambda.Function][] = this.routes.map((route) => [route.routeName, route.function]);
    all.push([broadcastWorker.name, this.broadcastWorker.function]);
    if (this.auth) all.push([connectAuthorizer.name, this.auth.authorizerFunction.function]);
    if (this.auth?.tokenFunction) all.push([tokenEndpoint.name, this.auth.tokenFunction.function]);
    return all;
  }

  /** What the alarms watch of each function: the worker's dropped events, the authorizer's real failures. */
  private watchedFunctions(): WatchedFunction[] {
    return this.functions().map(([id, fn]) => ({
      id,
      name: fn.name,
      ...(id === broadcastWorker.name && { asynchronous: true }),
      ...(id === connectAuthorizer.name &&
        this.auth && {
          failuresFromLog: { logGroupName: this.auth.authorizerFunction.logGroup.name, answer: AUTHORIZER_REFUSAL },
        }),
    }));
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
      limits: { name: this.limitsTable.name, arn: this.limitsTable.arn },
    };
  }

  private createRoute(
    name: string,
    route: RouteDefinition,
    { lambdaConcurrency: _setting, ...settings }: RouteSettings,
    accountConcurrency: pulumi.Output<string>,
  ): WebSocketRoute {
    // One function, role, log group, permission, integration and route per entry of the route table.
    return new WebSocketRoute(
      `${name}-${route.name}`,
      {
        api: this.api,
        route,
        tables: this.tables(),
        functionName: functionName(name, route),
        broadcastWorker: { name: this.broadcastWorker.function.name, arn: this.broadcastWorker.function.arn },
        accountConcurrency,
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
        ...(this.accessLog && {
          accessLogSettings: { destinationArn: this.accessLog.logGroup.arn, format: ACCESS_LOG_FORMAT },
        }),
      },
      {
        parent: this,
        dependsOn: [
          ...this.routes.flatMap((route) => route.deploymentDependencies),
          ...(this.auth ? [this.auth.authorizer, this.auth.authorizerPermission] : []),
          ...(this.accessLog?.account ? [this.accessLog.account] : []),
        ],
      },
    );
  }
}

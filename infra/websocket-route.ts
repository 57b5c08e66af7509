/**
 * One route of the WebSocket API as Pulumi declares it: its function, least-privilege role,
 * integration, route (and route response) and invoke permission.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { cloudTelemetry } from "../functions/broadcast/broadcast-metrics";
import { ROOM_INDEX } from "../functions/chat/room";
import { limitedHandler } from "../functions/limits/limited-route";
import { type PermissionTargets, permissionStatements } from "../functions/permissions";
import type { RouteDefinition } from "../functions/routes";
import { readFunctionConfig } from "../functions/runtime/function-config";
import {
  buildHandlerDependencies,
  type ClientFactories,
  createBroadcastWorkerClient,
  createManagementApi,
} from "../functions/runtime/handler-dependencies";
import type { WebSocketEvent, WebSocketResult } from "../functions/runtime/lambda-events";
import { cloudLogger, lambdaHandler } from "../functions/runtime/telemetry";
import { createInlineFunction, type FunctionDefaults } from "./inline-function";

/**
 * The Lambda entry point of `route`: runs once per cold start, reads the function's environment,
 * builds the real clients and hands over to the route's handler factory, behind the route's budget.
 * Kept to a few lines, naming no module that holds the route table, so the serialized closure stays
 * small; the logic and its tests live in `functions/`. It captures only the clients and telemetry
 * the route uses (chosen here, at deploy time), so its bundle holds no other: only the routes that
 * fan out invoke the broadcast worker and record broadcast metrics.
 */
export function handlerFactory(route: RouteDefinition): aws.lambda.CallbackFactory<WebSocketEvent, WebSocketResult> {
  const clients: ClientFactories = {
    ...(route.manageConnections && { managementApi: createManagementApi }),
    ...(route.fansOut && { broadcastWorker: createBroadcastWorkerClient }),
  };
  const telemetryOf = route.fansOut ? cloudTelemetry : () => ({ logger: cloudLogger() });
  // The function itself: through its module, Pulumi would serialize every export (and client) of it.
  const build = buildHandlerDependencies;
  return () => {
    const telemetry = telemetryOf();
    const deps = build(readFunctionConfig(), { telemetry }, clients);
    const handler = limitedHandler(route, route.createHandler(deps), deps);
    return lambdaHandler(route.routeKey, telemetry.logger, handler);
  };
}

export interface WebSocketRouteArgs {
  /** The WebSocket API the route belongs to. */
  api: aws.apigatewayv2.Api;
  /** The entry of the route table this component deploys. */
  route: RouteDefinition;
  /**
   * The tables: their names go to `TABLE_NAME`, `MESSAGES_TABLE_NAME` and `LIMITS_TABLE_NAME`, their
   * ARNs scope the permissions.
   */
  tables: Record<"connections" | "messages" | "limits", { name: pulumi.Input<string>; arn: pulumi.Input<string> }>;
  /** The stage the API is deployed to; scopes `execute-api` permissions. */
  stageName: string;
  /** The Lambda function's physical name; its log group is `/aws/lambda/{functionName}`. */
  functionName: string;
  defaults: FunctionDefaults;
  memorySize: number;
  timeoutSeconds: number;
  /** Environment of the function besides `TABLE_NAME`. */
  environment?: Record<string, pulumi.Input<string>>;
  /** The authorizer that decides this route (`$connect` only: API Gateway authorizes nothing else). */
  authorizerId?: pulumi.Input<string>;
  /** The broadcast worker a route that fans out invokes. */
  broadcastWorker?: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
  /** The account's concurrent executions (checked against its quota), which bound a route's fan-out. */
  accountConcurrency?: pulumi.Input<string>;
}

/**
 * One route of the WebSocket API and everything it takes to serve it: a least-privilege role, a
 * log group, the function, API Gateway's permission to invoke it, the integration and the route.
 */
export class WebSocketRoute extends pulumi.ComponentResource {
  /** The route table's name of the route. */
  readonly routeName: string;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  readonly permission: aws.lambda.Permission;
  readonly integration: aws.apigatewayv2.Integration;
  readonly route: aws.apigatewayv2.Route;
  readonly routeResponse?: aws.apigatewayv2.RouteResponse;

  constructor(name: string, args: WebSocketRouteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("websocket-chat:index:WebSocketRoute", name, {}, opts);
    this.routeName = args.route.name;
    // Exactly what this route's handler does: its table actions, posting to clients if it must, its own logs.
    ({
      logGroup: this.logGroup,
      role: this.role,
      rolePolicy: this.rolePolicy,
      function: this.function,
    } = createInlineFunction(this, name, {
      functionName: args.functionName,
      description: `WebSocket route ${args.route.routeKey}`,
      callbackFactory: handlerFactory(args.route),
      memorySize: args.memorySize,
      timeoutSeconds: args.timeoutSeconds,
      defaults: args.defaults,
      environment: {
        ...tableEnvironment(args.tables),
        ...args.environment,
        ...(args.route.fansOut &&
          args.broadcastWorker && {
            BROADCAST_FUNCTION_NAME: args.broadcastWorker.name,
            ...(args.accountConcurrency && { ACCOUNT_CONCURRENCY: args.accountConcurrency }),
          }),
      },
      statements: permissionStatements(args.route, permissionTargets(args)),
    }));
    this.permission = this.createPermission(name, args);
    this.integration = this.createIntegration(name, args);
    this.route = this.createRoute(name, args);
    if (args.route.routeResponse) this.routeResponse = this.createRouteResponse(name, args);
    this.registerOutputs({
      functionName: this.function.name,
      functionArn: this.function.arn,
      routeId: this.route.id,
    });
  }

  /** The resources a stage deployment must include. */
  get deploymentDependencies(): pulumi.Resource[] {
    return [this.integration, this.route, ...(this.routeResponse ? [this.routeResponse] : [])];
  }

  private createPermission(name: string, args: WebSocketRouteArgs): aws.lambda.Permission {
    // Lets API Gateway invoke the function for this route of this API's stage, and nothing else.
    return new aws.lambda.Permission(
      `${name}-permission`,
      {
        action: "lambda:InvokeFunction",
        function: this.function.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${args.api.executionArn}/${args.stageName}/${args.route.routeKey}`,
      },
      { parent: this },
    );
  }

  private createIntegration(name: string, args: WebSocketRouteArgs): aws.apigatewayv2.Integration {
    // Lambda proxy: API Gateway passes the whole WebSocket event and reads the handler's status code.
    return new aws.apigatewayv2.Integration(
      `${name}-integration`,
      {
        apiId: args.api.id,
        integrationType: "AWS_PROXY",
        integrationMethod: "POST",
        integrationUri: this.function.invokeArn,
      },
      { parent: this, dependsOn: [this.permission] },
    );
  }

  private createRoute(name: string, args: WebSocketRouteArgs): aws.apigatewayv2.Route {
    // Sends frames whose route selection value is the route key to the integration.
    return new aws.apigatewayv2.Route(
      `${name}-route`,
      {
        apiId: args.api.id,
        routeKey: args.route.routeKey,
        target: pulumi.interpolate`integrations/${this.integration.id}`,
        ...(args.route.routeResponse && { routeResponseSelectionExpression: "$default" }),
        ...(args.authorizerId && { authorizationType: "CUSTOM", authorizerId: args.authorizerId }),
      },
      { parent: this },
    );
  }

  private createRouteResponse(name: string, args: WebSocketRouteArgs): aws.apigatewayv2.RouteResponse {
    // Two-way route: the handler's body goes back to the caller as a frame.
    return new aws.apigatewayv2.RouteResponse(
      `${name}-response`,
      { apiId: args.api.id, routeId: this.route.id, routeResponseKey: "$default" },
      { parent: this },
    );
  }
}

/** Where a function finds the tables: `TABLE_NAME`, `MESSAGES_TABLE_NAME` and `LIMITS_TABLE_NAME`. */
export function tableEnvironment(tables: WebSocketRouteArgs["tables"]): Record<string, pulumi.Input<string>> {
  return {
    TABLE_NAME: tables.connections.name,
    MESSAGES_TABLE_NAME: tables.messages.name,
    LIMITS_TABLE_NAME: tables.limits.name,
  };
}

/**
 * The IAM targets of a function of this API: its tables and index, posting to this stage's
 * connections, and the broadcast worker if given.
 */
export function permissionTargets(
  args: Pick<WebSocketRouteArgs, "tables" | "api" | "stageName" | "broadcastWorker">,
): PermissionTargets<pulumi.Input<string>> {
  const { tables, api, stageName, broadcastWorker } = args;
  return {
    data: {
      connections: tables.connections.arn,
      roomIndex: pulumi.interpolate`${tables.connections.arn}/index/${ROOM_INDEX}`,
      messages: tables.messages.arn,
      limits: tables.limits.arn,
    },
    connectionsApi: pulumi.interpolate`${api.executionArn}/${stageName}/POST/@connections/*`,
    ...(broadcastWorker && { broadcastWorker: broadcastWorker.arn }),
  };
}

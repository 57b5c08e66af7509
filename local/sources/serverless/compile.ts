/**
 * A `serverless.yml`'s functions and `websocket` events compiled to the CloudFormation resources the
 * Serverless Framework deploys for them, under the Framework's own logical ids (`WebsocketsApi`,
 * `WebsocketsDeploymentStage`, `{Function}LambdaFunction`, `{Function}WebsocketsIntegration`,
 * `{RouteKey}WebsocketsRoute`, `{Function}WebsocketsAuthorizer`), so that its `resources:` may
 * `!Ref` them as on AWS; the template is then read as any other (`../cloudformation/`).
 * Defaults as the Framework's: route selection `$request.body.action`, an authorizer's identity
 * source `route.request.header.Auth`, functions named `{service}-{stage}-{function}`, a 6 s timeout
 * and 1024 MB. https://www.serverless.com/framework/docs/providers/aws/events/websocket
 * https://www.serverless.com/framework/docs/providers/aws/guide/functions
 */
import type { TemplateResource } from "../cloudformation/template-file";
import { SourceError } from "../source-error";

export interface ServerlessFunction {
  handler?: string;
  name?: string;
  runtime?: string;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, unknown>;
  layers?: unknown[];
  image?: unknown;
  events?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ServerlessService {
  service: string;
  stage: string;
  provider: Record<string, unknown>;
  functions: Record<string, ServerlessFunction>;
}

interface WebsocketEvent {
  route: string;
  routeResponseSelectionExpression?: string;
  authorizer?: string | { name?: string; arn?: string; identitySource?: string | string[] };
}

const API = "WebsocketsApi";
const DEFAULTS = { runtime: "nodejs20.x", timeout: 6, memorySize: 1024, identitySource: "route.request.header.Auth" };
/** The function keys compiled here; any other is named in a line. */
const READ_KEYS = new Set([
  "handler",
  "name",
  "runtime",
  "timeout",
  "memorySize",
  "environment",
  "layers",
  "image",
  "role",
]);
/** Function keys that change nothing a handler sees locally. */
const QUIET_KEYS = new Set(["description", "package", "events", "architecture", "tags", "logRetentionInDays"]);

/** The Framework's logical-id form of a function name (`getNormalizedFunctionName`). */
const normalized = (name: string) => {
  const text = name.replace(/-/g, "Dash").replace(/_/g, "Underscore");
  return text.charAt(0).toUpperCase() + text.slice(1);
};
/** The Framework's logical-id form of a route key (`getNormalizedWebsocketsRouteKey`). */
const routeId = (route: string) =>
  route
    .replace(/\$/g, "S")
    .replace(/\//g, "Slash")
    .replace(/-/g, "Dash")
    .replace(/_/g, "Underscore")
    .replace(/\./g, "Period");
const functionId = (name: string) => `${normalized(name)}LambdaFunction`;
const invocationUri = (arn: unknown) => ({
  "Fn::Join": [
    "",
    ["arn:aws:apigateway:", { Ref: "AWS::Region" }, ":lambda:path/2015-03-31/functions/", arn, "/invocations"],
  ],
});

/** The resources the Framework compiles the service's functions and WebSocket API to. */
export function compileResources(service: ServerlessService, notes: string[]): Record<string, TemplateResource> {
  const { provider } = service;
  const resources: Record<string, TemplateResource> = {
    [API]: {
      Type: "AWS::ApiGatewayV2::Api",
      Properties: {
        Name: provider.websocketsApiName ?? `${service.stage}-${service.service}-websockets`,
        ProtocolType: "WEBSOCKET",
        RouteSelectionExpression: provider.websocketsApiRouteSelectionExpression ?? "$request.body.action",
      },
    },
    WebsocketsDeploymentStage: {
      Type: "AWS::ApiGatewayV2::Stage",
      Properties: { ApiId: { Ref: API }, StageName: service.stage },
    },
  };
  let routes = 0;
  for (const [name, fn] of Object.entries(service.functions)) {
    resources[functionId(name)] = lambdaFunction(service, name, fn, notes);
    for (const event of fn.events ?? []) {
      const [type] = Object.keys(event);
      if (type !== "websocket") {
        notes.push(`function ${name}: event ${type} is not replayed; only the WebSocket API invokes it`);
        continue;
      }
      Object.assign(resources, websocketRoute(name, websocketEvent(event.websocket, name), notes));
      routes++;
    }
  }
  if (routes === 0) throw new SourceError("no function has a websocket event");
  return resources;
}

function lambdaFunction(
  service: ServerlessService,
  name: string,
  fn: ServerlessFunction,
  notes: string[],
): TemplateResource {
  const { provider } = service;
  for (const key of Object.keys(fn).filter((key) => !READ_KEYS.has(key) && !QUIET_KEYS.has(key))) {
    notes.push(`function ${name}: ${key} is not replayed locally`);
  }
  const runtime = fn.runtime ?? provider.runtime;
  if (runtime === undefined && fn.image === undefined) {
    notes.push(`function ${name}: no runtime given; run as ${DEFAULTS.runtime}`);
  }
  const environment = { ...(provider.environment as object | undefined), ...fn.environment };
  return {
    Type: "AWS::Serverless::Function",
    Properties: {
      FunctionName: fn.name ?? `${service.service}-${service.stage}-${name}`,
      // The service's folder is what the Framework packages for each function.
      CodeUri: ".",
      ...(fn.image !== undefined ? { PackageType: "Image" } : { Handler: fn.handler }),
      Runtime: runtime ?? DEFAULTS.runtime,
      Timeout: fn.timeout ?? provider.timeout ?? DEFAULTS.timeout,
      MemorySize: fn.memorySize ?? provider.memorySize ?? DEFAULTS.memorySize,
      Environment: { Variables: environment },
      ...(fn.layers !== undefined && { Layers: fn.layers }),
      ...executionRole(provider, fn),
    },
  };
}

/**
 * The function's role as the Framework makes it: a `role` of its own or the provider's (a
 * logical id of `resources:`, or an ARN), else one role for the service allowing
 * `provider.iam.role.statements` and `managedPolicies` (Framework 2's `iamRoleStatements` and
 * `iamManagedPolicies` too), read as SAM `Policies` (`../cloudformation/roles.ts`).
 * https://www.serverless.com/framework/docs/providers/aws/guide/iam
 */
function executionRole(provider: Record<string, unknown>, fn: ServerlessFunction): Record<string, unknown> {
  const iam = provider.iam as { role?: unknown } | undefined;
  const role =
    fn.role ?? (typeof iam?.role === "string" || isIntrinsic(iam?.role) ? iam?.role : undefined) ?? provider.role;
  if (role !== undefined) {
    return { Role: typeof role === "string" && !role.startsWith("arn:") ? { "Fn::GetAtt": [role, "Arn"] } : role };
  }
  const shared = (iam?.role ?? {}) as { statements?: unknown[]; managedPolicies?: unknown[] };
  const statements = [...(shared.statements ?? []), ...((provider.iamRoleStatements as unknown[]) ?? [])];
  const managed = [...(shared.managedPolicies ?? []), ...((provider.iamManagedPolicies as unknown[]) ?? [])];
  return { Policies: [...managed, ...(statements.length > 0 ? [{ Statement: statements }] : [])] };
}

const isIntrinsic = (value: unknown) =>
  typeof value === "object" && value !== null && Object.keys(value).some((key) => key.startsWith("Fn::"));

/** `websocket: $connect` or `websocket: {route, ...}`. */
function websocketEvent(value: unknown, name: string): WebsocketEvent {
  const event = typeof value === "string" ? { route: value } : (value as WebsocketEvent | undefined);
  if (typeof event?.route !== "string") throw new SourceError(`function ${name}: a websocket event without a route`);
  return event;
}

/** The route, its integration, its route response (two-way) and, on `$connect`, its authorizer. */
function websocketRoute(name: string, event: WebsocketEvent, notes: string[]): Record<string, TemplateResource> {
  const integration = `${normalized(name)}WebsocketsIntegration`;
  const route = `${routeId(event.route)}WebsocketsRoute`;
  const resources: Record<string, TemplateResource> = {
    [integration]: {
      Type: "AWS::ApiGatewayV2::Integration",
      Properties: {
        ApiId: { Ref: API },
        IntegrationType: "AWS_PROXY",
        IntegrationUri: invocationUri({ "Fn::GetAtt": [functionId(name), "Arn"] }),
      },
    },
  };
  const authorizer = event.authorizer && connectAuthorizer(event, name, notes);
  resources[route] = {
    Type: "AWS::ApiGatewayV2::Route",
    Properties: {
      ApiId: { Ref: API },
      RouteKey: event.route,
      Target: `integrations/${integration}`,
      AuthorizationType: authorizer ? "CUSTOM" : "NONE",
      ...(authorizer && { AuthorizerId: authorizer.id }),
    },
  };
  if (authorizer) resources[authorizer.id] = authorizer.resource;
  if (event.routeResponseSelectionExpression !== undefined) {
    resources[`${route}Response`] = {
      Type: "AWS::ApiGatewayV2::RouteResponse",
      Properties: { ApiId: { Ref: API }, RouteId: route, RouteResponseKey: "$default" },
    };
  }
  return resources;
}

/** The authorizer a `$connect` event names: a function of the service, by name, or any function by ARN. */
function connectAuthorizer(event: WebsocketEvent, name: string, notes: string[]) {
  if (event.route !== "$connect") {
    notes.push(`function ${name}: route ${event.route}'s authorizer is ignored; API Gateway authorizes $connect only`);
    return undefined;
  }
  const given = typeof event.authorizer === "string" ? { name: event.authorizer } : (event.authorizer ?? {});
  const arn = given.arn ?? (given.name?.startsWith("arn:") ? given.name : undefined);
  // As the Framework names one given by ARN: the last part of the ARN.
  const authorizerName = arn ? (arn.split(":").pop() as string) : (given.name as string);
  const sources = given.identitySource ?? [DEFAULTS.identitySource];
  return {
    id: `${normalized(authorizerName)}WebsocketsAuthorizer`,
    resource: {
      Type: "AWS::ApiGatewayV2::Authorizer",
      Properties: {
        ApiId: { Ref: API },
        Name: authorizerName,
        AuthorizerType: "REQUEST",
        AuthorizerUri: invocationUri(arn ?? { "Fn::GetAtt": [functionId(authorizerName), "Arn"] }),
        IdentitySource: [sources].flat(),
      },
    },
  };
}

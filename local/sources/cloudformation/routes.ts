/**
 * An `AWS::ApiGatewayV2::Api`'s routes as the gateway dispatches them: each `Route` of the API, its
 * `Target` (`integrations/{id}`) an `AWS_PROXY` `Integration` whose `IntegrationUri` names a Lambda
 * function of the template, two-way when a `RouteResponse` names it, and the `$connect` route's
 * `CUSTOM` authorizer (`AuthorizerType: REQUEST`, its `IdentitySource`). What else a route can be
 * (a non-proxy or HTTP integration, IAM authorization, API keys) is named in the app's lines.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigatewayv2-route.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigatewayv2-integration.html
 */
import type { AppAuthorizer, AppFunction, AppRoute } from "../../websocket-app";
import { SourceError } from "../source-error";
import { codeFunction, UnrunnableFunctionError } from "./functions";
import { UnresolvableError } from "./intrinsics";
import type { Stack } from "./stack";

const FUNCTION_TYPES = new Set(["AWS::Lambda::Function", "AWS::Serverless::Function"]);

/** Reads routes and the authorizer of the API whose id is `apiId`; `used` collects each resource they take. */
export function apiRoutes(
  stack: Stack,
  apiId: string,
  notes: string[],
  used: Set<string>,
): { routes: AppRoute[]; authorizer?: AppAuthorizer } {
  const ofApi = (type: string) =>
    stack.ofType(type).filter((logicalId) => stack.property(logicalId, "ApiId") === apiId);
  const functions = new FunctionsByArn(stack, notes, used);
  const twoWay = new Set(ofApi("AWS::ApiGatewayV2::RouteResponse").map((id) => stack.property(id, "RouteId")));
  for (const id of ofApi("AWS::ApiGatewayV2::RouteResponse")) used.add(id);
  const routes: AppRoute[] = [];
  let authorizer: AppAuthorizer | undefined;
  for (const logicalId of ofApi("AWS::ApiGatewayV2::Route")) {
    used.add(logicalId);
    const property = (name: string) => stack.property(logicalId, name);
    const routeKey = String(property("RouteKey"));
    const what = `route ${routeKey} (${logicalId})`;
    const integrationId = /^integrations\/(.+)$/.exec(String(property("Target") ?? ""))?.[1];
    if (!integrationId || !stack.resources.has(integrationId)) {
      notes.push(`${what}: no integration (Target); API Gateway would answer it with an error, locally it is left out`);
      continue;
    }
    used.add(integrationId);
    const type = stack.property(integrationId, "IntegrationType");
    if (type !== "AWS_PROXY") {
      notes.push(
        `${what}: its ${String(type)} integration is not replayed (only Lambda proxy integrations are); left out`,
      );
      continue;
    }
    if (property("ApiKeyRequired") === true || property("ApiKeyRequired") === "true") {
      notes.push(`${what}: ApiKeyRequired is not checked locally`);
    }
    const authorization = property("AuthorizationType") ?? "NONE";
    if (routeKey === "$connect" && authorization === "CUSTOM") {
      authorizer = routeAuthorizer(stack, String(property("AuthorizerId")), functions, used);
    } else if (authorization !== "NONE") {
      notes.push(`${what}: ${String(authorization)} authorization is not replayed; the route runs unauthorized`);
    }
    routes.push({
      routeKey,
      function: functions.byUri(stack.property(integrationId, "IntegrationUri"), what),
      routeResponse: twoWay.has(logicalId),
    });
  }
  return { routes, ...(authorizer && { authorizer }) };
}

function routeAuthorizer(stack: Stack, logicalId: string, functions: FunctionsByArn, used: Set<string>): AppAuthorizer {
  used.add(logicalId);
  const property = (name: string) => stack.property(logicalId, name);
  const what = `authorizer ${logicalId}`;
  if (property("AuthorizerType") !== "REQUEST") {
    throw new SourceError(
      `${stack.file}: ${what}: only Lambda REQUEST authorizers are replayed, not ${String(property("AuthorizerType"))}`,
    );
  }
  const sources = property("IdentitySource") ?? [];
  return {
    name: String(property("Name") ?? logicalId),
    function: functions.byUri(property("AuthorizerUri"), what),
    identitySources: (Array.isArray(sources) ? sources : String(sources).split(",")).map((source) =>
      String(source).trim(),
    ),
  };
}

/** The template's functions, found by the ARN an integration or authorizer URI names, each built once. */
class FunctionsByArn {
  private readonly built = new Map<string, AppFunction>();

  constructor(
    private readonly stack: Stack,
    private readonly notes: string[],
    private readonly used: Set<string>,
  ) {}

  /** The function `uri` invokes (`arn:aws:apigateway:...:lambda:path/2015-03-31/functions/{arn}/invocations`). */
  byUri(uri: unknown, what: string): AppFunction {
    const name = /:function:([^/:]+)/.exec(String(uri))?.[1];
    const logicalId = [...this.stack.resources.keys()].find(
      (id) => FUNCTION_TYPES.has(this.stack.resources.get(id)?.Type ?? "") && this.stack.physicalName(id) === name,
    );
    if (!logicalId) {
      return this.failing(
        name ?? String(uri),
        `${what}: it invokes ${String(uri)}, which is not a function of this template`,
      );
    }
    this.used.add(logicalId);
    const known = this.built.get(logicalId);
    if (known) return known;
    let fn: AppFunction;
    try {
      fn = codeFunction(this.stack, logicalId, this.notes);
    } catch (error) {
      if (!(error instanceof UnrunnableFunctionError || error instanceof UnresolvableError)) throw error;
      fn = this.failing(this.stack.physicalName(logicalId), error.message);
    }
    this.built.set(logicalId, fn);
    return fn;
  }

  /** A stand-in that fails every invocation with `why`, so its route answers as a failing function's would. */
  private failing(name: string, why: string): AppFunction {
    this.notes.push(`${why}; its invocations fail`);
    return {
      kind: "in-process",
      name,
      init: () => async () => {
        throw Object.assign(new Error(`not run locally: ${why}`), { name: "Runtime.LocalGatewayUnsupported" });
      },
    };
  }
}

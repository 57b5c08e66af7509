/**
 * One WebSocket API as the local gateway serves it, whatever it was read from: a SAM or
 * CloudFormation template, a CDK app's `cdk.out`, a `serverless.yml` (`./sources/`), or a route
 * table of in-process handlers (the chat's, `./chat/`). Its routes, the `$connect` authorizer, the
 * functions they invoke, the DynamoDB tables to create, and a line for each part of the source that
 * the gateway cannot replay.
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import type { PolicyStatement } from "./iam/policy";
import type { EnvironmentState, Handler } from "./lambda/execution-environments";

/** A function whose code is on disk, run by its runtime in processes of its own, as Lambda runs it. */
export interface CodeFunction {
  kind: "code";
  /** The function's physical name (`AWS_LAMBDA_FUNCTION_NAME`). */
  name: string;
  /** Lambda's runtime identifier: `nodejs20.x`, `python3.12`, ... */
  runtime: string;
  /** The folder Lambda would unpack the code into (`LAMBDA_TASK_ROOT`). */
  codeDir: string;
  /** `file.export` (Node.js) or `module.function` (Python), relative to `codeDir`. */
  handler: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
  memorySize: number;
  /** Its execution role's statements; absent when the source cannot say (it then signs as the operator). */
  policy?: readonly PolicyStatement[];
}

/** A function whose handler is built in this process (a route table's factories, a test's stub). */
export interface InProcessFunction {
  kind: "in-process";
  name: string;
  /** Builds one execution environment's handler, as a cold start runs the function's module. */
  init(environment: EnvironmentState): Handler<never, unknown>;
  /** Default: the gateway's function timeout. */
  timeoutSeconds?: number;
}

export type AppFunction = CodeFunction | InProcessFunction;

export interface AppRoute {
  /** `$connect`, `$disconnect`, `$default`, or a value the route selection expression selects. */
  routeKey: string;
  function: AppFunction;
  /** Two-way: the function's `body` goes back to the caller (an `AWS::ApiGatewayV2::RouteResponse`). */
  routeResponse: boolean;
}

/** The `$connect` route's Lambda REQUEST authorizer. */
export interface AppAuthorizer {
  name: string;
  function: AppFunction;
  /** `route.request.querystring.{name}`, `route.request.header.{name}`. */
  identitySources: readonly string[];
}

/** A table as DynamoDB's CreateTable takes it, and the attribute its TTL reads, if on. */
export interface AppTable {
  definition: CreateTableCommandInput & { TableName: string };
  ttlAttribute?: string;
}

export interface WebSocketApp {
  /** What it was read from (a file or folder), for messages. */
  source: string;
  stage: string;
  routeSelectionExpression: string;
  routes: readonly AppRoute[];
  authorizer?: AppAuthorizer;
  tables: readonly AppTable[];
  /** The stage's default throttling (`DefaultRouteSettings`), if the source sets it. */
  throttling?: { burstLimit: number; rateLimit: number };
  /** One line per part of the source the gateway cannot replay: what it is, and what happens instead. */
  unmapped: readonly string[];
}

/** The functions an app runs (routes' and authorizer's), each once. */
export function appFunctions(app: Pick<WebSocketApp, "routes" | "authorizer">): AppFunction[] {
  const all = [...app.routes.map((route) => route.function), ...(app.authorizer ? [app.authorizer.function] : [])];
  return [...new Set(all)];
}

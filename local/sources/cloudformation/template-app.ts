/**
 * A SAM or CloudFormation template (or one stack of a CDK app) as the WebSocket app the gateway
 * serves: its `AWS::ApiGatewayV2::Api` of `ProtocolType: WEBSOCKET`, the stage, the routes and
 * authorizer (`./routes.ts`), the functions they invoke (`./functions.ts`), the tables
 * (`./tables.ts`); and one line for each kind of resource it does not replay, naming the resources.
 * SAM has no WebSocket resource of its own, so SAM templates declare these same resources
 * (aws-sam-cli#7975: "the only way to have WebSocket APIs is to define them manually using
 * CloudFormation resources").
 */
import type { WebSocketApp } from "../../websocket-app";
import { SourceError } from "../source-error";
import { apiRoutes } from "./routes";
import { Stack, type StackPlace } from "./stack";
import { appTables } from "./tables";
import type { Template } from "./template-file";

export interface TemplateOptions extends StackPlace {
  /** The logical id of the API to serve, when the template has more than one WebSocket API. */
  api?: string;
  /** The stage to serve, when the API has more than one. */
  stage?: string;
}

const SAM_TRANSFORM = "AWS::Serverless-2016-10-31";

/** Resources the gateway leaves aside on purpose, by type, and why. */
const LEFT_ASIDE: Record<string, string> = {
  "AWS::Lambda::Permission": "not needed locally: API Gateway may invoke every function it routes to",
  "AWS::ApiGatewayV2::Deployment": "not needed locally: every route is deployed as the template has it",
  "AWS::CDK::Metadata": "not needed locally",
};
/** Read as the functions' roles (`./roles.ts`), which name what of them they cannot read. */
const READ_AS_ROLES = ["AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"];

export function templateApp(template: Template, file: string, options: TemplateOptions): WebSocketApp {
  const stack = new Stack(template, file, options);
  const notes: string[] = [];
  for (const transform of [template.Transform ?? []].flat()) {
    if (transform !== SAM_TRANSFORM)
      notes.push(`Transform ${transform} is not applied locally; the template is read as written`);
  }
  const api = servedApi(stack, options.api);
  stack.servedApi = api;
  const used = new Set([api]);
  const stage = servedStage(stack, options, notes, used);
  const { routes, authorizer } = apiRoutes(stack, options.apiId, notes, used);
  const tables = appTables(stack, notes);
  for (const id of [...stack.ofType("AWS::DynamoDB::Table"), ...stack.ofType("AWS::Serverless::SimpleTable")])
    used.add(id);
  for (const id of READ_AS_ROLES.flatMap((type) => stack.ofType(type))) used.add(id);
  return {
    source: file,
    stage: stage.name,
    routeSelectionExpression: String(stack.property(api, "RouteSelectionExpression")),
    routes,
    ...(authorizer && { authorizer }),
    tables,
    ...(stage.throttling && { throttling: stage.throttling }),
    unmapped: [...notes, ...leftAside(stack, used)],
  };
}

/** The WebSocket API to serve: the one asked for, or the template's only one. */
function servedApi(stack: Stack, asked: string | undefined): string {
  const apis = stack
    .ofType("AWS::ApiGatewayV2::Api")
    .filter((id) => stack.property(id, "ProtocolType") === "WEBSOCKET");
  if (asked !== undefined) {
    if (!apis.includes(asked)) {
      throw new SourceError(`${stack.file}: no WebSocket API ${asked}; it has ${apis.join(", ") || "none"}`);
    }
    return asked;
  }
  if (apis.length === 1) return apis[0] as string;
  throw new SourceError(
    apis.length === 0
      ? `${stack.file}: no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET`
      : `${stack.file}: ${apis.length} WebSocket APIs (${apis.join(", ")}): name one with --api`,
  );
}

/** The stage to serve (the one asked for, else the API's first), and its default throttling. */
function servedStage(stack: Stack, options: TemplateOptions, notes: string[], used: Set<string>) {
  const stages = stack
    .ofType("AWS::ApiGatewayV2::Stage")
    .filter((id) => stack.property(id, "ApiId") === options.apiId)
    .map((id) => ({ id, name: String(stack.property(id, "StageName")) }));
  const chosen = options.stage === undefined ? stages[0] : stages.find((stage) => stage.name === options.stage);
  if (!chosen) {
    if (options.stage === undefined) notes.push("no AWS::ApiGatewayV2::Stage: served under the stage dev");
    else if (stages.length > 0)
      throw new SourceError(`${stack.file}: no stage ${options.stage}; it has ${stages.map((s) => s.name).join(", ")}`);
    return { name: options.stage ?? "dev" };
  }
  for (const stage of stages) used.add(stage.id);
  for (const other of stages.filter((stage) => stage !== chosen)) {
    notes.push(`stage ${other.name} (${other.id}) is not served; this gateway serves ${chosen.name} (--stage)`);
  }
  const property = (name: string) => stack.property(chosen.id, name) as Record<string, unknown> | undefined;
  if (property("StageVariables")) notes.push(`stage ${chosen.name}: StageVariables are not passed to the functions`);
  if (property("RouteSettings"))
    notes.push(`stage ${chosen.name}: RouteSettings are not applied; DefaultRouteSettings are`);
  const defaults = property("DefaultRouteSettings");
  const burst = defaults?.ThrottlingBurstLimit;
  const rate = defaults?.ThrottlingRateLimit;
  return {
    name: chosen.name,
    ...(burst !== undefined &&
      rate !== undefined && { throttling: { burstLimit: Number(burst), rateLimit: Number(rate) } }),
  };
}

/** One line per type of resource the app does not use, naming each. */
function leftAside(stack: Stack, used: ReadonlySet<string>): string[] {
  const byType = new Map<string, string[]>();
  for (const [id, resource] of stack.resources) {
    if (used.has(id)) continue;
    byType.set(resource.Type, [...(byType.get(resource.Type) ?? []), id]);
  }
  return [...byType]
    .filter(([type]) => LEFT_ASIDE[type] !== "")
    .map(([type, ids]) => {
      const why =
        LEFT_ASIDE[type] ??
        (type.endsWith("::Function") ? "no route or authorizer invokes it: not run" : "not replayed locally");
      return `${type} ${ids.join(", ")}: ${why}`;
    });
}

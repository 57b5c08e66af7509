/**
 * The broadcast worker of large rooms as Pulumi declares it: its function, role and asynchronous
 * invocation settings.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { cloudTelemetry } from "../functions/broadcast/broadcast-metrics";
import { permissionStatements } from "../functions/permissions";
import { broadcastWorker } from "../functions/routes";
import { readFunctionConfig } from "../functions/runtime/function-config";
import {
  buildHandlerDependencies,
  type ClientFactories,
  createManagementApi,
} from "../functions/runtime/handler-dependencies";
import { lambdaHandler } from "../functions/runtime/telemetry";
import { createInlineFunction, type FunctionDefaults, type InlineFunction } from "./inline-function";
import { permissionTargets, tableEnvironment, type WebSocketRouteArgs } from "./websocket-route";

interface BroadcastWorkerArgs {
  api: aws.apigatewayv2.Api;
  stageName: string;
  tables: WebSocketRouteArgs["tables"];
  functionName: string;
  defaults: FunctionDefaults;
  timeoutSeconds: number;
  environment: Record<string, pulumi.Input<string>>;
}

/**
 * The broadcast worker (`functions/broadcast/fanout.ts`): its function, with a role that may read the room
 * index, post to this stage's connections, remove the gone ones and write fan-out claims, nothing
 * else; and its asynchronous invocation settings (no retries, a minute's event age).
 */
export function createBroadcastWorker(
  parent: pulumi.Resource,
  name: string,
  args: BroadcastWorkerArgs,
): InlineFunction & { invokeConfig: aws.lambda.FunctionEventInvokeConfig } {
  const worker = createInlineFunction(parent, name, {
    functionName: args.functionName,
    description: "Broadcast worker: posts a message to one slice of a large room",
    callbackFactory: broadcastWorkerFactory(broadcastWorker),
    memorySize: broadcastWorker.memorySize,
    timeoutSeconds: args.timeoutSeconds,
    defaults: args.defaults,
    environment: { ...tableEnvironment(args.tables), ...args.environment },
    statements: permissionStatements(broadcastWorker, permissionTargets(args)),
  });
  // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
  const invokeConfig = new aws.lambda.FunctionEventInvokeConfig(
    `${name}-async`,
    {
      functionName: worker.function.name,
      maximumRetryAttempts: broadcastWorker.maximumRetryAttempts,
      maximumEventAgeInSeconds: broadcastWorker.maximumEventAgeSeconds,
    },
    { parent },
  );
  return { ...worker, invokeConfig };
}

/**
 * The worker's entry point. `worker` is a parameter so that the closure captures the definition
 * alone: a reference to the imported module would serialize the whole route table with it. It
 * posts and records metrics, and invokes nothing: its bundle holds no Lambda client.
 */
export function broadcastWorkerFactory(worker: typeof broadcastWorker) {
  const clients: ClientFactories = { managementApi: createManagementApi };
  // The function itself: through its module, Pulumi would serialize every export (and client) of it.
  const build = buildHandlerDependencies;
  return () => {
    const telemetry = cloudTelemetry();
    const handler = worker.createHandler(build(readFunctionConfig(), { telemetry }, clients));
    return lambdaHandler(worker.name, telemetry.logger, handler);
  };
}

/**
 * What the local gateway's route handlers are given, per execution environment: the deployed
 * functions' real dependencies (the AWS SDK clients), with DynamoDB shared by all environments (one
 * pool of connections to it), and a management client and a Lambda client per environment that
 * reach this gateway without a socket (outside callers use HTTP); all refuse a stopped
 * environment's calls.
 */

import type { LimitsStore } from "../../dal/limits-table";
import type { BroadcastJob, BroadcastWorkerClient } from "../../functions/broadcast/fanout";
import type { FunctionConfig } from "../../functions/runtime/function-config";
import {
  createBroadcastWorkerClient,
  createHandlerDependencies,
  createManagementApi,
  type HandlerDependencies,
} from "../../functions/runtime/handler-dependencies";
import { inProcessRequestHandler, type ManagementApiOptions } from "../api-gateway/management-api";
import type { LocalGatewayOptions } from "../gateway-options";
import type { AsyncInvocations } from "../lambda/async-invocations";
import {
  type EnvironmentState,
  environmentManagementApi,
  environmentRepository,
  refuseIfStopped,
} from "../lambda/execution-environments";

export function localHandlerDependencies(
  config: FunctionConfig,
  options: Pick<LocalGatewayOptions, "createDependencies">,
  functionTimeoutMs: number,
  { management, lambda }: { management: ManagementApiOptions; lambda: AsyncInvocations },
): (environment: EnvironmentState) => HandlerDependencies {
  // A caller's own dependencies (tests) are used as they are, in every environment.
  if (options.createDependencies) {
    const own = options.createDependencies(config);
    return () => own;
  }
  const shared = createHandlerDependencies(config, {
    // DynamoDB on loopback is slow only when this machine is busy (a thousand clients leaving at
    // once): wait as long as the function may run, never less than the SDK defaults, rather than
    // fail and leave rows behind.
    dynamodbTimeouts: {
      connectionTimeoutMs: Math.max(functionTimeoutMs, 1_000),
      requestTimeoutMs: Math.max(functionTimeoutMs, 2_000),
    },
  });
  return (environment) => ({
    ...shared,
    connections: environmentRepository(shared.connections, environment),
    memberships: environmentRepository(shared.memberships, environment),
    claims: environmentRepository(shared.claims, environment),
    ...(shared.limits && { limits: environmentLimits(shared.limits, environment) }),
    ...(config.broadcastFunctionName && { broadcastWorker: lazyWorkerClient(config, lambda, environment) }),
    managementApi: environmentManagementApi(
      createManagementApi(config, inProcessRequestHandler(management, environment)),
      environment,
    ),
  });
}

/** The limits table, refused to an environment Lambda has stopped, as its repositories are. */
function environmentLimits(limits: LimitsStore, environment: EnvironmentState): LimitsStore {
  const refused =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A) => {
      refuseIfStopped(environment);
      return call(...args);
    };
  return {
    take: refused(limits.take.bind(limits)),
    addCapped: refused(limits.addCapped.bind(limits)),
    remove: refused(limits.remove.bind(limits)),
    members: refused(limits.members.bind(limits)),
  };
}

/** A Lambda client for `environment`, built on its first hand-off: most routes never make one. */
function lazyWorkerClient(config: FunctionConfig, lambda: AsyncInvocations, environment: EnvironmentState) {
  let client: BroadcastWorkerClient | undefined;
  return {
    invoke: (job: BroadcastJob) => {
      client ??= createBroadcastWorkerClient(config, lambda.requestHandler(environment));
      return client.invoke(job);
    },
  };
}

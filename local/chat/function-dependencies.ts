/**
 * What the local gateway's route handlers are given, per execution environment: the deployed
 * functions' real dependencies (the AWS SDK clients), signed with their function's own role's
 * credentials, with DynamoDB shared by a function's environments (one pool of connections to it),
 * and a management client and a Lambda client per environment that reach this gateway without a
 * socket (outside callers use HTTP); all refuse a stopped environment's calls.
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
import type { Credentials } from "../iam/local-iam";
import type { AsyncInvocations } from "../lambda/async-invocations";
import {
  type EnvironmentState,
  environmentManagementApi,
  environmentRepository,
  refuseIfStopped,
} from "../lambda/execution-environments";

interface LocalDependencyOptions {
  /** A function's role's credentials, by function name. */
  credentials: (functionName: string) => Credentials;
  /** The operator's: what a caller's own dependencies sign with. */
  operator: Credentials;
  management: ManagementApiOptions;
  lambda: AsyncInvocations;
}

/** A function's dependencies in a new execution environment of it. */
type LocalDependencies = (functionName: string, environment: EnvironmentState) => HandlerDependencies;

export function localHandlerDependencies(
  config: FunctionConfig,
  options: Pick<LocalGatewayOptions, "createDependencies">,
  functionTimeoutMs: number,
  { credentials, operator, management, lambda }: LocalDependencyOptions,
): LocalDependencies {
  // A caller's own dependencies (tests) are used as they are, in every environment, as the operator.
  if (options.createDependencies) {
    const own = options.createDependencies({ ...config, credentials: operator });
    return () => own;
  }
  // Each function's clients, built on its first cold start, then shared by its environments.
  const shared = new Map<string, HandlerDependencies>();
  const functionDependencies = (functionName: string) => {
    let deps = shared.get(functionName);
    if (!deps) {
      deps = createHandlerDependencies(
        { ...config, credentials: credentials(functionName) },
        {
          // DynamoDB on loopback is slow only when this machine is busy (a thousand clients leaving
          // at once): wait as long as the function may run, never less than the SDK defaults,
          // rather than fail and leave rows behind.
          dynamodbTimeouts: {
            connectionTimeoutMs: Math.max(functionTimeoutMs, 1_000),
            requestTimeoutMs: Math.max(functionTimeoutMs, 2_000),
          },
        },
      );
      shared.set(functionName, deps);
    }
    return deps;
  };
  return (functionName, environment) => {
    const own = functionDependencies(functionName);
    return {
      ...own,
      connections: environmentRepository(own.connections, environment),
      memberships: environmentRepository(own.memberships, environment),
      claims: environmentRepository(own.claims, environment),
      ...(own.limits && { limits: environmentLimits(own.limits, environment) }),
      ...(config.broadcastFunctionName && {
        broadcastWorker: lazyWorkerClient(own.config, lambda, environment),
      }),
      managementApi: environmentManagementApi(
        createManagementApi(own.config, inProcessRequestHandler(management, environment)),
        environment,
      ),
    };
  };
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

/**
 * Each of the chat's functions gets a role of its own in the local gateway, allowing exactly what
 * the route table declares: the same statements the Pulumi program grants in the cloud
 * (`functions/permissions.ts`), with this gateway's ARNs. A function's SDK clients are given its
 * role's credentials alone, so a call its role does not allow fails here as it would in AWS.
 */
import { ROOM_INDEX } from "../../functions/chat/room";
import { type PermissionTargets, permissionStatements } from "../../functions/permissions";
import type { FunctionPermissions } from "../../functions/routes";
import { type Credentials, LOCAL_ACCOUNT_ID, type LocalIam } from "../iam/local-iam";

export interface LocalResources {
  region: string;
  apiId: string;
  stage: string;
  tableName: string;
  messagesTableName: string;
  /** Each identity's budgets. */
  limitsTableName: string;
  /** The broadcast worker's function name, if the routes fan out. */
  broadcastWorker?: string;
  /** The KMS key that signs guest tokens, if there is one. */
  signingKeyArn?: string;
}

/** The ARNs the chat's permissions name, in this gateway's account and region. */
function localPermissionTargets(resources: LocalResources): PermissionTargets<string> {
  const { region, apiId, stage } = resources;
  const table = (name: string) => `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${name}`;
  return {
    data: {
      connections: table(resources.tableName),
      roomIndex: `${table(resources.tableName)}/index/${ROOM_INDEX}`,
      messages: table(resources.messagesTableName),
      limits: table(resources.limitsTableName),
    },
    connectionsApi: `arn:aws:execute-api:${region}:${LOCAL_ACCOUNT_ID}:${apiId}/${stage}/POST/@connections/*`,
    ...(resources.broadcastWorker && {
      broadcastWorker: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${resources.broadcastWorker}`,
    }),
    ...(resources.signingKeyArn && { signingKey: resources.signingKeyArn }),
  };
}

/** Makes `functionName`'s role allowing `permissions` on this gateway's resources; returns its credentials. */
function functionRole(
  iam: LocalIam,
  functionName: string,
  permissions: FunctionPermissions,
  resources: LocalResources,
): Credentials {
  return iam.createFunctionRole(functionName, permissionStatements(permissions, localPermissionTargets(resources)));
}

/**
 * The roles of the chat's functions, made now from their declarations (`permissions[name]` in
 * place of one, to take a permission away): a policy this replay cannot read stops the gateway at
 * start. `credentials(name)` is a function's; `role` makes the token endpoint's once its key exists.
 */
export function chatFunctionRoles(
  iam: LocalIam,
  functions: readonly (FunctionPermissions & { name: string })[],
  resources: LocalResources,
  permissions: Readonly<Record<string, FunctionPermissions>> = {},
) {
  const made = new Map<string, Credentials>();
  const role = (name: string, declared: FunctionPermissions, signingKeyArn?: string) => {
    const credentials = functionRole(iam, name, permissions[name] ?? declared, { ...resources, signingKeyArn });
    made.set(name, credentials);
    return credentials;
  };
  for (const fn of functions) role(fn.name, fn);
  return {
    role,
    credentials(name: string): Credentials {
      const credentials = made.get(name);
      if (!credentials) throw new Error(`no role was made for function ${name}`);
      return credentials;
    },
  };
}

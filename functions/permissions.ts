/**
 * Each function's role as IAM statements, rendered from what the route table declares
 * (`./routes.ts`): the Pulumi program grants exactly these (`infra/`), and the local gateway
 * enforces exactly these on every AWS call its functions make (`local/chat/function-roles.ts`).
 * One rendering for both, so a permission missing in the cloud is missing locally too. The ARNs
 * are the caller's: Pulumi outputs in the cloud, strings locally.
 */
import type { DataResource, FunctionPermissions } from "./routes";

/** The resources a function may be allowed to act on: those its permissions name must be given. */
export interface PermissionTargets<A> {
  /**
   * The connections table, its `byRoom` index (`{tableArn}/index/byRoom`: a resource of its own),
   * the messages table, the limits table.
   */
  data?: Partial<Record<DataResource, A>>;
  /** `{executionArn}/{stage}/POST/@connections/*`: posting to this stage's connections. */
  connectionsApi?: A;
  /** The broadcast worker's function, for the routes that fan out. */
  broadcastWorker?: A;
  /** The KMS key that signs guest tokens, for the token endpoint. */
  signingKey?: A;
}

/** One statement of an identity-based policy. */
interface PermissionStatement<A> {
  Sid: string;
  Effect: "Allow";
  Action: string | string[];
  Resource: A;
  Condition?: Record<string, Record<string, string[]>>;
}

/**
 * The statements `permissions` grants on `targets`, one per table or index used
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-specific-table-indexes.html),
 * then posting to connections, invoking the worker, signing tokens.
 */
export function permissionStatements<A>(
  permissions: FunctionPermissions,
  targets: PermissionTargets<A>,
): PermissionStatement<A>[] {
  const sids: Record<DataResource, string> = {
    connections: "ConnectionsTable",
    roomIndex: "RoomIndex",
    messages: "MessagesTable",
    limits: "LimitsTable",
  };
  const statements: PermissionStatement<A>[] = [];
  for (const [resource, granted] of Object.entries(permissions.tableActions ?? {}) as [DataResource, string[]][]) {
    if (granted.length === 0) continue;
    const prefix = resource === "messages" ? permissions.messagesKeyPrefix : undefined;
    statements.push({
      Sid: sids[resource],
      Effect: "Allow",
      Action: [...granted],
      Resource: required(targets.data?.[resource], `the ${resource} table or index`),
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
      ...(prefix && { Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${prefix}*`] } } }),
    });
  }
  if (permissions.manageConnections) {
    statements.push({
      Sid: "PostToConnections",
      Effect: "Allow",
      Action: "execute-api:ManageConnections",
      Resource: required(targets.connectionsApi, "the stage's @connections API"),
    });
  }
  if (permissions.fansOut) {
    statements.push({
      Sid: "InvokeBroadcastWorker",
      Effect: "Allow",
      Action: "lambda:InvokeFunction",
      Resource: required(targets.broadcastWorker, "the broadcast worker"),
    });
  }
  if (permissions.signsTokens) {
    statements.push({
      Sid: "SignGuestTokens",
      Effect: "Allow",
      Action: "kms:Sign",
      Resource: required(targets.signingKey, "the token signing key"),
    });
  }
  return statements;
}

function required<A>(target: A | undefined, what: string): A {
  if (target === undefined) throw new Error(`a permission names ${what}, but no ARN was given for it`);
  return target;
}

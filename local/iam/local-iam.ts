/**
 * The identities of the local gateway's account: a role per function, whose credentials only that
 * function's SDK clients are given (as Lambda gives each function its execution role's in its
 * environment), and the operator (whoever runs the gateway), allowed everything, as an account's
 * administrator is. Every local service (DynamoDB, `@connections`, Lambda, KMS) asks this which
 * identity signed a request and whether its policies allow the call, and refuses with AWS's
 * message when they do not. https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
 */
import { randomBytes } from "node:crypto";
import { checkPolicy, type Decision, evaluate, type PolicyStatement, type RequestContext } from "./policy";

/** The account id in the ARNs the local gateway makes (LocalStack's too). */
export const LOCAL_ACCOUNT_ID = "000000000000";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Principal {
  /** `arn:aws:sts::{account}:assumed-role/{role}/{function}`, or the operator's user ARN. */
  arn: string;
  /** The function whose role this is (absent for the operator). */
  functionName?: string;
  credentials: Credentials;
  statements: readonly PolicyStatement[];
}

/** Everything, everywhere: what the operator (an account administrator) may do. */
const ADMINISTRATOR: readonly PolicyStatement[] = [{ Effect: "Allow", Action: "*", Resource: "*" }];

/** `ASIA` and 16 characters: an access key id shaped like the temporary ones a role's session has. */
function newAccessKeyId(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return `ASIA${[...randomBytes(16)].map((byte) => alphabet[byte % 32]).join("")}`;
}

export class LocalIam {
  private readonly principals = new Map<string, Principal>();
  /** Whoever runs the gateway: its own calls (tables, leases) and the user's tools sign with these. */
  readonly operator: Principal;

  constructor(
    readonly region: string,
    operatorCredentials: Credentials = { accessKeyId: newAccessKeyId(), secretAccessKey: randomSecret() },
  ) {
    this.operator = {
      arn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/local-gateway-operator`,
      credentials: operatorCredentials,
      statements: ADMINISTRATOR,
    };
    this.principals.set(operatorCredentials.accessKeyId, this.operator);
  }

  /**
   * A role for `functionName` allowing exactly `statements`, and fresh credentials for it.
   * Throws `UnsupportedPolicyError` for a policy this replay cannot evaluate.
   */
  createFunctionRole(functionName: string, statements: readonly PolicyStatement[]): Credentials {
    checkPolicy(statements);
    const credentials = { accessKeyId: newAccessKeyId(), secretAccessKey: randomSecret() };
    this.principals.set(credentials.accessKeyId, {
      arn: `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${functionName}-role/${functionName}`,
      functionName,
      credentials,
      statements,
    });
    return credentials;
  }

  /** Who holds `accessKeyId`, if anyone. */
  principal(accessKeyId: string): Principal | undefined {
    return this.principals.get(accessKeyId);
  }

  /** Whether `principal`'s policies allow `action` on `resource`. */
  decide(principal: Principal, action: string, resource: string, context?: RequestContext): Decision {
    return evaluate(principal.statements, { action, resource, ...(context && { context }) });
  }
}

/**
 * AWS's denial message: `User: {arn} is not authorized to perform: {action} on resource: {resource}`,
 * and since 2021 for most services why (`because no identity-based policy allows the {action} action`,
 * or `with an explicit deny in an identity-based policy`); API Gateway's `@connections` still says no why.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
export function notAuthorizedMessage(
  principal: Principal,
  action: string,
  resource: string,
  decision: Exclude<Decision, "allowed">,
  withReason = true,
): string {
  const base = `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${resource}`;
  if (!withReason) return base;
  return decision === "explicitly-denied"
    ? `${base} with an explicit deny in an identity-based policy`
    : `${base} because no identity-based policy allows the ${action} action`;
}

/** What the execution log says of a refused call: who, which action, on what. */
export function deniedNote(principal: Principal, action: string, resource: string): string {
  const who = principal.functionName ? `function ${principal.functionName}` : principal.arn;
  return `AccessDeniedException: ${who} may not ${action} on ${resource} (its role does not allow it)`;
}

function randomSecret(): string {
  return randomBytes(30).toString("base64");
}

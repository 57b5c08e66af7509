/**
 * The `@connections` API's IAM authorization, as API Gateway runs it: the call's Signature Version
 * 4 checked (`../iam/sigv4.ts`: for `execute-api`, in this gateway's region, within five minutes,
 * by a key the account knows, the signature recomputed for calls over a socket), then the signer's
 * policies asked for `execute-api:ManageConnections` on
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/@connections/{connectionId}`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-control-access-iam.html
 * Refusals as captured from AWS (https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden
 * and SDK issue threads): unsigned, 403 MissingAuthenticationTokenException "Missing Authentication
 * Token"; another service or region, 403 InvalidSignatureException "Credential should be scoped
 * to ..."; an unknown key, UnrecognizedClientException; a wrong secret, InvalidSignatureException;
 * no permission, 403 AccessDeniedException whose `Message` names the resource with the account
 * masked but its last four digits and the literal `{connectionId}`, and gives no reason (boto3 and
 * the PHP and JS SDKs show it so: aws/aws-cdk#18410 for DELETE).
 */
import { randomUUID } from "node:crypto";
import { executionLogLine } from "../execution-log";
import { deniedNote, LOCAL_ACCOUNT_ID, type LocalIam, notAuthorizedMessage, type Principal } from "../iam/local-iam";
import { authenticate, missingAuthenticationToken, type SignedRequest } from "../iam/sigv4";

export interface Refusal {
  status: 403;
  type:
    | "MissingAuthenticationTokenException"
    | "IncompleteSignatureException"
    | "InvalidSignatureException"
    | "UnrecognizedClientException"
    | "AccessDeniedException";
  message: string;
  /** The execution log's note, for a call the signer's policies do not allow. */
  denied?: string;
}

export interface ManagementAuthorization {
  iam: LocalIam;
  region: string;
  api: { apiId: string; stage: string };
  /** Recompute the signature: a call over a socket. In process, the transport vouches for its client. */
  recompute: boolean;
  /** A call over a socket: its connection, and the keys connections have proved (recomputed once each). */
  connection?: { socket: object; proved: WeakMap<object, string> };
}

export const missingAuthentication = (): Refusal => ({ status: 403, ...missingAuthenticationToken() });

/** `/{stage}/@connections/{id}`'s id, decoded (as sent, if it cannot be); `undefined` for any other path. */
export function connectionIdOf(path: string): string | undefined {
  const match = /\/@connections\/([^/?]+)$/.exec(path.split("?")[0] as string);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1] as string);
  } catch {
    return match[1];
  }
}

/**
 * Why API Gateway would refuse the call, if it would: a path it has no resource for (refused as
 * unsigned, whatever the signature), the signature, then ManageConnections on the connection; a
 * refusal by IAM is written to the execution log, naming action and resource.
 */
export async function managementRefusal(
  request: SignedRequest,
  options: ManagementAuthorization & { log: (line: string) => void },
): Promise<Refusal | undefined> {
  const connectionId = connectionIdOf(request.path);
  if (connectionId === undefined) return missingAuthentication();
  const decision = await authorizeManagementCall(request, connectionId, options);
  if (!("refusal" in decision)) return undefined;
  const { refusal } = decision;
  if (refusal.denied) {
    const what = `@connections ${request.method}`;
    options.log(
      executionLogLine({ requestId: randomUUID(), what, connectionId, status: refusal.status, note: refusal.denied }),
    );
  }
  return refusal;
}

/** Who may make this management call, or why API Gateway would refuse it. */
async function authorizeManagementCall(
  request: SignedRequest,
  connectionId: string,
  { iam, region, api, recompute, connection }: ManagementAuthorization,
): Promise<{ principal: Principal } | { refusal: Refusal }> {
  const check = { service: "execute-api", region, iam, maxSkewMinutes: 5, recompute, connection };
  const signed = await authenticate(request, check);
  if ("refusal" in signed) return { refusal: { status: 403, ...signed.refusal } };
  const action = "execute-api:ManageConnections";
  const arn = (account: string, id: string) =>
    `arn:aws:execute-api:${region}:${account}:${api.apiId}/${api.stage}/${request.method}/@connections/${id}`;
  const resource = arn(LOCAL_ACCOUNT_ID, connectionId);
  const decision = iam.decide(signed.principal, action, resource);
  if (decision === "allowed") return signed;
  const shown = arn(`********${LOCAL_ACCOUNT_ID.slice(-4)}`, "{connectionId}");
  return {
    refusal: {
      status: 403,
      type: "AccessDeniedException",
      message: notAuthorizedMessage(signed.principal, action, shown, decision, false),
      denied: deniedNote(signed.principal, action, resource),
    },
  };
}

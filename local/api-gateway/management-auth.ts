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
 * the PHP and JS SDKs show it so: aws/aws-cdk#18410 for DELETE). A signed call to a route the API
 * does not have is answered 404 after the signature is checked (`./management-api.ts`).
 */
import { randomUUID } from "node:crypto";
import { executionLogLine } from "../execution-log";
import { deniedNote, LOCAL_ACCOUNT_ID, type LocalIam, notAuthorizedMessage, type Principal } from "../iam/local-iam";
import { authenticate, type SignedRequest } from "../iam/sigv4";

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

/**
 * Why API Gateway would refuse the call, if it would: the signature, then, for a call to the API's
 * route (`connectionId`, the connection it names), ManageConnections on that connection. A signed
 * call to any other route is not refused here: it is answered 404 where routes are matched. A
 * refusal by IAM is written to the execution log, naming action and resource.
 */
export async function managementRefusal(
  request: SignedRequest,
  connectionId: string | undefined,
  options: ManagementAuthorization & { log: (line: string) => void },
): Promise<Refusal | undefined> {
  const { iam, region, recompute, connection } = options;
  const signed = await authenticate(request, {
    service: "execute-api",
    region,
    iam,
    maxSkewMinutes: 5,
    recompute,
    connection,
  });
  if ("refusal" in signed) return { status: 403, ...signed.refusal };
  if (connectionId === undefined) return undefined;
  const refusal = permissionRefusal(signed.principal, request.method, connectionId, options);
  if (refusal?.denied) {
    const what = `@connections ${request.method}`;
    options.log(
      executionLogLine({ requestId: randomUUID(), what, connectionId, status: refusal.status, note: refusal.denied }),
    );
  }
  return refusal;
}

/** Why the signer may not make this call, if it may not: ManageConnections on the connection. */
function permissionRefusal(
  principal: Principal,
  method: string,
  connectionId: string,
  { iam, region, api }: ManagementAuthorization,
): Refusal | undefined {
  const action = "execute-api:ManageConnections";
  const arn = (account: string, id: string) =>
    `arn:aws:execute-api:${region}:${account}:${api.apiId}/${api.stage}/${method}/@connections/${id}`;
  const resource = arn(LOCAL_ACCOUNT_ID, connectionId);
  const decision = iam.decide(principal, action, resource);
  if (decision === "allowed") return undefined;
  const shown = arn(`********${LOCAL_ACCOUNT_ID.slice(-4)}`, "{connectionId}");
  return {
    status: 403,
    type: "AccessDeniedException",
    message: notAuthorizedMessage(principal, action, shown, decision, false),
    denied: deniedNote(principal, action, resource),
  };
}

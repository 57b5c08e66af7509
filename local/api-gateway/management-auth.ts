/**
 * The `@connections` API's IAM authorization, as far as a replay without IAM can take it. AWS
 * checks every call's Signature Version 4 against IAM; locally any keys are accepted, but a call
 * must be signed, for `execute-api`, in this gateway's region, within five minutes of its
 * `X-Amz-Date`. Otherwise it is refused as AWS refuses it, so backend code that forgets to sign
 * fails locally as it fails in the cloud. Answers as captured from AWS
 * (https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden and SDK issue threads):
 * unsigned, 403 MissingAuthenticationTokenException "Missing Authentication Token"; another
 * service or region, 403 InvalidSignatureException "Credential should be scoped to ...".
 */

export interface Refusal {
  status: 403;
  type: "MissingAuthenticationTokenException" | "IncompleteSignatureException" | "InvalidSignatureException";
  message: string;
}

/** The parts of a request the check reads: a header by its lower-case name, a query parameter. */
interface SignedRequest {
  header(name: string): string | undefined;
  query(name: string): string | undefined;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const SERVICE = "execute-api";
const MAX_SKEW_MS = 5 * 60 * 1000;
/** The fields of `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
const FIELD_PATTERNS = {
  Credential: /[ ,]Credential=([^,\s]+)/,
  SignedHeaders: /[ ,]SignedHeaders=([^,\s]+)/,
  Signature: /[ ,]Signature=([^,\s]+)/,
};

export const missingAuthenticationToken = (): Refusal => ({
  status: 403,
  type: "MissingAuthenticationTokenException",
  message: "Missing Authentication Token",
});

/** SigV4's `X-Amz-Date` (`20261202T045500Z`) of an epoch time. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** Why AWS would refuse the call, or `undefined` when it is signed as it must be. */
export function checkSignature(request: SignedRequest, region: string, now = Date.now()): Refusal | undefined {
  const { header } = request;
  const authorization = header("authorization");
  if (authorization === undefined && request.query("X-Amz-Algorithm") === undefined) {
    return missingAuthenticationToken();
  }

  // `AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/execute-api/aws4_request, SignedHeaders=..., Signature=...`,
  // or the same fields as query parameters of a presigned URL.
  const field = (name: keyof typeof FIELD_PATTERNS): string | undefined => {
    if (authorization === undefined) return request.query(`X-Amz-${name}`) || undefined;
    if (!authorization.startsWith(`${ALGORITHM} `)) return undefined;
    return FIELD_PATTERNS[name].exec(authorization)?.[1];
  };
  const credential = field("Credential");
  const date = header("x-amz-date") ?? request.query("X-Amz-Date");
  const missing = [
    ...(["Credential", "Signature", "SignedHeaders"] as const)
      .filter((name) => (name === "Credential" ? credential : field(name)) === undefined)
      .map((name) => `Authorization header requires '${name}' parameter.`),
    ...(date || header("date")
      ? []
      : ["Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."]),
  ];
  if (missing.length > 0) {
    return {
      status: 403,
      type: "IncompleteSignatureException",
      message: `${missing.join(" ")} Authorization=${authorization ?? ""}`,
    };
  }

  const [, , scopeRegion, scopeService, terminator] = (credential as string).split("/");
  const scope = [
    ...(scopeRegion === region ? [] : ["Credential should be scoped to a valid region."]),
    ...(scopeService === SERVICE && terminator === "aws4_request"
      ? []
      : [`Credential should be scoped to correct service: '${SERVICE}'.`]),
  ];
  if (scope.length > 0) return { status: 403, type: "InvalidSignatureException", message: `${scope.join(" ")} ` };

  // `X-Amz-Date` in ISO-8601 basic format, else the HTTP `Date` header.
  const signedAt = date
    ? Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"))
    : Date.parse(header("date") ?? "");
  if (Number.isNaN(signedAt)) {
    return {
      status: 403,
      type: "IncompleteSignatureException",
      message: `Date must be in ISO-8601 'basic format'. Got '${date ?? header("date")}'.`,
    };
  }
  if (signedAt < now - MAX_SKEW_MS) {
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: `Signature expired: ${amzDate(signedAt)} is now earlier than ${amzDate(now - MAX_SKEW_MS)} (${amzDate(now)} - 5 min.)`,
    };
  }
  if (signedAt > now + MAX_SKEW_MS) {
    return {
      status: 403,
      type: "InvalidSignatureException",
      message: `Signature not yet current: ${amzDate(signedAt)} is still later than ${amzDate(now + MAX_SKEW_MS)} (${amzDate(now)} + 5 min.)`,
    };
  }
  return undefined;
}

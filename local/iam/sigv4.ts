/**
 * Who signed a request, checked as AWS checks Signature Version 4: the fields present, scoped to
 * this service and region, dated within the service's skew, `host` among the signed headers, an
 * access key the account knows, and the signature itself recomputed with that key's secret (the
 * SDK's own signer, `@smithy/signature-v4`) and compared. Refusals carry AWS's exception names and
 * messages (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html,
 * https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden, and the captures in
 * dynalite's source); each service sends them in its own wire format.
 *
 * A request that never left this process (an SDK client's transport the gateway built for one
 * function, with that function's keys) is not recomputed: its key names its principal, and nothing
 * else can reach that transport. A request over a socket is, unless an earlier request on the same
 * connection proved the same key (`recompute` says which keys to check): only the process that
 * opened a connection can write to it, and it knew the secret.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { LocalIam, Principal } from "./local-iam";

/** The parts of a request the check reads. */
export interface SignedRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The query string's parameters, decoded. */
  query: Record<string, string | string[]>;
  /** A header by its lower-case name. */
  header(name: string): string | undefined;
  body?: Uint8Array;
}

/** An HTTP request as the check reads it: `url` as sent (path and query still encoded), headers by lower-case name. */
export function signedHttpRequest(
  method: string,
  url: string,
  headers: Record<string, string | string[] | undefined>,
  body?: Uint8Array,
): SignedRequest {
  const [path = "/", search] = url.split("?");
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search ?? "")) {
    const had = query[name];
    query[name] = had === undefined ? value : [...[had].flat(), value];
  }
  return { method, path, query, header: (name) => [headers[name]].flat()[0], ...(body && { body }) };
}

export interface SignatureRefusal {
  type:
    | "MissingAuthenticationTokenException"
    | "IncompleteSignatureException"
    | "InvalidSignatureException"
    | "UnrecognizedClientException";
  message: string;
}

interface SignatureCheck {
  /** `execute-api`, `dynamodb`, `lambda`, `kms`: the credential scope's service. */
  service: string;
  region: string;
  iam: LocalIam;
  /** How far `X-Amz-Date` may be from now (API Gateway: 5 minutes; most services: 15). */
  maxSkewMinutes: number;
  /** Recompute the signature (a request over a socket), or trust the in-process transport. */
  recompute: boolean;
  /**
   * The connection a request came on, and the keys connections have proved: a key proved on a
   * connection is not recomputed again there.
   */
  connection?: { socket: object; proved: WeakMap<object, string> };
  now?: number;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
/** The fields of `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
const FIELD_PATTERNS = {
  Credential: /[ ,]Credential=([^,\s]+)/,
  SignedHeaders: /[ ,]SignedHeaders=([^,\s]+)/,
  Signature: /[ ,]Signature=([^,\s]+)/,
};
const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

export const missingAuthenticationToken = (): SignatureRefusal => ({
  type: "MissingAuthenticationTokenException",
  message: "Missing Authentication Token",
});

/** SigV4's `X-Amz-Date` (`20261202T045500Z`) of an epoch time. */
function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, "");
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The principal whose key signed `request`, or why AWS would refuse it. */
export async function authenticate(
  request: SignedRequest,
  check: SignatureCheck,
): Promise<{ principal: Principal } | { refusal: SignatureRefusal }> {
  const fields = signatureFields(request);
  if ("refusal" in fields) return fields;
  const { credential, signedHeaders, signature, date, presigned } = fields;
  const [accessKeyId = "", , scopeRegion, scopeService, terminator] = credential.split("/");
  const scope = [
    ...(scopeRegion === check.region ? [] : ["Credential should be scoped to a valid region."]),
    ...(scopeService === check.service && terminator === "aws4_request"
      ? []
      : [`Credential should be scoped to correct service: '${check.service}'.`]),
  ];
  if (scope.length > 0) return refuse("InvalidSignatureException", `${scope.join(" ")} `);

  const now = check.now ?? Date.now();
  const signedAt = date
    ? Date.parse(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"))
    : Number.NaN;
  if (Number.isNaN(signedAt)) {
    return refuse("IncompleteSignatureException", `Date must be in ISO-8601 'basic format'. Got '${date}'.`);
  }
  const skewMs = check.maxSkewMinutes * 60_000;
  const window = (sign: "-" | "+") => `${amzDate(now)} ${sign} ${check.maxSkewMinutes} min.`;
  if (signedAt < now - skewMs) {
    return refuse(
      "InvalidSignatureException",
      `Signature expired: ${amzDate(signedAt)} is now earlier than ${amzDate(now - skewMs)} (${window("-")})`,
    );
  }
  if (signedAt > now + skewMs) {
    return refuse(
      "InvalidSignatureException",
      `Signature not yet current: ${amzDate(signedAt)} is still later than ${amzDate(now + skewMs)} (${window("+")})`,
    );
  }
  if (!signedHeaders.split(";").includes("host")) {
    return refuse("InvalidSignatureException", "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const principal = check.iam.principal(accessKeyId);
  if (!principal) {
    return refuse("UnrecognizedClientException", "The security token included in the request is invalid.");
  }
  const { connection } = check;
  if (check.recompute && connection?.proved.get(connection.socket) !== accessKeyId) {
    const expected = await recomputedSignature(request, principal, check, { signedHeaders, signedAt, presigned });
    if (expected === undefined || !sameHex(expected, signature)) return refuse("InvalidSignatureException", MISMATCH);
    connection?.proved.set(connection.socket, accessKeyId);
  }
  return { principal };
}

interface SignatureFields {
  credential: string;
  signedHeaders: string;
  signature: string;
  date: string | undefined;
  presigned: boolean;
}

/** The signature's fields, from the `Authorization` header or a presigned URL's query. */
function signatureFields(request: SignedRequest): SignatureFields | { refusal: SignatureRefusal } {
  const authorization = request.header("authorization");
  const presigned = authorization === undefined;
  if (presigned && first(request.query["X-Amz-Algorithm"]) === undefined) {
    return { refusal: missingAuthenticationToken() };
  }
  const field = (name: keyof typeof FIELD_PATTERNS): string | undefined => {
    if (presigned) return first(request.query[`X-Amz-${name}`]) || undefined;
    if (!authorization.startsWith(`${ALGORITHM} `)) return undefined;
    return FIELD_PATTERNS[name].exec(authorization)?.[1];
  };
  const values = {
    Credential: field("Credential"),
    SignedHeaders: field("SignedHeaders"),
    Signature: field("Signature"),
  };
  const date = request.header("x-amz-date") ?? first(request.query["X-Amz-Date"]);
  const missing = [
    ...(Object.keys(values) as (keyof typeof values)[])
      .filter((name) => values[name] === undefined)
      .map((name) => `Authorization header requires '${name}' parameter.`),
    ...(date ? [] : ["Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."]),
  ];
  if (missing.length > 0) {
    return refuse("IncompleteSignatureException", `${missing.join(" ")} Authorization=${authorization ?? ""}`);
  }
  return {
    credential: values.Credential as string,
    signedHeaders: values.SignedHeaders as string,
    signature: values.Signature as string,
    date,
    presigned,
  };
}

/** The signature `principal`'s secret gives `request`, as the SDK's signer computes it. */
async function recomputedSignature(
  request: SignedRequest,
  principal: Principal,
  check: SignatureCheck,
  { signedHeaders, signedAt, presigned }: { signedHeaders: string; signedAt: number; presigned: boolean },
): Promise<string | undefined> {
  const names = signedHeaders.split(";");
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = request.header(name);
    if (value === undefined) return undefined;
    headers[name] = value;
  }
  const body = request.body ?? new Uint8Array();
  // A payload hash the client declares must be the body's: the signature covers the header, not the body.
  const declared = headers["x-amz-content-sha256"];
  if (declared !== undefined && declared !== createHash("sha256").update(body).digest("hex")) return undefined;
  const signer = signerOf(principal, check);
  const { "X-Amz-Signature": _signature, ...query } = request.query;
  const unsigned = {
    method: request.method,
    protocol: "http:",
    hostname: "",
    path: request.path,
    query,
    headers,
    body,
  };
  const signingDate = new Date(signedAt);
  const signableHeaders = new Set(names);
  if (presigned) {
    const expiresIn = Number(first(request.query["X-Amz-Expires"]));
    if (!Number.isInteger(expiresIn) || signedAt + expiresIn * 1000 < (check.now ?? Date.now())) return undefined;
    const signed = await signer.presign(unsigned, { signingDate, expiresIn, signableHeaders });
    return first(signed.query?.["X-Amz-Signature"] ?? undefined);
  }
  const signed = await signer.sign(unsigned, { signingDate, signableHeaders });
  return FIELD_PATTERNS.Signature.exec(String(signed.headers.authorization))?.[1];
}

/** One signer per principal, service and region: the SDK's signer is made once, as a client makes its own. */
const signers = new WeakMap<Principal, Map<string, SignatureV4>>();

function signerOf(principal: Principal, { service, region }: SignatureCheck): SignatureV4 {
  let own = signers.get(principal);
  if (!own) {
    own = new Map();
    signers.set(principal, own);
  }
  const key = `${service} ${region}`;
  let signer = own.get(key);
  if (!signer) {
    const sha256 = Hash.bind(null, "sha256");
    // No payload hash header of its own: the SDK for JavaScript adds one, botocore does not, and the
    // signature covers only the headers the request names.
    signer = new SignatureV4({ service, region, credentials: principal.credentials, sha256, applyChecksum: false });
    own.set(key, signer);
  }
  return signer;
}

function sameHex(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(type: SignatureRefusal["type"], message: string): { refusal: SignatureRefusal } {
  return { refusal: { type, message } };
}

/**
 * API Gateway's Lambda REQUEST authorizer on `$connect`, replayed; each rule from AWS:
 * - Identity sources missing, null or empty: 401 "without calling the Lambda function"
 *   (API reference, CreateAuthorizer, IdentitySource).
 * - The function fails with "Unauthorized": 401; fails otherwise: 500; a policy that does not
 *   allow the `methodArn`: 403; a malformed answer (no principalId or policy, an object or array
 *   among the context values): 500 (developer guide, "Lambda REQUEST authorizers for WebSocket
 *   APIs" and "Output from an API Gateway Lambda authorizer": "you cannot set a JSON object or
 *   array as a valid value of any key in the context map").
 * - A result over 8 KB ("AWS Lambda authorizer result size: 8 KB", not adjustable; quotas for
 *   WebSocket APIs): 500, as for any other answer API Gateway cannot use. The quota is documented,
 *   the answer past it is not; 500 is this gateway's choice. The size is the result's JSON, in bytes.
 * - No cache: every `$connect` runs the authorizer. The issue that asked for this module said
 *   results are cached for a TTL; AWS refuses one for WebSocket APIs ("AuthorizerResultTtlInSeconds
 *   cannot be set for WEBSOCKET protocol Apis"; the API reference: "Supported only for HTTP API
 *   Lambda authorizers").
 * - Allowed: `requestContext.authorizer` holds `principalId`, each context value "stringified"
 *   (numbers and booleans as strings, null kept) and `integrationLatency` in ms, as captured from
 *   API Gateway, and the connection carries it on every later event.
 */
import type {
  AuthorizerEvent,
  AuthorizerResult,
  LambdaAuthorizerContext,
  PolicyStatement,
  WebSocketEvent,
} from "../../functions/runtime/lambda-events";
import { LOCAL_ACCOUNT_ID } from "../iam/local-iam";
import type { Invocation, LocalFunction } from "../lambda/lambda-function";
import type { ApiInfo } from "./event-builders";

/** "AWS Lambda authorizer result size: 8 KB". */
const MAX_RESULT_BYTES = 8 * 1024;

type AuthorizerDecision =
  | { allowed: true; authorizer: LambdaAuthorizerContext }
  | { allowed: false; status: 401 | 403 | 500; why: string };

interface ConnectAuthorizerOptions {
  /** API Gateway's identity sources: `route.request.querystring.{name}`, `route.request.header.{name}`. */
  identitySources: readonly string[];
  function: LocalFunction<AuthorizerEvent, AuthorizerResult>;
  api: ApiInfo;
  region: string;
}

export class ConnectAuthorizer {
  private readonly sources: Array<(event: WebSocketEvent) => string | undefined>;

  constructor(private readonly options: ConnectAuthorizerOptions) {
    this.sources = options.identitySources.map(identitySource);
  }

  /** Decides a handshake whose `$connect` event is `event`; the function runs only when every source is there. */
  async authorize(event: WebSocketEvent): Promise<AuthorizerDecision & { invocation?: Invocation<unknown> }> {
    if (this.sources.some((source) => !source(event))) {
      return { allowed: false, status: 401, why: "identity source missing" };
    }
    const { api, region } = this.options;
    const authorizerEvent: AuthorizerEvent = {
      type: "REQUEST",
      methodArn: `arn:aws:execute-api:${region}:${LOCAL_ACCOUNT_ID}:${api.apiId}/${api.stage}/$connect`,
      headers: event.headers,
      multiValueHeaders: event.multiValueHeaders,
      queryStringParameters: event.queryStringParameters,
      multiValueQueryStringParameters: event.multiValueQueryStringParameters,
      stageVariables: {},
      requestContext: { ...event.requestContext },
    };
    const invocation = await this.options.function.invoke(authorizerEvent);
    const { outcome } = invocation;
    if (outcome.kind === "error") {
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      return message === "Unauthorized"
        ? { allowed: false, status: 401, why: "Unauthorized", invocation }
        : { allowed: false, status: 500, why: `authorizer failed: ${message}`, invocation };
    }
    if (outcome.kind !== "result") return { allowed: false, status: 500, why: outcome.kind, invocation };
    const decision = decide(outcome.result, authorizerEvent.methodArn, Math.round(invocation.ms));
    return { ...decision, invocation };
  }
}

/** Reads one identity source from the `$connect` event (header names in any case, as HTTP has them). */
function identitySource(source: string): (event: WebSocketEvent) => string | undefined {
  const query = /^route\.request\.querystring\.(.+)$/.exec(source);
  if (query) {
    const name = query[1] as string;
    return (event) => event.queryStringParameters?.[name] || undefined;
  }
  const header = /^route\.request\.header\.(.+)$/.exec(source);
  if (header) {
    const name = (header[1] as string).toLowerCase();
    return (event) => Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1] || undefined;
  }
  throw new Error(
    `identity source ${JSON.stringify(source)} is not route.request.querystring.* or route.request.header.*`,
  );
}

/** What API Gateway makes of the function's answer. */
function decide(result: unknown, methodArn: string, latencyMs: number): AuthorizerDecision {
  const malformed = (why: string): AuthorizerDecision => ({
    allowed: false,
    status: 500,
    why: `malformed answer: ${why}`,
  });
  if (typeof result !== "object" || result === null) return malformed("not an object");
  const bytes = Buffer.byteLength(JSON.stringify(result));
  if (bytes > MAX_RESULT_BYTES) return { allowed: false, status: 500, why: `result of ${bytes} bytes, over 8 KB` };
  const { principalId, policyDocument, context } = result as Partial<AuthorizerResult>;
  if (typeof principalId !== "string") return malformed("no principalId");
  const statements = policyDocument?.Statement;
  if (!Array.isArray(statements)) return malformed("no policyDocument.Statement");
  const authorizer: LambdaAuthorizerContext = { principalId };
  for (const [key, value] of Object.entries((context ?? {}) as Record<string, unknown>)) {
    if (value !== null && typeof value === "object") return malformed(`context.${key} is an object or array`);
    authorizer[key] = value === null ? null : String(value);
  }
  authorizer.integrationLatency = latencyMs;
  const matching = (effect: PolicyStatement["Effect"]) =>
    statements.some(
      (statement: PolicyStatement) =>
        statement?.Effect === effect &&
        list(statement.Action).some((action) => matches(action, "execute-api:Invoke", true)) &&
        list(statement.Resource).some((resource) => matches(resource, methodArn)),
    );
  // IAM's rule: an explicit Deny wins; without an Allow, the request is denied too.
  if (matching("Deny") || !matching("Allow"))
    return { allowed: false, status: 403, why: "the policy does not allow $connect" };
  return { allowed: true, authorizer };
}

function list(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === "string");
}

/** IAM's wildcards: `*` any run of characters, `?` any one; actions compare in any case, ARNs exactly. */
function matches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}

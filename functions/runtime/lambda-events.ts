/**
 * The events Lambda passes the functions (API Gateway's WebSocket events, its REQUEST authorizer's,
 * a function URL's) and what each returns. Field by field as AWS sends them:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
 */

export type WebSocketEventType = "CONNECT" | "MESSAGE" | "DISCONNECT";

export interface WebSocketRequestContext {
  routeKey: string;
  eventType: WebSocketEventType;
  /** Base64-like (`BFHPhfCWIAMCKlQ=`): URL-encode it in paths. */
  connectionId: string;
  requestId: string;
  extendedRequestId: string;
  /** MESSAGE only. */
  messageId?: string;
  messageDirection: "IN";
  stage: string;
  domainName: string;
  apiId: string;
  /** Epoch milliseconds. */
  connectedAt: number;
  /** Common Log Format, e.g. `09/Apr/2015:12:34:56 +0000`. */
  requestTime: string;
  requestTimeEpoch: number;
  identity: { sourceIp: string; userAgent?: string };
  /**
   * When the `$connect` route has an authorizer: what it allowed the connection with, on every
   * event of the connection.
   */
  authorizer?: LambdaAuthorizerContext;
  /** DISCONNECT only. */
  disconnectStatusCode?: number;
  /** DISCONNECT only. */
  disconnectReason?: string;
}

/**
 * `requestContext.authorizer`: the authorizer's `principalId`, its context values as strings (API
 * Gateway stringifies numbers and booleans) and `integrationLatency`, the authorizer's ms.
 */
export interface LambdaAuthorizerContext {
  principalId?: string;
  integrationLatency?: number;
  [key: string]: string | number | null | undefined;
}

/** The handshake's request, as `$connect` and its authorizer see it (CONNECT only; absent on later events). */
export interface HandshakeRequest {
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
}

export interface WebSocketEvent extends HandshakeRequest {
  requestContext: WebSocketRequestContext;
  /** MESSAGE only: the frame, base64 when `isBase64Encoded`. */
  body?: string;
  isBase64Encoded: boolean;
}

/** What a Lambda proxy integration returns; on `$connect` a non-2xx status rejects the handshake. */
export interface WebSocketResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
  isBase64Encoded?: boolean;
}

/** The parts of Lambda's context object that handlers and the logger use. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string | number;
  getRemainingTimeInMillis(): number;
}

export type WebSocketHandler = (event: WebSocketEvent, context?: LambdaContext) => Promise<WebSocketResult>;

/** A Lambda function URL's request: API Gateway's HTTP payload format 2.0. */
export interface HttpRequestEvent {
  version: "2.0";
  routeKey: "$default";
  rawPath: string;
  rawQueryString: string;
  /** Names lowercased; repeated headers joined with commas. */
  headers: Record<string, string>;
  /** Base64 when `isBase64Encoded` (a body that is not text). */
  body?: string;
  isBase64Encoded: boolean;
  requestContext: {
    accountId: string;
    requestId: string;
    routeKey: "$default";
    stage: "$default";
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    /** Common Log Format. */
    time: string;
    timeEpoch: number;
  };
}

export interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

export type HttpHandler = (event: HttpRequestEvent) => Promise<HttpResult>;

/** The event API Gateway sends a WebSocket REQUEST authorizer. */
export interface AuthorizerEvent extends HandshakeRequest {
  type: "REQUEST";
  /** `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect` */
  methodArn: string;
  requestContext: WebSocketRequestContext;
}

/** Context values API Gateway passes on: strings, numbers and booleans only. */
type AuthorizerContext = Record<string, string | number | boolean>;

export interface PolicyStatement {
  Action: string | string[];
  Effect: "Allow" | "Deny";
  Resource: string | string[];
}

export interface AuthorizerResult {
  principalId: string;
  policyDocument: { Version: string; Statement: PolicyStatement[] };
  context?: AuthorizerContext;
}

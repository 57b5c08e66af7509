/**
 * The events API Gateway's WebSocket API passes to a Lambda proxy integration, and what the
 * integration returns. Field by field as AWS sends them:
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
  /** DISCONNECT only. */
  disconnectStatusCode?: number;
  /** DISCONNECT only. */
  disconnectReason?: string;
}

export interface WebSocketEvent {
  requestContext: WebSocketRequestContext;
  /** MESSAGE only: the frame, base64 when `isBase64Encoded`. */
  body?: string;
  isBase64Encoded: boolean;
  /** CONNECT only. */
  headers?: Record<string, string>;
  /** CONNECT only. */
  multiValueHeaders?: Record<string, string[]>;
  /** CONNECT only. */
  queryStringParameters?: Record<string, string>;
  /** CONNECT only. */
  multiValueQueryStringParameters?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
}

/** What a Lambda proxy integration returns; on `$connect` a non-2xx status rejects the handshake. */
export interface WebSocketResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
  isBase64Encoded?: boolean;
}

/** The parts of Lambda's context object that handlers may use. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  getRemainingTimeInMillis(): number;
}

export type WebSocketHandler = (event: WebSocketEvent, context?: LambdaContext) => Promise<WebSocketResult>;

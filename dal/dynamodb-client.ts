/**
 * The DynamoDB document client, built in one place with timeouts that suit Lambda: a DynamoDB
 * that does not answer fails a request in seconds, inside the function's timeout.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { makeConfigFast } from "./sdk-client-config";

export interface DynamoDBClientOptions {
  region: string;
  /** Another DynamoDB than AWS's: LocalStack (`http://localhost:4566`) or the embedded one. */
  endpoint?: string;
  /** Fixed credentials; when omitted the SDK's default chain is used (Lambda's role in AWS). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request, the first included (SDK default 3). */
  maxAttempts?: number;
  /** Milliseconds to wait for a TCP connection before the attempt fails. */
  connectionTimeoutMs?: number;
  /** Milliseconds to wait for a response once connected. */
  requestTimeoutMs?: number;
}

/**
 * The one place that builds the DynamoDB document client. Timeouts are short by default so an
 * unreachable or stalled DynamoDB fails a request (all attempts) in about 6 s: well inside the
 * functions' 10 s Lambda timeout, so the failure surfaces as a RepositoryError, not a timeout.
 */
export function createDocumentClient(options: DynamoDBClientOptions): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? 1_000,
      requestTimeout: options.requestTimeoutMs ?? 2_000,
      // Without this the SDK only logs a warning when requestTimeout passes and keeps waiting:
      // a stalled DynamoDB would hold the request until the Lambda times out, with no retry.
      throwOnRequestTimeout: true,
    },
  });
  makeConfigFast(client);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

import { generateKeyPairSync } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const API_ID = "a1b2c3d4e5";
export const AUTHORIZER_ID = "auth9z";
export const KMS_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
export const TOKEN_URL_ID = "abcdefghijklmnopqrstuvwxyz012345";
export const DISTRIBUTION_ID = "E2QWRUHAPOMQZL";
export const DISTRIBUTION_DOMAIN = "d111111abcdef8.cloudfront.net";
export const REGIONAL_DOMAIN_TARGET = "d-abcde12345.execute-api.us-east-1.amazonaws.com";
/** A real RSA public key, so a test can check what the authorizer is given. */
export const MOCK_PUBLIC_KEY_PEM = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();

/** A resource the program registered, as the engine would have seen it. */
export interface RegisteredResource {
  type: string;
  name: string;
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped on the wire.
  inputs: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  state: Record<string, any>;
  /** The provider reference it was registered with (`{urn}::{id}`), if not the default. */
  provider?: string;
}

/**
 * Mocks that answer like AWS would (ARNs, endpoints, generated names) and record every resource,
 * so tests can follow references from one resource to another.
 */
export function recordingMocks(): { mocks: pulumi.runtime.Mocks; resources: RegisteredResource[] } {
  const resources: RegisteredResource[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource({ type, name, inputs, provider }) {
      const { id, state } = answer(type, name, inputs);
      resources.push({ type, name, id, inputs, state: { ...inputs, ...state }, ...(provider && { provider }) });
      return { id, state: { ...inputs, ...state } };
    },
    call({ token, inputs }) {
      // KMS's public half of an asymmetric key, as `aws.kms.getPublicKey` returns it.
      if (token === "aws:kms/getPublicKey:getPublicKey") return { ...inputs, publicKeyPem: MOCK_PUBLIC_KEY_PEM };
      // Lambda's concurrent executions as Service Quotas reports them: AWS's default, unless told.
      if (token === "aws:servicequotas/getServiceQuota:getServiceQuota") {
        return {
          ...inputs,
          region: REGION,
          value: Number(process.env.MOCK_LAMBDA_CONCURRENCY ?? 1000),
          defaultValue: 1000,
        };
      }
      // The account the stack deploys to, as `aws.getCallerIdentity` reads it.
      if (token === "aws:index/getCallerIdentity:getCallerIdentity")
        return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, id: ACCOUNT, userId: "AIDAEXAMPLE" };
      return inputs;
    },
  };
  return { mocks, resources };
}

// biome-ignore lint/suspicious/noExplicitAny: as above.
function answer(type: string, name: string, inputs: Record<string, any>): { id: string; state: object } {
  switch (type) {
    case "aws:dynamodb/table:Table": {
      const tableName = inputs.name ?? `${name}-7f3a9c1`;
      return {
        id: tableName,
        state: { name: tableName, arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}` },
      };
    }
    case "aws:apigatewayv2/api:Api":
      return {
        id: API_ID,
        state: {
          apiEndpoint: `wss://${API_ID}.execute-api.${REGION}.amazonaws.com`,
          executionArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}`,
          region: REGION,
        },
      };
    case "aws:lambda/function:Function": {
      const arn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${inputs.name}`;
      return {
        id: inputs.name,
        state: { arn, invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${arn}/invocations` },
      };
    }
    case "aws:iam/role:Role":
      return {
        id: `${name}-0a1b2c`,
        state: { name: `${name}-0a1b2c`, arn: `arn:aws:iam::${ACCOUNT}:role/${name}-0a1b2c` },
      };
    case "aws:kms/key:Key":
      return {
        id: KMS_KEY_ID,
        state: { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KMS_KEY_ID}`, keyId: KMS_KEY_ID },
      };
    case "aws:lambda/functionUrl:FunctionUrl":
      return {
        id: inputs.functionName,
        state: { functionUrl: `https://${TOKEN_URL_ID}.lambda-url.${REGION}.on.aws/` },
      };
    case "aws:apigatewayv2/authorizer:Authorizer":
      return { id: AUTHORIZER_ID, state: {} };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: inputs.name, state: { arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${inputs.name}` } };
    case "aws:s3/bucket:Bucket": {
      const bucket = `${name}-5e1f`;
      return {
        id: bucket,
        state: {
          bucket,
          arn: `arn:aws:s3:::${bucket}`,
          bucketRegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com`,
        },
      };
    }
    case "aws:cloudfront/distribution:Distribution":
      return {
        id: DISTRIBUTION_ID,
        state: {
          arn: `arn:aws:cloudfront::${ACCOUNT}:distribution/${DISTRIBUTION_ID}`,
          domainName: `${DISTRIBUTION_DOMAIN}`,
        },
      };
    case "aws:apigatewayv2/domainName:DomainName":
      return {
        id: inputs.domainName,
        state: {
          domainNameConfiguration: { ...inputs.domainNameConfiguration, targetDomainName: REGIONAL_DOMAIN_TARGET },
        },
      };
    case "aws:sns/topic:Topic":
      return { id: `${name}-topic`, state: { arn: `arn:aws:sns:${REGION}:${ACCOUNT}:${name}` } };
    default:
      return { id: `${name}-id`, state: {} };
  }
}

/** What every function's environment holds: Powertools' settings, and source-mapped stack traces. */
export function functionEnvironment(serviceName: string): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: serviceName,
    POWERTOOLS_METRICS_NAMESPACE: "WebSocketChat",
    NODE_OPTIONS: "--enable-source-maps --stack-trace-limit=30",
  };
}

/** The value of an output, once the mocks have resolved it. */
export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

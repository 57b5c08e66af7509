import type * as pulumi from "@pulumi/pulumi";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const API_ID = "a1b2c3d4e5";

/** A resource the program registered, as the engine would have seen it. */
export interface RegisteredResource {
  type: string;
  name: string;
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped on the wire.
  inputs: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  state: Record<string, any>;
}

/**
 * Mocks that answer like AWS would (ARNs, endpoints, generated names) and record every resource,
 * so tests can follow references from one resource to another.
 */
export function recordingMocks(): { mocks: pulumi.runtime.Mocks; resources: RegisteredResource[] } {
  const resources: RegisteredResource[] = [];
  const mocks: pulumi.runtime.Mocks = {
    newResource({ type, name, inputs }) {
      const { id, state } = answer(type, name, inputs);
      resources.push({ type, name, id, inputs, state: { ...inputs, ...state } });
      return { id, state: { ...inputs, ...state } };
    },
    call({ inputs }) {
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
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: inputs.name, state: { arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${inputs.name}` } };
    default:
      return { id: `${name}-id`, state: {} };
  }
}

/** The value of an output, once the mocks have resolved it. */
export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

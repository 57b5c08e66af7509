/**
 * A template's DynamoDB tables as the gateway creates them in its DynamoDB: `AWS::DynamoDB::Table`
 * (keys, attribute definitions, global and local secondary indexes, TTL) and SAM's
 * `AWS::Serverless::SimpleTable` (one hash key, `id` of type String unless `PrimaryKey` says
 * otherwise). Every table is on-demand locally, whatever throughput it declares; streams, backups
 * and encryption settings change nothing a handler sees, except streams, named in the app's lines.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-table.html
 * https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-simpletable.html
 */
import type { GlobalSecondaryIndex, LocalSecondaryIndex } from "@aws-sdk/client-dynamodb";
import type { AppTable } from "../../websocket-app";
import type { Stack } from "./stack";

const SIMPLE_TABLE_TYPES: Record<string, "S" | "N" | "B"> = { String: "S", Number: "N", Binary: "B" };

export function appTables(stack: Stack, notes: string[]): AppTable[] {
  return [
    ...stack.ofType("AWS::DynamoDB::Table").map((logicalId) => dynamoDBTable(stack, logicalId, notes)),
    ...stack.ofType("AWS::Serverless::SimpleTable").map((logicalId) => simpleTable(stack, logicalId)),
  ];
}

function dynamoDBTable(stack: Stack, logicalId: string, notes: string[]): AppTable {
  const property = (name: string) => stack.property(logicalId, name);
  const withoutThroughput = <T extends { ProvisionedThroughput?: unknown }>(index: T): T => {
    const { ProvisionedThroughput: _ignored, ...rest } = index;
    return rest as T;
  };
  if (property("StreamSpecification") !== undefined) {
    notes.push(`AWS::DynamoDB::Table ${logicalId}: its stream is not replayed; nothing reads it locally`);
  }
  const ttl = property("TimeToLiveSpecification") as { AttributeName?: string; Enabled?: unknown } | undefined;
  const globalIndexes = property("GlobalSecondaryIndexes") as GlobalSecondaryIndex[] | undefined;
  const localIndexes = property("LocalSecondaryIndexes") as LocalSecondaryIndex[] | undefined;
  return {
    definition: {
      TableName: stack.physicalName(logicalId),
      AttributeDefinitions: property("AttributeDefinitions") as AppTable["definition"]["AttributeDefinitions"],
      KeySchema: property("KeySchema") as AppTable["definition"]["KeySchema"],
      ...(globalIndexes && { GlobalSecondaryIndexes: globalIndexes.map(withoutThroughput) }),
      ...(localIndexes && { LocalSecondaryIndexes: localIndexes }),
      BillingMode: "PAY_PER_REQUEST",
    },
    ...(ttl?.AttributeName && String(ttl.Enabled) === "true" && { ttlAttribute: ttl.AttributeName }),
  };
}

function simpleTable(stack: Stack, logicalId: string): AppTable {
  const key = (stack.property(logicalId, "PrimaryKey") ?? {}) as { Name?: string; Type?: string };
  const name = key.Name ?? "id";
  return {
    definition: {
      TableName: stack.physicalName(logicalId),
      AttributeDefinitions: [{ AttributeName: name, AttributeType: SIMPLE_TABLE_TYPES[key.Type ?? "String"] ?? "S" }],
      KeySchema: [{ AttributeName: name, KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    },
  };
}

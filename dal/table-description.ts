/**
 * A DynamoDB table's shape, declared once and rendered twice: by the Pulumi program as the table it
 * deploys, and by the local gateway as the table it creates. Keys are strings.
 */
export interface TableDescription {
  hashKey: string;
  rangeKey?: string;
  /** A global secondary index, projecting its keys and `attributes`. */
  index?: { name: string; hashKey: string; rangeKey: string; attributes: readonly string[] };
  /** The attribute DynamoDB's TTL reads (epoch seconds). */
  ttlAttribute?: string;
}

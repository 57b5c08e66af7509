/**
 * An item's update as DynamoDB's `UpdateItem` takes it: attributes set, numbers added to, string
 * set members added or removed, and the condition the item must meet, built into one update
 * expression, so each change is one atomic request.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 */

/** What to change in an item, and when. */
export interface ItemUpdate<T> {
  /** Attributes given these values. */
  set?: Partial<T>;
  /** Numbers added to these attributes (a missing one counts from 0). */
  add?: Partial<Record<keyof T & string, number>>;
  /** Members added to a string set (created if missing). */
  addToSet?: { attribute: keyof T & string; members: readonly string[] };
  /** Members taken out of a string set. */
  removeFromSet?: { attribute: keyof T & string; members: readonly string[] };
  /** Only if: the item exists; these attributes have these values; a set holds fewer than `below` members (or holds `member` already). */
  condition?: {
    exists?: true;
    equals?: Partial<T>;
    /** Attributes the item must not have. */
    absent?: ReadonlyArray<keyof T & string>;
    setSize?: { attribute: keyof T & string; below: number; orContains?: string };
  };
}

/** The `UpdateItem` parameters of `update` (the table and key aside). */
export function updateExpression<T>(update: ItemUpdate<T>, hashKey: string) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  let next = 0;
  const name = (attribute: string) => {
    const placeholder = `#n${next++}`;
    names[placeholder] = attribute;
    return placeholder;
  };
  const value = (given: unknown) => {
    const placeholder = `:v${next++}`;
    values[placeholder] = given;
    return placeholder;
  };
  const sets = Object.entries(update.set ?? {}).map(([attribute, given]) => `${name(attribute)} = ${value(given)}`);
  const adds = Object.entries(update.add ?? {}).map(([attribute, given]) => `${name(attribute)} ${value(given)}`);
  if (update.addToSet) adds.push(`${name(update.addToSet.attribute)} ${value(new Set(update.addToSet.members))}`);
  const deletes = update.removeFromSet
    ? [`${name(update.removeFromSet.attribute)} ${value(new Set(update.removeFromSet.members))}`]
    : [];
  const clauses = [
    ...(sets.length > 0 ? [`SET ${sets.join(", ")}`] : []),
    ...(adds.length > 0 ? [`ADD ${adds.join(", ")}`] : []),
    ...(deletes.length > 0 ? [`DELETE ${deletes.join(", ")}`] : []),
  ];
  const conditions: string[] = [];
  const { condition } = update;
  if (condition?.exists) conditions.push(`attribute_exists(${name(hashKey)})`);
  for (const [attribute, given] of Object.entries(condition?.equals ?? {})) {
    conditions.push(`${name(attribute)} = ${value(given)}`);
  }
  for (const attribute of condition?.absent ?? []) conditions.push(`attribute_not_exists(${name(attribute)})`);
  if (condition?.setSize) {
    const { attribute, below, orContains } = condition.setSize;
    const set = name(attribute);
    const alternatives = [`attribute_not_exists(${set})`, `size(${set}) < ${value(below)}`];
    if (orContains !== undefined) alternatives.push(`contains(${set}, ${value(orContains)})`);
    conditions.push(`(${alternatives.join(" OR ")})`);
  }
  return {
    UpdateExpression: clauses.join(" "),
    ...(conditions.length > 0 && { ConditionExpression: conditions.join(" AND ") }),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 && { ExpressionAttributeValues: values }),
  };
}

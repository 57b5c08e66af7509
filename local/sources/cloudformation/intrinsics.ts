/**
 * CloudFormation's intrinsic functions, evaluated as a stack being created would evaluate them, for
 * the properties the gateway reads: `Ref` (parameters, pseudo parameters, resources), `Fn::GetAtt`,
 * `Fn::Sub` (both forms, `${!Literal}` kept literal), `Fn::Join`, `Fn::Select`, `Fn::Split`,
 * `Fn::FindInMap`, `Fn::Base64`, `Fn::If` with the Conditions section (`Fn::Equals`, `Fn::Not`,
 * `Fn::And`, `Fn::Or`, `Condition`), and `AWS::NoValue`, which removes the property it stands for.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 * What needs other stacks or AWS itself (`Fn::ImportValue`, `Fn::GetAZs`, `Fn::Cidr`, macros) throws
 * {@link UnresolvableError}, which the reader turns into a line naming the property.
 */

/** Something a property uses that the gateway cannot evaluate (another stack's export, a resource it does not know). */
export class UnresolvableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnresolvableError";
  }
}

/** What `Ref` and `Fn::GetAtt` of a template's names evaluate to. */
export interface ResolveContext {
  /** Parameters' values (a `CommaDelimitedList` as a list) and pseudo parameters (`AWS::Region`, ...). */
  refs: Readonly<Record<string, unknown>>;
  /** A resource's `Ref`, or `undefined` if there is no such resource. */
  resourceRef(logicalId: string): unknown;
  /** A resource's attribute; throws {@link UnresolvableError} for one the gateway cannot know. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** A named condition's value. */
  condition(name: string): boolean;
  mappings: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
}

/** `AWS::NoValue`: dropped from the map or list that holds it. */
const NO_VALUE = Symbol("AWS::NoValue");

/** `value` with every intrinsic function evaluated. */
export function resolve(value: unknown, context: ResolveContext): unknown {
  const resolved = evaluate(value, context);
  return resolved === NO_VALUE ? undefined : resolved;
}

function evaluate(value: unknown, context: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((item) => evaluate(item, context)).filter((item) => item !== NO_VALUE);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only && (only[0] === "Ref" || only[0].startsWith("Fn::") || only[0] === "Condition")) {
    return intrinsic(only[0], only[1], context);
  }
  const result: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const resolved = evaluate(item, context);
    if (resolved !== NO_VALUE) result[key] = resolved;
  }
  return result;
}

function intrinsic(name: string, argument: unknown, context: ResolveContext): unknown {
  const args = (count: number): unknown[] => {
    const list = evaluate(argument, context);
    if (!Array.isArray(list) || list.length !== count) {
      throw new UnresolvableError(`${name} takes a list of ${count}, got ${JSON.stringify(argument)}`);
    }
    return list;
  };
  switch (name) {
    case "Ref":
      return ref(String(evaluate(argument, context)), context);
    case "Condition":
      return context.condition(String(argument));
    case "Fn::GetAtt": {
      const [logicalId, attribute] = Array.isArray(argument)
        ? (evaluate(argument, context) as unknown[]).map(String)
        : String(argument).split(/\.(.*)/s);
      return context.getAtt(String(logicalId), String(attribute));
    }
    case "Fn::Sub":
      return substitute(argument, context);
    case "Fn::Join": {
      const [delimiter, list] = args(2);
      if (!Array.isArray(list)) throw new UnresolvableError(`Fn::Join needs a list, got ${JSON.stringify(list)}`);
      return list.map((item) => text(item, name)).join(String(delimiter));
    }
    case "Fn::Select": {
      const [index, list] = args(2);
      const item = Array.isArray(list) ? list[Number(index)] : undefined;
      if (item === undefined)
        throw new UnresolvableError(`Fn::Select: no item ${String(index)} in ${JSON.stringify(list)}`);
      return item;
    }
    case "Fn::Split": {
      const [delimiter, source] = args(2);
      return text(source, name).split(String(delimiter));
    }
    case "Fn::FindInMap": {
      const [map, top, second] = args(3).map(String) as [string, string, string];
      const found = context.mappings[map]?.[top]?.[second];
      if (found === undefined) throw new UnresolvableError(`Fn::FindInMap: Mappings has no ${map}.${top}.${second}`);
      return found;
    }
    case "Fn::Base64":
      return Buffer.from(text(evaluate(argument, context), name)).toString("base64");
    case "Fn::If": {
      const [condition, whenTrue, whenFalse] = Array.isArray(argument) ? argument : [];
      if (typeof condition !== "string") throw new UnresolvableError(`Fn::If needs [condition, then, else]`);
      return evaluate(context.condition(condition) ? whenTrue : whenFalse, context);
    }
    case "Fn::Equals": {
      const [left, right] = args(2);
      return JSON.stringify(left) === JSON.stringify(right);
    }
    case "Fn::Not":
      return !truth(args(1)[0]);
    case "Fn::And":
      return (evaluate(argument, context) as unknown[]).every(truth);
    case "Fn::Or":
      return (evaluate(argument, context) as unknown[]).some(truth);
    case "Fn::ToJsonString":
      return JSON.stringify(evaluate(argument, context));
    default:
      throw new UnresolvableError(`${name} cannot be evaluated locally (it needs AWS or another stack)`);
  }
}

function ref(name: string, context: ResolveContext): unknown {
  if (name === "AWS::NoValue") return NO_VALUE;
  if (Object.hasOwn(context.refs, name)) {
    const value = context.refs[name];
    if (value instanceof UnresolvableError) throw value;
    return value;
  }
  const resource = context.resourceRef(name);
  if (resource === undefined) throw new UnresolvableError(`Ref ${name}: no parameter or resource of that name`);
  return resource;
}

/** `Fn::Sub`: `${Name}` as `Ref`, `${Name.Attribute}` as `Fn::GetAtt`, `${!Text}` as the text `${Text}`. */
function substitute(argument: unknown, context: ResolveContext): string {
  const [template, variables = {}] = Array.isArray(argument) ? argument : [argument];
  if (typeof template !== "string")
    throw new UnresolvableError(`Fn::Sub needs a string, got ${JSON.stringify(template)}`);
  const values = evaluate(variables, context) as Record<string, unknown>;
  return template.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
    if (name.startsWith("!")) return `\${${name.slice(1)}}`;
    if (Object.hasOwn(values, name)) return text(values[name], "Fn::Sub");
    const dot = name.indexOf(".");
    if (dot > 0 && !name.startsWith("AWS::")) {
      return text(context.getAtt(name.slice(0, dot), name.slice(dot + 1)), "Fn::Sub");
    }
    return text(ref(name, context), "Fn::Sub");
  });
}

function text(value: unknown, where: string): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  throw new UnresolvableError(`${where} needs text, got ${JSON.stringify(value)}`);
}

function truth(value: unknown): boolean {
  if (typeof value !== "boolean")
    throw new UnresolvableError(`a condition must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

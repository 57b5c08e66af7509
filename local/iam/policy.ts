/**
 * IAM's evaluation of identity-based policies, as the local gateway applies it to the roles it
 * gives its functions. From IAM's policy evaluation logic and element reference:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - an explicit `Deny` that matches wins; else an `Allow` that matches allows; else the request is
 *   denied implicitly ("no identity-based policy allows");
 * - `Action` matches case-insensitively, `Resource` case-sensitively, both with `*` and `?`
 *   wildcards (reference_policies_elements_action.html, reference_policies_elements_resource.html);
 * - every condition operator of a statement must hold, every key of an operator must hold, and a
 *   key holds when the request's value matches any of the policy's values; condition keys are
 *   case-insensitive (reference_policies_elements_condition_operators.html);
 * - `ForAllValues:` holds when every value of the request's key matches one of the policy's, and
 *   also when the request has no such key; `ForAnyValue:` needs at least one to match
 *   (reference_policies_condition-single-vs-multi-valued-context-keys.html).
 * Only what the project's policies and those like them use is replayed: `String*`, `Bool` and
 * `Null` operators, no `NotAction` or `NotResource`; a policy with anything else is refused when
 * the role is made, never misread at a request.
 */
import { ProjectError } from "../../dal/errors";

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | readonly string[];
  Resource: string | readonly string[];
  Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** The request's condition keys (`dynamodb:LeadingKeys`, ...): a value, several, or none. */
export type RequestContext = Record<string, string | readonly string[] | undefined>;

export interface AuthorizationRequest {
  action: string;
  resource: string;
  context?: RequestContext;
}

export type Decision = "allowed" | "implicitly-denied" | "explicitly-denied";

/** A policy the local gateway cannot evaluate faithfully. */
export class UnsupportedPolicyError extends ProjectError {
  override get name(): string {
    return "UnsupportedPolicyError";
  }
}

const OPERATORS = ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "Bool", "Null"] as const;
type Operator = (typeof OPERATORS)[number];
const STATEMENT_KEYS = new Set(["Sid", "Effect", "Action", "Resource", "Condition"]);

/** Throws {@link UnsupportedPolicyError} naming what in `statements` cannot be evaluated here. */
export function checkPolicy(statements: readonly PolicyStatement[]): void {
  for (const statement of statements) {
    const unknown = Object.keys(statement).filter((key) => !STATEMENT_KEYS.has(key));
    if (unknown.length > 0) throw new UnsupportedPolicyError(`policy element ${unknown.join(", ")} is not replayed`);
    if (statement.Effect !== "Allow" && statement.Effect !== "Deny") {
      throw new UnsupportedPolicyError(`Effect must be Allow or Deny, got ${JSON.stringify(statement.Effect)}`);
    }
    for (const name of Object.keys(statement.Condition ?? {})) parseOperator(name);
  }
}

/** What IAM decides for `request` under `statements`. */
export function evaluate(statements: readonly PolicyStatement[], request: AuthorizationRequest): Decision {
  const context = request.context ? lowerCaseKeys(request.context) : {};
  let allowed = false;
  for (const statement of statements) {
    const applies =
      list(statement.Action).some((pattern) => wildcard(pattern, "i").test(request.action)) &&
      list(statement.Resource).some((pattern) => wildcard(pattern, "").test(request.resource)) &&
      conditionsHold(statement.Condition ?? {}, context);
    if (!applies) continue;
    if (statement.Effect === "Deny") return "explicitly-denied";
    allowed = true;
  }
  return allowed ? "allowed" : "implicitly-denied";
}

function conditionsHold(conditions: NonNullable<PolicyStatement["Condition"]>, context: RequestContext): boolean {
  return Object.entries(conditions).every(([name, keys]) => {
    const { set, operator } = parseOperator(name);
    return Object.entries(keys).every(([key, values]) =>
      keyHolds(set, operator, context[key.toLowerCase()], list(values)),
    );
  });
}

function keyHolds(
  set: "ForAllValues" | "ForAnyValue" | undefined,
  operator: Operator,
  requested: string | readonly string[] | undefined,
  policyValues: readonly string[],
): boolean {
  if (operator === "Null") return policyValues.some((value) => (value.toLowerCase() === "true") === !requested);
  const values = requested === undefined ? [] : list(requested);
  const matches = (value: string) => policyValues.some((policyValue) => valueMatches(operator, value, policyValue));
  const negated = operator === "StringNotEquals" || operator === "StringNotLike";
  if (set === "ForAllValues") return values.every(matches);
  if (set === "ForAnyValue") return values.some(matches);
  // A single-valued operator: a missing key fails it, unless the operator is a negation.
  if (values.length === 0) return negated;
  return values.every(matches);
}

function valueMatches(operator: Operator, value: string, policyValue: string): boolean {
  switch (operator) {
    case "StringEquals":
      return value === policyValue;
    case "StringNotEquals":
      return value !== policyValue;
    case "StringLike":
      return wildcard(policyValue, "").test(value);
    case "StringNotLike":
      return !wildcard(policyValue, "").test(value);
    case "Bool":
      return value.toLowerCase() === policyValue.toLowerCase();
    case "Null":
      return false;
  }
}

function parseOperator(name: string): { set?: "ForAllValues" | "ForAnyValue"; operator: Operator } {
  const [first, second] = name.split(":");
  const set = second === undefined ? undefined : first;
  const operator = (second ?? first) as Operator;
  if ((set !== undefined && set !== "ForAllValues" && set !== "ForAnyValue") || !OPERATORS.includes(operator)) {
    throw new UnsupportedPolicyError(`condition operator ${name} is not replayed (${OPERATORS.join(", ")} are)`);
  }
  return { ...(set && { set }), operator };
}

const patterns = new Map<string, RegExp>();

/** A pattern with IAM's `*` (any run of characters) and `?` (any one) as an anchored regular expression. */
function wildcard(pattern: string, flags: "" | "i"): RegExp {
  const key = `${flags}:${pattern}`;
  let regex = patterns.get(key);
  if (!regex) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    regex = new RegExp(`^${source}$`, `s${flags}`);
    patterns.set(key, regex);
  }
  return regex;
}

const list = <T>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

function lowerCaseKeys(context: RequestContext): RequestContext {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [key.toLowerCase(), value]));
}

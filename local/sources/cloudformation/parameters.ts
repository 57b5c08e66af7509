/**
 * A template's parameters as a stack would get them: each from `--parameter-overrides`, else its
 * `Default`, checked against its constraints (`AllowedValues`, `AllowedPattern`, `MinLength`,
 * `MaxLength`, `MinValue`, `MaxValue`, `Number`) with CloudFormation's own wording, lists split at
 * commas. A parameter with neither a value nor a default stops the gateway, as CloudFormation
 * refuses such a stack; an SSM-typed one (CDK's `BootstrapVersion`) has no value locally and
 * fails only where it is used. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
 */
import { SourceError } from "../source-error";
import { UnresolvableError } from "./intrinsics";

/** `Key=Value` pairs, or SAM CLI's `ParameterKey=Key,ParameterValue=Value`, separated by spaces. */
export function parseParameterOverrides(text: string): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const token of text.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []) {
    const unquoted = token.replace(/"([^"]*)"|'([^']*)'/g, "$1$2");
    const sam = /^ParameterKey=([^,]+),ParameterValue=(.*)$/.exec(unquoted);
    const plain = /^([^=]+)=(.*)$/.exec(unquoted);
    const match = sam ?? plain;
    if (!match) throw new SourceError(`--parameter-overrides: ${JSON.stringify(token)} is not Key=Value`);
    overrides[match[1] as string] = match[2] as string;
  }
  return overrides;
}

/** Each parameter's value (lists as lists); an SSM parameter's is an {@link UnresolvableError} until overridden. */
export function parameterValues(
  declared: Readonly<Record<string, Record<string, unknown>>>,
  overrides: Readonly<Record<string, string>>,
  file: string,
): Record<string, unknown> {
  const unknown = Object.keys(overrides).filter((name) => !Object.hasOwn(declared, name));
  if (unknown.length > 0) throw new SourceError(`${file}: no parameter ${unknown.join(", ")} (--parameter-overrides)`);
  const values: Record<string, unknown> = {};
  for (const [name, parameter] of Object.entries(declared)) {
    const type = String(parameter.Type ?? "String");
    const given = overrides[name] ?? (parameter.Default === undefined ? undefined : String(parameter.Default));
    if (given === undefined) {
      if (type.startsWith("AWS::SSM::Parameter::")) {
        values[name] = new UnresolvableError(
          `parameter ${name} is read from SSM (${type}): give it a value with --parameter-overrides ${name}=...`,
        );
        continue;
      }
      throw new SourceError(
        `${file}: parameter ${name} has no default: give it one with --parameter-overrides ${name}=...`,
      );
    }
    const problem = constraintProblem(name, parameter, type, given);
    if (problem) throw new SourceError(`${file}: ${problem}`);
    values[name] = type.startsWith("List<") || type === "CommaDelimitedList" ? given.split(",") : given;
  }
  return values;
}

/** What CloudFormation would say of `value` for this parameter, if it refuses it. */
function constraintProblem(
  name: string,
  parameter: Record<string, unknown>,
  type: string,
  value: string,
): string | undefined {
  const because = (rule: string) =>
    `Parameter '${name}' ${rule}${parameter.ConstraintDescription ? ` (${String(parameter.ConstraintDescription)})` : ""}`;
  const allowed = parameter.AllowedValues as unknown[] | undefined;
  if (allowed && !allowed.map(String).includes(value)) {
    return because(`must be one of AllowedValues: ${allowed.join(", ")}; got ${JSON.stringify(value)}`);
  }
  if (typeof parameter.AllowedPattern === "string" && !new RegExp(`^(?:${parameter.AllowedPattern})$`).test(value)) {
    return because(`must match pattern ${parameter.AllowedPattern}; got ${JSON.stringify(value)}`);
  }
  if (parameter.MinLength !== undefined && value.length < Number(parameter.MinLength)) {
    return because(`must contain at least ${String(parameter.MinLength)} characters`);
  }
  if (parameter.MaxLength !== undefined && value.length > Number(parameter.MaxLength)) {
    return because(`must contain at most ${String(parameter.MaxLength)} characters`);
  }
  if (type === "Number") {
    const number = Number(value);
    if (value.trim() === "" || Number.isNaN(number)) return because(`must be a number; got ${JSON.stringify(value)}`);
    if (parameter.MinValue !== undefined && number < Number(parameter.MinValue)) {
      return because(`must be a number not less than ${String(parameter.MinValue)}`);
    }
    if (parameter.MaxValue !== undefined && number > Number(parameter.MaxValue)) {
      return because(`must be a number not greater than ${String(parameter.MaxValue)}`);
    }
  }
  return undefined;
}

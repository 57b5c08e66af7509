/**
 * The Serverless Framework's variables in a `serverless.yml`, as far as a local run can know them:
 * `${self:path.to.key}` (the file's own values, themselves resolved), `${opt:stage}` and
 * `${opt:region}` (the command's `--stage` and `--region`), `${env:NAME}`, `${sls:stage}`,
 * `${aws:region}` and `${aws:accountId}`, `${file(./other.yml):path.to.key}` (a YAML or JSON file,
 * its path relative to the service's folder as the Framework reads it, whole or one value of it), each with its fallback (`${opt:stage, 'dev'}`),
 * nested ones innermost first. A variable that asks AWS or runs code (`${ssm:...}`, `${cf:...}`,
 * `${file(./x.js)}`) takes its fallback, with a line saying so; without one it stops the command, as
 * it would stop `serverless deploy` without AWS. CloudFormation's own `${AWS::Region}` and `${Logical.Attr}`
 * (inside `Fn::Sub`) are left for the template's evaluation.
 * https://www.serverless.com/framework/docs/guides/variables
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import { CLOUDFORMATION_TAGS } from "../cloudformation/template-file";
import { SourceError } from "../source-error";

export interface VariableSources {
  /** `--stage`, when given (else `${opt:stage}` has no value and its fallback is taken). */
  stage?: string;
  region: string;
  accountId: string;
  env: NodeJS.ProcessEnv;
}

/** The innermost `${...}` (no `${` or `}` inside it). */
const INNERMOST = /\$\{([^${}]*)\}/g;
/** `source:address`, where `source` is a Framework variable source (lower-case first letter, or `file(...)`). */
const FRAMEWORK_VARIABLE = /^\s*([a-z][\w-]*(?:\([^)]*\))?):(.*)$/s;
/** `file(path)` alone: the whole file. */
const WHOLE_FILE = /^\s*(file\([^)]*\))\s*$/;
/** Sources whose value is found locally: a fallback taken for them is no news. */
const LOCAL_SOURCES = ["self", "opt", "env", "sls", "aws"];
/** A file whose value the Framework gets by running it: not done here. */
const RUNS_CODE = /\.[cm]?[jt]s$/;
const MAX_DEPTH = 20;

/** Resolves every Framework variable in `config`; lines for fallbacks taken go to `notes`. */
export function resolveVariables(
  config: Record<string, unknown>,
  sources: VariableSources,
  file: string,
  notes: string[],
): Record<string, unknown> {
  const resolver = new Resolver(config, sources, file, notes);
  return resolver.value(config, 0) as Record<string, unknown>;
}

class Resolver {
  constructor(
    private readonly config: Record<string, unknown>,
    private readonly sources: VariableSources,
    private readonly file: string,
    private readonly notes: string[],
  ) {}

  value(value: unknown, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new SourceError(`${this.file}: variables refer to each other in a cycle`);
    if (typeof value === "string") return this.text(value, depth);
    if (Array.isArray(value)) return value.map((item) => this.value(item, depth));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.value(item, depth)]));
    }
    return value;
  }

  /** A string's variables, innermost first; a string that is one variable takes the variable's value, of any type. */
  private text(text: string, depth: number): unknown {
    let current = text;
    for (;;) {
      const whole = /^\$\{([^${}]*)\}$/.exec(current);
      if (whole && isFrameworkVariable(whole[1] as string)) return this.variable(whole[1] as string, depth);
      const next = current.replace(INNERMOST, (match, inner: string) =>
        isFrameworkVariable(inner) ? String(this.variable(inner, depth)) : match,
      );
      if (next === current) return current;
      current = next;
    }
  }

  /** One variable's value: its source's, else its fallback's. */
  private variable(inner: string, depth: number): unknown {
    const [reference = "", ...fallbacks] = splitTopLevel(inner);
    const { source, address } = parseReference(reference) ?? { source: "", address: "" };
    const found = this.lookUp(source, address, depth);
    if (found !== undefined) return found;
    // A JavaScript file's value is what running it returns: not done here.
    const local = source.startsWith("file(") ? !RUNS_CODE.test(fileName(source)) : LOCAL_SOURCES.includes(source);
    if (fallbacks.length === 0) {
      if (local) {
        throw new SourceError(`${this.file}: \${${inner}} has no value here and no fallback`);
      }
      throw new SourceError(
        `${this.file}: \${${inner}} is not resolved locally (self, opt, env, sls, aws and YAML or JSON files are); give it a fallback`,
      );
    }
    if (!local) {
      this.notes.push(`variable \${${reference.trim()}} is not resolved locally: its fallback is used`);
    }
    return literal(fallbacks.join(",").trim());
  }

  private lookUp(source: string, address: string, depth: number): unknown {
    switch (source) {
      case "self":
        return this.self(address, depth);
      case "opt":
        return address === "stage" ? this.sources.stage : address === "region" ? this.sources.region : undefined;
      case "env":
        return this.sources.env[address];
      case "sls":
        return address === "stage" ? (this.sources.stage ?? this.self("provider.stage", depth) ?? "dev") : undefined;
      case "aws":
        return address === "region"
          ? this.sources.region
          : address === "accountId"
            ? this.sources.accountId
            : undefined;
      default:
        return source.startsWith("file(") ? this.fromFile(source, address, depth) : undefined;
    }
  }

  /** `${file(./x.yml):a.b}`: the file (YAML or JSON), that value of it, its variables resolved. */
  private fromFile(source: string, address: string, depth: number): unknown {
    const file = path.resolve(path.dirname(this.file), fileName(source));
    if (RUNS_CODE.test(file) || !existsSync(file)) return undefined;
    let value: unknown;
    try {
      const document = parseDocument(readFileSync(file, "utf8"), { customTags: CLOUDFORMATION_TAGS });
      const [problem] = document.errors;
      if (problem) throw new Error(problem.message.split("\n")[0]);
      value = document.toJSON();
    } catch (error) {
      throw new SourceError(`${this.file}: \${${source}}: ${file} cannot be read (${(error as Error).message})`);
    }
    for (const key of address.split(".").filter(Boolean)) {
      if (typeof value !== "object" || value === null) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value === undefined || value === null ? undefined : this.value(value, depth + 1);
  }

  /** `${self:a.b.c}`: that value of the file, its own variables resolved; `${self:}` is the whole file. */
  private self(address: string, depth: number): unknown {
    let value: unknown = this.config;
    for (const key of address.split(".").filter(Boolean)) {
      if (typeof value !== "object" || value === null) return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value === undefined ? undefined : this.value(value, depth + 1);
  }
}

/** The path `file(path)` names, unquoted. */
function fileName(source: string): string {
  return source
    .slice("file(".length, -1)
    .trim()
    .replace(/^(['"])(.*)\1$/, "$2");
}

/** A variable's source and address: `source:address`, or `file(path)` alone. */
function parseReference(reference: string): { source: string; address: string } | undefined {
  const [, source, address] = FRAMEWORK_VARIABLE.exec(reference) ?? WHOLE_FILE.exec(reference) ?? [];
  return source === undefined ? undefined : { source, address: (address ?? "").trim() };
}

function isFrameworkVariable(inner: string): boolean {
  return parseReference(splitTopLevel(inner)[0] ?? "") !== undefined;
}

/** `a, 'b, c', d` split at the commas outside quotes. */
function splitTopLevel(text: string): string[] {
  return text.match(/(?:'[^']*'|"[^"]*"|[^,])+/g) ?? [""];
}

/** A fallback as written: a quoted string, a number, `true`/`false`, or bare text. */
function literal(text: string): unknown {
  const quoted = /^(['"])(.*)\1$/s.exec(text);
  if (quoted) return quoted[2];
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

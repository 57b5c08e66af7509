/**
 * Reads a CloudFormation or SAM template, YAML or JSON, into the JSON form CloudFormation itself
 * works on: each short-form tag (`!Ref X`, `!GetAtt A.Arn`, `!Sub`, `!Join`, ...) becomes its full
 * form (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "Arn"]}`, ...), as the user guide's "Intrinsic function
 * reference" pairs them. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */
import { readFileSync } from "node:fs";
import { type CollectionTag, parseDocument, type ScalarTag, type YAMLMap, type YAMLSeq } from "yaml";
import { SourceError } from "../source-error";

/** The short forms CloudFormation's YAML accepts, by tag. */
const FUNCTIONS = [
  "Base64",
  "Cidr",
  "FindInMap",
  "GetAtt",
  "GetAZs",
  "ImportValue",
  "Join",
  "Select",
  "Split",
  "Sub",
  "Transform",
  "And",
  "Equals",
  "If",
  "Not",
  "Or",
  "Length",
  "ToJsonString",
] as const;

/** `{"Fn::X": value}`; `!Ref` and `!Condition` have no `Fn::` prefix; `!GetAtt A.B.C` is `["A", "B.C"]`. */
function fullForm(name: string, value: unknown): Record<string, unknown> {
  if (name === "Ref" || name === "Condition") return { [name]: value };
  if (name === "GetAtt" && typeof value === "string") {
    const dot = value.indexOf(".");
    return { "Fn::GetAtt": dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}

export const CLOUDFORMATION_TAGS: Array<ScalarTag | CollectionTag> = ["Ref", "Condition", ...FUNCTIONS].flatMap(
  (name) => [
    { tag: `!${name}`, resolve: (text: string) => fullForm(name, text) },
    ...(["seq", "map"] as const).map((collection) => ({
      tag: `!${name}`,
      collection,
      resolve: (node: YAMLMap | YAMLSeq) => fullForm(name, node.toJSON()),
    })),
  ],
);

/** A template's top-level sections, as far as the gateway reads them. */
export interface Template {
  Transform?: string | string[];
  Parameters?: Record<string, Record<string, unknown>>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Globals?: Record<string, Record<string, unknown>>;
  Resources?: Record<string, TemplateResource>;
}

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
  Metadata?: Record<string, unknown>;
}

/** Parses template text (JSON is YAML too); throws {@link SourceError} with the line of a syntax error or an unknown tag. */
export function parseTemplate(text: string, file: string): Template {
  const document = parseDocument(text, { customTags: CLOUDFORMATION_TAGS, prettyErrors: true, uniqueKeys: true });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) throw new SourceError(`${file}: ${problem.message.split("\n")[0]?.replace(/:$/, "")}`);
  const template = document.toJSON() as unknown;
  if (typeof template !== "object" || template === null || Array.isArray(template)) {
    throw new SourceError(`${file}: not a template (its top level is not a map)`);
  }
  return template as Template;
}

export function readTemplateFile(file: string): Template {
  return parseTemplate(readFileSync(file, "utf8"), file);
}

/**
 * A template's Lambda functions as the gateway runs them: `AWS::Serverless::Function` (with the
 * template's `Globals`, merged as SAM merges them: maps merged, the resource's entry winning, lists
 * prepended, other values replaced) and `AWS::Lambda::Function`, their code found on disk (`CodeUri`
 * relative to the template; a CDK asset folder named by `aws:asset:path`; inline code written to a
 * folder as Lambda writes `index`), `Handler`, `Runtime`, `Environment`, `Timeout` (default 3 s) and
 * `MemorySize` (default 128 MB). What cannot run here (an image, code only in S3, a zipped asset,
 * layers, SAM events) is named in the app's lines.
 * https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy-globals.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-function-code.html
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CodeFunction } from "../../websocket-app";
import { UnresolvableError } from "./intrinsics";
import { functionPolicy } from "./roles";
import type { Stack } from "./stack";

const LAMBDA_DEFAULTS = { Timeout: 3, MemorySize: 128 };

const withPolicy = (policy: CodeFunction["policy"]) => (policy ? { policy } : {});

/** A function that cannot run locally, and why. */
export class UnrunnableFunctionError extends Error {}

/** The function declared as `logicalId`, ready to run; throws {@link UnrunnableFunctionError} saying why it cannot. */
export function codeFunction(stack: Stack, logicalId: string, notes: string[]): CodeFunction {
  const resource = stack.resources.get(logicalId);
  const sam = resource?.Type === "AWS::Serverless::Function";
  const raw = sam
    ? withGlobals(stack.template.Globals?.Function ?? {}, resource.Properties ?? {})
    : (resource?.Properties ?? {});
  const property = (name: string): unknown => stack.resolve(raw[name]);
  const what = `${resource?.Type} ${logicalId}`;
  if (property("PackageType") === "Image" || raw.ImageUri !== undefined) {
    throw new UnrunnableFunctionError(`${what}: a container image function is not run locally`);
  }
  const runtime = property("Runtime");
  const handler = property("Handler");
  if (typeof runtime !== "string" || typeof handler !== "string") {
    throw new UnrunnableFunctionError(`${what}: no Runtime or Handler`);
  }
  if (raw.Layers !== undefined) {
    notes.push(`${what}: Layers are not unpacked locally; the function runs without their code`);
  }
  for (const [name, event] of Object.entries((raw.Events ?? {}) as Record<string, { Type?: string }>)) {
    notes.push(`${what}: event ${name} (${event.Type}) is not replayed; only the WebSocket API invokes it`);
  }
  return {
    kind: "code",
    name: stack.physicalName(logicalId),
    runtime,
    handler,
    codeDir: sam
      ? samCode(stack, what, raw, property, runtime)
      : lambdaCode(stack, what, resource?.Metadata, property, runtime),
    environment: environmentVariables(stack, what, raw.Environment, notes),
    timeoutSeconds: Number(property("Timeout") ?? LAMBDA_DEFAULTS.Timeout),
    memorySize: Number(property("MemorySize") ?? LAMBDA_DEFAULTS.MemorySize),
    ...withPolicy(functionPolicy(stack, logicalId, raw, notes)),
  };
}

/** SAM's merge of `Globals.Function` into a function's properties. */
function withGlobals(globals: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...globals };
  for (const [key, value] of Object.entries(own)) {
    const global = merged[key];
    if (Array.isArray(global) && Array.isArray(value)) merged[key] = [...global, ...value];
    else if (isMap(global) && isMap(value) && !isIntrinsic(value)) merged[key] = withGlobals(global, value);
    else merged[key] = value;
  }
  return merged;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIntrinsic(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "Ref" || Boolean(keys[0]?.startsWith("Fn::")));
}

function samCode(
  stack: Stack,
  what: string,
  raw: Record<string, unknown>,
  property: (name: string) => unknown,
  runtime: string,
): string {
  const inline = property("InlineCode");
  if (typeof inline === "string") return inlineCodeFolder(inline, runtime);
  const codeUri = property("CodeUri");
  if (typeof codeUri !== "string" || codeUri.startsWith("s3://")) {
    throw new UnrunnableFunctionError(
      `${what}: CodeUri ${JSON.stringify(raw.CodeUri)} is not a folder on this machine; point it at the function's source`,
    );
  }
  return existingFolder(path.resolve(path.dirname(stack.file), codeUri), what);
}

function lambdaCode(
  stack: Stack,
  what: string,
  metadata: Record<string, unknown> | undefined,
  property: (name: string) => unknown,
  runtime: string,
): string {
  const code = (property("Code") ?? {}) as { ZipFile?: unknown };
  if (typeof code.ZipFile === "string") return inlineCodeFolder(code.ZipFile, runtime);
  // CDK's synthesized templates name the asset folder that holds the code S3 would hold.
  const asset = metadata?.["aws:asset:path"];
  if (typeof asset === "string" && metadata?.["aws:asset:property"] === "Code") {
    if (asset.endsWith(".zip")) {
      throw new UnrunnableFunctionError(
        `${what}: its asset ${asset} is a zip file; unzip it into a folder of that name`,
      );
    }
    return existingFolder(path.resolve(path.dirname(stack.file), asset), what);
  }
  throw new UnrunnableFunctionError(`${what}: its code is in S3 (Code.S3Bucket), not on this machine`);
}

function existingFolder(folder: string, what: string): string {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UnrunnableFunctionError(`${what}: its code folder ${folder} does not exist`);
  }
  return folder;
}

/** Folders of inline code, removed when the process exits. */
const inlineFolders: string[] = [];

/** Inline code in a folder of its own, as Lambda writes it: `index.js` or `index.py`. */
function inlineCodeFolder(source: string, runtime: string): string {
  if (inlineFolders.length === 0) {
    process.once("exit", () => {
      for (const folder of inlineFolders) rmSync(folder, { recursive: true, force: true });
    });
  }
  const folder = mkdtempSync(path.join(tmpdir(), "inline-code-"));
  inlineFolders.push(folder);
  writeFileSync(path.join(folder, runtime.startsWith("python") ? "index.py" : "index.js"), source);
  return folder;
}

/** `Environment.Variables`, each evaluated apart, so one that needs AWS is left out with a line and the rest stay. */
function environmentVariables(
  stack: Stack,
  what: string,
  environment: unknown,
  notes: string[],
): Record<string, string> {
  const variables = isMap(environment) ? environment.Variables : undefined;
  const resolved = isMap(variables) && isIntrinsic(variables) ? stack.resolve(variables) : variables;
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(isMap(resolved) ? resolved : {})) {
    try {
      const text = stack.resolve(value);
      if (text !== undefined) result[name] = String(text);
    } catch (error) {
      if (!(error instanceof UnresolvableError)) throw error;
      notes.push(`${what}: environment variable ${name} left unset: ${error.message}`);
    }
  }
  return result;
}

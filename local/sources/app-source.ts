/**
 * Finds and reads the app a command is pointed at: a SAM or CloudFormation template (`.yaml`,
 * `.yml`, `.json`); a Serverless Framework service (`./serverless/`: a YAML or JSON file with
 * `service` and `provider`, or a `serverless.ts`/`.js` module exporting one); a CDK app's cloud
 * assembly (`cdk.out`: its `manifest.json` lists each stack's `templateFile` under artifacts of type
 * `aws:cloudformation:stack`, and a stage's stacks sit in a nested assembly; the stack with a
 * WebSocket API is served, its functions' code read from their asset folders); or a folder holding
 * one of them under its tool's default name: `template.yaml`, `.yml` or `.json` (SAM CLI's),
 * `cdk.out` (CDK's), `serverless.yml`, `.yaml`, `.json`, `.js` or `.ts` (the Framework's). Without
 * an argument, the current folder. https://docs.aws.amazon.com/cdk/v2/guide/apps.html#apps-cloud-assembly
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { require as tsxRequire } from "tsx/cjs/api";
import type { WebSocketApp } from "../websocket-app";
import { type TemplateOptions, templateApp } from "./cloudformation/template-app";
import { readTemplateFile } from "./cloudformation/template-file";
import { isServerlessService, serverlessApp } from "./serverless/serverless-app";
import { SourceError } from "./source-error";

/** What a folder may hold, under each tool's default name. */
const DEFAULT_NAMES = [
  "template.yaml",
  "template.yml",
  "template.json",
  "cdk.out",
  "serverless.yml",
  "serverless.yaml",
  "serverless.json",
  "serverless.js",
  "serverless.ts",
];
/** A Framework service written as a module, its configuration the module's export. */
const SERVICE_MODULE = /\.(c?js|ts)$/;

export type AppPlace = Omit<TemplateOptions, "stackName">;

/** The app `source` describes (a file or a folder; default `cwd`). */
export function readApp(source: string | undefined, place: AppPlace, cwd = process.cwd()): WebSocketApp {
  const target = sourceIn(path.resolve(cwd, source ?? "."));
  const manifest = path.join(target, "manifest.json");
  if (existsSync(manifest)) return cdkApp(manifest, place);
  if (statSync(target).isDirectory()) throw new SourceError(`${target}: no manifest.json in this cloud assembly`);
  const template = SERVICE_MODULE.test(target) ? serviceModule(target) : readTemplateFile(target);
  if (isServerlessService(template)) return serverlessApp(template as Record<string, unknown>, target, place);
  // The stack's name where the template names none: its folder's, as `sam deploy` asks for one.
  const stackName = path.basename(path.dirname(target)).replace(/[^A-Za-z0-9-]/g, "-") || "local";
  return templateApp(template, target, { ...place, stackName });
}

/** The cloud assembly's one stack with a WebSocket API, under its stack name, in a stage or not. */
function cdkApp(manifest: string, place: AppPlace): WebSocketApp {
  const stacks = assemblyStacks(manifest).filter(({ file }) =>
    /"ProtocolType":\s*"WEBSOCKET"/.test(readFileSync(file, "utf8")),
  );
  if (stacks.length !== 1) {
    throw new SourceError(
      `${manifest}: ${stacks.length} stacks with a WebSocket API (${stacks.map((stack) => stack.stackName).join(", ") || "none"}); name its template file instead`,
    );
  }
  const [{ stackName, file }] = stacks as [{ stackName: string; file: string }];
  return templateApp(readTemplateFile(file), file, { ...place, stackName });
}

interface AssemblyArtifact {
  type?: string;
  properties?: { templateFile?: string; stackName?: string; directoryName?: string };
}

/**
 * Every stack of a cloud assembly: its own, and those of its stages' nested assemblies
 * (`cdk:cloud-assembly` artifacts, each a folder with a manifest of its own, `assembly-{Stage}`).
 */
function assemblyStacks(manifest: string): Array<{ stackName: string; file: string }> {
  const folder = path.dirname(manifest);
  const { artifacts = {} } = JSON.parse(readFileSync(manifest, "utf8")) as {
    artifacts?: Record<string, AssemblyArtifact>;
  };
  return Object.entries(artifacts).flatMap(([id, { type, properties = {} }]) => {
    if (type === "cdk:cloud-assembly" && properties.directoryName) {
      return assemblyStacks(path.join(folder, properties.directoryName, "manifest.json"));
    }
    if (type !== "aws:cloudformation:stack" || !properties.templateFile) return [];
    return [{ stackName: properties.stackName ?? id, file: path.join(folder, properties.templateFile) }];
  });
}

/**
 * `serverless.ts` or `serverless.js`: the configuration its module exports (`module.exports`,
 * `export =` or `export default`), TypeScript loaded through tsx, as the Framework loads it.
 * https://www.serverless.com/framework/docs/providers/aws/guide/intro#services
 */
function serviceModule(file: string): Record<string, unknown> {
  let loaded: Record<string, unknown>;
  try {
    loaded = tsxRequire(file, __filename) as Record<string, unknown>;
  } catch (error) {
    throw new SourceError(`${file}: loading it failed: ${(error as Error).message}`, { cause: error });
  }
  const config = (loaded?.default ?? loaded) as unknown;
  if (typeof config !== "object" || config === null || typeof (config as Promise<unknown>).then === "function") {
    throw new SourceError(
      `${file}: its export is not a service configuration object (a promise or function is not read)`,
    );
  }
  if (!isServerlessService(config)) throw new SourceError(`${file}: its export names no service and provider`);
  return config as Record<string, unknown>;
}

/** The file or cloud assembly `target` names: itself, or the one app a folder holds under a default name. */
function sourceIn(target: string): string {
  if (!existsSync(target)) throw new SourceError(`${target}: no such file or folder`);
  if (!statSync(target).isDirectory() || existsSync(path.join(target, "manifest.json"))) return target;
  const found = DEFAULT_NAMES.filter((name) => existsSync(path.join(target, name)));
  if (found.length === 0) throw new SourceError(`${target}: no ${DEFAULT_NAMES.join(", ")} here; name the app's file`);
  if (found.length > 1) throw new SourceError(`${target}: holds ${found.join(" and ")}; name the one to run`);
  return path.join(target, found[0] as string);
}

/**
 * Finds and reads the app a command is pointed at: a SAM or CloudFormation template (`.yaml`,
 * `.yml`, `.json`), a Serverless Framework service (a YAML file with `service` and `provider`,
 * `./serverless/`), a CDK app's cloud assembly (`cdk.out`: its `manifest.json` lists each stack's
 * `templateFile` under artifacts of type `aws:cloudformation:stack`; the stack with a WebSocket
 * API is served, its functions' code read from their asset folders), or a folder holding one of
 * them under its tool's default name: `template.yaml`, `template.yml` or `template.json` (SAM
 * CLI's), `cdk.out` (CDK's), `serverless.yml` or `serverless.yaml` (the Framework's). Without an
 * argument, the current folder. https://docs.aws.amazon.com/cdk/v2/guide/apps.html#apps-cloud-assembly
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
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
];

export type AppPlace = Omit<TemplateOptions, "stackName">;

/** The app `source` describes (a file or a folder; default `cwd`). */
export function readApp(source: string | undefined, place: AppPlace, cwd = process.cwd()): WebSocketApp {
  const target = sourceIn(path.resolve(cwd, source ?? "."));
  const manifest = path.join(target, "manifest.json");
  if (existsSync(manifest)) return cdkApp(manifest, place);
  if (statSync(target).isDirectory()) throw new SourceError(`${target}: no manifest.json in this cloud assembly`);
  const template = readTemplateFile(target);
  if (isServerlessService(template)) return serverlessApp(template as Record<string, unknown>, target, place);
  // The stack's name where the template names none: its folder's, as `sam deploy` asks for one.
  const stackName = path.basename(path.dirname(target)).replace(/[^A-Za-z0-9-]/g, "-") || "local";
  return templateApp(template, target, { ...place, stackName });
}

/** The cloud assembly's one stack with a WebSocket API, under its stack name. */
function cdkApp(manifest: string, place: AppPlace): WebSocketApp {
  const { artifacts = {} } = JSON.parse(readFileSync(manifest, "utf8")) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string; stackName?: string } }>;
  };
  const stacks = Object.entries(artifacts)
    .filter(([, artifact]) => artifact.type === "aws:cloudformation:stack" && artifact.properties?.templateFile)
    .map(([id, artifact]) => ({
      stackName: artifact.properties?.stackName ?? id,
      file: path.join(path.dirname(manifest), artifact.properties?.templateFile as string),
    }))
    .filter(({ file }) => /"ProtocolType":\s*"WEBSOCKET"/.test(readFileSync(file, "utf8")));
  if (stacks.length !== 1) {
    throw new SourceError(
      `${manifest}: ${stacks.length} stacks with a WebSocket API (${stacks.map((stack) => stack.stackName).join(", ") || "none"}); name its template file instead`,
    );
  }
  const [{ stackName, file }] = stacks as [{ stackName: string; file: string }];
  return templateApp(readTemplateFile(file), file, { ...place, stackName });
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

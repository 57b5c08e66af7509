/**
 * Finds and reads the app a command is pointed at: a SAM or CloudFormation template (`.yaml`,
 * `.yml`, `.json`), a folder holding one under SAM CLI's default names (`template.yaml`,
 * `template.yml`, `template.json`), or a CDK app's cloud assembly (`cdk.out`: its `manifest.json`
 * lists each stack's `templateFile` under artifacts of type `aws:cloudformation:stack`; the stack
 * with a WebSocket API is served, its functions' code read from their asset folders); without an
 * argument, the current folder.
 * https://docs.aws.amazon.com/cdk/v2/guide/apps.html#apps-cloud-assembly
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { WebSocketApp } from "../websocket-app";
import { type TemplateOptions, templateApp } from "./cloudformation/template-app";
import { readTemplateFile } from "./cloudformation/template-file";
import { SourceError } from "./source-error";

const TEMPLATE_NAMES = ["template.yaml", "template.yml", "template.json"];

export type AppPlace = Omit<TemplateOptions, "stackName">;

/** The app `source` describes (a file or a folder; default `cwd`). */
export function readApp(source: string | undefined, place: AppPlace, cwd = process.cwd()): WebSocketApp {
  const target = path.resolve(cwd, source ?? ".");
  const manifest = path.join(target, "manifest.json");
  if (existsSync(manifest)) return cdkApp(manifest, place);
  const file = sourceFile(target);
  // The stack's name where the template names none: its folder's, as `sam deploy` asks for one.
  const stackName = path.basename(path.dirname(file)).replace(/[^A-Za-z0-9-]/g, "-") || "local";
  return templateApp(readTemplateFile(file), file, { ...place, stackName });
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

function sourceFile(target: string): string {
  if (!existsSync(target)) throw new SourceError(`${target}: no such file or folder`);
  if (!statSync(target).isDirectory()) return target;
  const found = TEMPLATE_NAMES.map((name) => path.join(target, name)).find((file) => existsSync(file));
  if (!found) throw new SourceError(`${target}: no ${TEMPLATE_NAMES.join(", ")} here; name the template`);
  return found;
}

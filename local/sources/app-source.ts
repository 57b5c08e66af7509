/**
 * Finds and reads the app a command is pointed at: a SAM or CloudFormation template (`.yaml`,
 * `.yml`, `.json`), or a folder holding one under SAM CLI's default names (`template.yaml`,
 * `template.yml`, `template.json`); without an argument, the current folder.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { WebSocketApp } from "../websocket-app";
import { type TemplateOptions, templateApp } from "./cloudformation/template-app";
import { readTemplateFile } from "./cloudformation/template-file";
import { SourceError } from "./source-error";

const TEMPLATE_NAMES = ["template.yaml", "template.yml", "template.json"];

export type AppPlace = Omit<TemplateOptions, "stackName">;

/** The app `source` describes (a file or a folder; default `cwd`). */
export function readApp(source: string | undefined, place: AppPlace, cwd = process.cwd()): WebSocketApp {
  const file = sourceFile(path.resolve(cwd, source ?? "."));
  // The stack's name where the template names none: its folder's, as `sam deploy` asks for one.
  const stackName = path.basename(path.dirname(file)).replace(/[^A-Za-z0-9-]/g, "-") || "local";
  return templateApp(readTemplateFile(file), file, { ...place, stackName });
}

function sourceFile(target: string): string {
  if (!existsSync(target)) throw new SourceError(`${target}: no such file or folder`);
  if (!statSync(target).isDirectory()) return target;
  const found = TEMPLATE_NAMES.map((name) => path.join(target, name)).find((file) => existsSync(file));
  if (!found) throw new SourceError(`${target}: no ${TEMPLATE_NAMES.join(", ")} here; name the template`);
  return found;
}

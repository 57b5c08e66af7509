import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { ConfigError } from "../functions/runtime/function-config";

/** The project's settings in a stack file: `websocket-chat:{key}` under `config`. */
export interface StackSettings {
  /** The file read (named in errors). */
  file: string;
  get(key: string): unknown;
}

/**
 * The settings of `Pulumi.{stack}.yaml` in `projectDir`, so `npm run local` runs what `pulumi up`
 * would deploy; a stack without a file has none (the program's defaults apply).
 */
export function readStackSettings(projectDir: string, stack: string): StackSettings {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  let config: Record<string, unknown> = {};
  try {
    config = ((parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)?.config ??
      {}) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new ConfigError(`${file}: ${String(error)}`);
  }
  return { file, get: (key) => config[`websocket-chat:${key}`] };
}

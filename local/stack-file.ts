/**
 * A stack's settings as its `Pulumi.{stack}.yaml` holds them, read once, so `npm run local` runs
 * what `pulumi up` would deploy: the project's keys (`websocket-chat:{key}`) and the stage's
 * throttling with the program's defaults for what the file leaves out.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { STAGE_THROTTLING_DEFAULTS } from "../functions/routes";
import { ConfigError } from "../functions/runtime/function-config";
import type { StageThrottling } from "./api-gateway/stage-throttling";

/** The project's settings in a stack file. */
export interface StackFile {
  /** The file read (named in errors). */
  file: string;
  get(key: string): unknown;
}

/** `Pulumi.{stack}.yaml` in `projectDir`; a stack without a file has no settings (the program's defaults apply). */
export function readStackFile(projectDir: string, stack: string): StackFile {
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

/** The stage's throttling the stack deploys. */
export function stackThrottling(stack: StackFile): StageThrottling {
  const number = (key: "throttlingBurstLimit" | "throttlingRateLimit", fallback: number) => {
    const value = stack.get(key);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new ConfigError(`${stack.file}: ${key} must be a number of at least 0, got ${JSON.stringify(value)}`);
    return parsed;
  };
  return {
    burstLimit: number("throttlingBurstLimit", STAGE_THROTTLING_DEFAULTS.burstLimit),
    rateLimit: number("throttlingRateLimit", STAGE_THROTTLING_DEFAULTS.rateLimit),
  };
}

import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import type { RegisteredResource } from "./pulumi-mocks";

const ROOT = join(__dirname, "..", "..");
/** What the deploy reads: the program, its sources, the page it publishes, the stack files. */
const PROGRAM_FILES = ["index.ts", "functions", "dal", "infra", "page", "package.json", "tsconfig.json"];

/**
 * A copy of the program beside a `node_modules` of the production packages alone, as
 * `npm ci --omit=dev` installs them (npm itself lists them), so a program that needs a
 * devDependency fails here with ERR_MODULE_NOT_FOUND, as `pulumi up` would after that install.
 */
export function productionInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), "production-install-"));
  for (const file of PROGRAM_FILES) cpSync(join(ROOT, file), join(dir, file), { recursive: true });
  for (const file of ["pulumi-mocks.ts", "load-stack.ts"])
    cpSync(join(__dirname, file), join(dir, "test", "support", file));
  const listed = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, encoding: "utf8" });
  for (const path of listed.split("\n")) {
    const inside = relative(ROOT, path);
    // Top-level packages only: nested ones come with the folder they are nested in.
    if (!/^node_modules\/(@[^/]+\/)?[^/@]+$/.test(inside)) continue;
    mkdirSync(dirname(join(dir, inside)), { recursive: true });
    symlinkSync(path, join(dir, inside), "dir");
  }
  return dir;
}

export interface LoadedStack {
  outputs: Record<string, unknown>;
  resources: RegisteredResource[];
}

/** The `config:` entries of `Pulumi.{stack}.yaml` (flat `key: value` lines, as `pulumi config set` writes them). */
export function stackConfig(stack: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8").split("\n")) {
    const match = /^\s+([\w-]+:[\w-]+):\s*(.+?)\s*$/.exec(line);
    if (match?.[1] && match[2]) config[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
  }
  return config;
}

/** Runs the program in `dir` as `stack` with `config`, under mocks, the way Pulumi.yaml loads it (through tsx). */
export function loadStack(dir: string, stack: string, config: Record<string, string>): Promise<LoadedStack> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join("test", "support", "load-stack.ts"), stack],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", STACK_CONFIG: JSON.stringify(config) },
        maxBuffer: 256 * 1024 * 1024,
        timeout: 100_000,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`stack ${stack} did not load: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout) as LoadedStack);
      },
    );
  });
}

/**
 * The functions' packages laid out on disk and run as Lambda's Node.js runtime would: by the
 * package tests (each function, on its own, as deployed) and the cold-start benchmarks.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildSync } from "esbuild";
import {
  BUNDLE_ENVIRONMENT,
  bundleFunction,
  DEPLOY_ONLY_PACKAGES,
  type FunctionBundle,
} from "../infra/function-bundle";
import { spawnWithLambdaCpu } from "./cpu-quota";
import type { RunnerRequest, RunnerResult } from "./package-runner";

/**
 * `bundle`: what `pulumi up` deploys, one `__index.js` and its map (`infra/function-bundle.ts`).
 * `node_modules`: what `aws.lambda.CallbackFunction` zipped before, the serialized module beside a
 * copy of every package in `dependencies`; the cold-start benchmark's baseline.
 */
export type PackageLayout = "bundle" | "node_modules";

export interface Packages {
  workDir: string;
  layout: PackageLayout;
  /** Folder per function holding `__index.js`. */
  dirs: Map<string, string>;
  /** `bundle`: the packages each function's bundle holds code of. */
  bundled: Map<string, string[]>;
  /** `node_modules`: relative paths of the packed package folders, as CallbackFunction computes them. */
  packedPaths: string[];
  /** The runtime stand-in, compiled for plain `node`. */
  runner: string;
}

// biome-ignore lint/suspicious/noExplicitAny: factories of any event and result type are packed alike.
export type Factory = aws.lambda.CallbackFactory<any, any>;

export async function packFunctions(
  factories: Map<string, Factory>,
  layout: PackageLayout = "bundle",
): Promise<Packages> {
  const workDir = mkdtempSync(join(tmpdir(), "lambda-package-"));
  const runner = join(workDir, "runner.js");
  buildSync({ entryPoints: [require.resolve("./package-runner")], outfile: runner, platform: "node", format: "cjs" });
  const packages: Packages = { workDir, layout, dirs: new Map(), bundled: new Map(), packedPaths: [], runner };
  if (layout === "node_modules") {
    // What CallbackFunction zips besides the handler: the `dependencies` closure, `aws-sdk` left out.
    const packed = await pulumi.runtime.computeCodePaths({
      extraExcludePackages: [...DEPLOY_ONLY_PACKAGES, "aws-sdk"],
    });
    packages.packedPaths = [...packed.keys()].sort();
    for (const relative of packages.packedPaths)
      cpSync(relative, join(workDir, "shared", relative), { recursive: true });
  }
  // Asked for all at once, as a Pulumi program asks: one esbuild run bundles them.
  const bundles = layout === "bundle" ? [...factories.values()].map((factory) => bundleFunction(factory)) : [];
  for (const [index, [name, factory]] of [...factories].entries()) {
    const dir = join(workDir, name);
    mkdirSync(dir);
    packages.dirs.set(name, dir);
    if (layout === "bundle") {
      const bundle = await (bundles[index] as Promise<FunctionBundle>);
      writeFileSync(join(dir, "__index.js"), bundle.code);
      writeFileSync(join(dir, "__index.js.map"), bundle.sourceMap);
      packages.bundled.set(name, bundle.packages);
    } else {
      const serialized = await pulumi.runtime.serializeFunction(factory, {
        exportName: "handler",
        isFactoryFunction: true,
      });
      writeFileSync(join(dir, "__index.js"), serialized.text);
      // Node follows the link to its real path, so nested requires resolve inside the packed set too.
      symlinkSync(join(workDir, "shared", "node_modules"), join(dir, "node_modules"), "dir");
    }
  }
  return packages;
}

/** What the runtime gives every function here: the deployed functions' Powertools and log settings. */
const LAMBDA_LOGGING = {
  POWERTOOLS_SERVICE_NAME: "websocket-chat-test",
  POWERTOOLS_METRICS_NAMESPACE: "WebSocketChat",
  AWS_LAMBDA_LOG_FORMAT: "JSON",
  AWS_LAMBDA_LOG_LEVEL: "INFO",
};

export interface PackageRun {
  result: RunnerResult;
  /** What the function wrote to stdout and stderr, each line parsed where it is JSON. */
  lines: (Record<string, unknown> | string)[];
}

/**
 * Runs `events` through a function's package in a fresh `node` whose environment is `env`, a
 * Lambda-like minimum and what the deployed function's environment adds for its layout; held to
 * the CPU share of `memoryMb` when given (Linux, as root).
 */
export function runPackage(
  packages: Packages,
  name: string,
  request: Omit<RunnerRequest, "dir">,
  env: Record<string, string>,
  memoryMb?: number,
): Promise<PackageRun> {
  const dir = packages.dirs.get(name);
  if (!dir) throw new Error(`no package ${name}`);
  const lambdaEnv = {
    PATH: process.env.PATH ?? "",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...LAMBDA_LOGGING,
    ...(packages.layout === "bundle" && BUNDLE_ENVIRONMENT),
    ...env,
  };
  // LAMBDA_NODE runs the packages with another Node, such as arm64's under an emulator
  // (`qemu-aarch64-static -L / .../node`): Lambda's other architecture, checked here.
  const node = (process.env.LAMBDA_NODE ?? process.execPath).split(" ");
  const command = [...node, ...(memoryMb === undefined ? [] : heapOptions(memoryMb)), packages.runner];
  const options = { cwd: dir, env: lambdaEnv, stdio: ["pipe", "pipe", "pipe", "pipe"] as const };
  const child =
    memoryMb === undefined
      ? spawn(command[0] as string, command.slice(1), { ...options, stdio: [...options.stdio] })
      : spawnWithLambdaCpu(memoryMb, command, { ...options, stdio: [...options.stdio] });
  const streams = { out: "", err: "", result: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    streams.out += chunk;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    streams.err += chunk;
  });
  child.stdio[3]?.on("data", (chunk: Buffer) => {
    streams.result += chunk;
  });
  child.stdin?.end(JSON.stringify({ ...request, dir } satisfies RunnerRequest));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill(), 600_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines = `${streams.out}${streams.err}`
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return line;
          }
        });
      if (code !== 0 || !streams.result) reject(new Error(`${name}'s runtime exited with ${code}: ${streams.err}`));
      else resolve({ result: JSON.parse(streams.result) as RunnerResult, lines });
    });
  });
}

/**
 * The heap Lambda's Node.js runtime gives a function of `memoryMb`: its bootstrap starts node with
 * a tenth of the memory for the young generation (half of it each semi-space) and the rest for the
 * old one (the nodejs24.x bootstrap, https://dev.to/wonderfulsoap/deep-dive-into-aws-lambda-3-official-nodejs-runtime-analysis-43je).
 * A larger young generation than Node's default means fewer collections while a cold start allocates.
 */
function heapOptions(memoryMb: number): string[] {
  const young = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(young / 2)}`, `--max-old-space-size=${memoryMb - young}`];
}

/**
 * Invokes a packed handler once in a fresh `node` (see {@link runPackage}); a handler that throws,
 * or a package whose init throws, rejects with what it printed (`lines`).
 */
export async function runPacked<R>(
  packages: Packages,
  name: string,
  event: unknown,
  env: Record<string, string>,
): Promise<{ result: R; lines: PackageRun["lines"] }> {
  const { result, lines } = await runPackage(packages, name, { events: [event] }, env);
  const failure = result.initError ?? result.invocations[0]?.error;
  if (failure !== undefined) throw Object.assign(new Error(`${name} failed: ${failure}`), { lines });
  return { result: result.invocations[0]?.result as R, lines };
}

/** As {@link runPacked}, the result alone. */
export async function invokePacked<R>(
  packages: Packages,
  name: string,
  event: unknown,
  env: Record<string, string>,
): Promise<R> {
  return (await runPacked<R>(packages, name, event, env)).result;
}

/**
 * Files and bytes under `path`, and roughly the zip they make: each file deflated, plus the
 * local and central directory headers (30 + 46 bytes and the entry name twice).
 */
export function measure(
  path: string,
  entryName: string,
): { files: number; bytes: number; zipped: number; symlinks: number } {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return { files: 0, bytes: 0, zipped: 0, symlinks: 1 };
  if (stat.isFile()) {
    const content = readFileSync(path);
    const headers = 76 + 2 * Buffer.byteLength(entryName);
    return { files: 1, bytes: content.length, zipped: deflateRawSync(content).length + headers, symlinks: 0 };
  }
  const total = { files: 0, bytes: 0, zipped: 0, symlinks: 0 };
  for (const entry of readdirSync(path)) {
    const inner = measure(join(path, entry), `${entryName}/${entry}`);
    total.files += inner.files;
    total.bytes += inner.bytes;
    total.zipped += inner.zipped;
    total.symlinks += inner.symlinks;
  }
  return total;
}

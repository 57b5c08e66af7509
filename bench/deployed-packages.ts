/**
 * The functions' packages as deployed, laid out on disk and run in a fresh Node process the way
 * Lambda's runtime runs them: what the package tests and the cold-start benchmarks start.
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
import { DEPLOY_ONLY_PACKAGES } from "../infra/inline-function";

/**
 * Lambda packages as `aws.lambda.CallbackFunction` makes them, laid out on disk: the exact callback
 * factory the infra deploys, serialized to `__index.js`, beside only the packages it would zip.
 */
export interface Packages {
  workDir: string;
  /** Relative paths of the packed package folders, as CallbackFunction computes them. */
  packedPaths: string[];
  /** Folder per function holding `__index.js` and the packed `node_modules`. */
  dirs: Map<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: factories of any event and result type are packed alike.
export type Factory = aws.lambda.CallbackFactory<any, any>;

export async function packFunctions(factories: Map<string, Factory>): Promise<Packages> {
  // What CallbackFunction zips besides the handler: the `dependencies` closure, `aws-sdk` left out.
  const packed = await pulumi.runtime.computeCodePaths({ extraExcludePackages: [...DEPLOY_ONLY_PACKAGES, "aws-sdk"] });
  const packedPaths = [...packed.keys()].sort();
  const workDir = mkdtempSync(join(tmpdir(), "lambda-package-"));
  for (const relative of packedPaths) cpSync(relative, join(workDir, "shared", relative), { recursive: true });
  const dirs = new Map<string, string>();
  for (const [name, factory] of factories) {
    const serialized = await pulumi.runtime.serializeFunction(factory, {
      exportName: "handler",
      isFactoryFunction: true,
    });
    const dir = join(workDir, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "__index.js"), serialized.text);
    // Node follows the link to its real path, so nested requires resolve inside the packed set too.
    symlinkSync(join(workDir, "shared", "node_modules"), join(dir, "node_modules"), "dir");
    dirs.set(name, dir);
  }
  return { workDir, packedPaths, dirs };
}

/**
 * The way Lambda's Node runtime calls the handler: load the module, call `handler(event, context)`.
 * The result goes to file descriptor 3, so stdout and stderr hold what the function logged.
 */
const RUNNER = `
const { handler } = require(process.argv[1]);
const context = {
  awsRequestId: "7f5c3f1e-0000-4000-8000-000000000001",
  functionName: "package-test",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10000,
};
Promise.resolve(handler(JSON.parse(process.argv[2]), context, () => {})).then(
  (result) => { require("node:fs").writeSync(3, JSON.stringify(result)); process.exit(0); },
  (error) => { console.error(error); process.exit(1); },
);
`;

/** What the runtime gives every function here: the deployed functions' Powertools and log settings. */
const LAMBDA_LOGGING = {
  POWERTOOLS_SERVICE_NAME: "websocket-chat-test",
  POWERTOOLS_METRICS_NAMESPACE: "WebSocketChat",
  AWS_LAMBDA_LOG_FORMAT: "JSON",
  AWS_LAMBDA_LOG_LEVEL: "INFO",
};

/**
 * Invokes a packed handler in a fresh `node` whose environment is `env` and a Lambda-like minimum;
 * a handler that throws rejects with what it printed.
 */
export async function invokePacked<R>(
  packages: Packages,
  name: string,
  event: unknown,
  env: Record<string, string>,
): Promise<R> {
  return (await runPacked<R>(packages, name, event, env)).result;
}

/** As {@link invokePacked}, with the lines the function wrote, parsed where they are JSON. */
export function runPacked<R>(
  packages: Packages,
  name: string,
  event: unknown,
  env: Record<string, string>,
): Promise<{ result: R; lines: (Record<string, unknown> | string)[] }> {
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
    ...env,
  };
  return new Promise((resolve, reject) => {
    // LAMBDA_NODE runs the packages with another Node, such as arm64's under an emulator
    // (`qemu-aarch64-static -L / .../node`): Lambda's other architecture, checked here.
    const [command, ...prefix] = (process.env.LAMBDA_NODE ?? process.execPath).split(" ");
    const args = [...prefix, "-e", RUNNER, join(dir, "__index.js"), JSON.stringify(event)];
    const child = spawn(command as string, args, {
      cwd: dir,
      env: lambdaEnv,
      timeout: 30_000,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
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
    child.on("error", reject);
    child.on("close", (code) => {
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
      if (code !== 0) reject(Object.assign(new Error(`${name} failed: ${streams.err || streams.out}`), { lines }));
      else resolve({ result: JSON.parse(streams.result) as R, lines });
    });
  });
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

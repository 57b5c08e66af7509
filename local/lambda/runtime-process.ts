/**
 * An execution environment of a function whose code is on disk: a process of its runtime
 * (`./runtimes/node-bootstrap.cjs` for `nodejs*`, `./runtimes/python_bootstrap.py` for `python3*`)
 * in the function's folder, fed by a Runtime API of its own (`./runtime-api.ts`), with the
 * environment Lambda gives it: its settings' variables, then Lambda's reserved ones (`_HANDLER`,
 * `AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`, credentials, ...), and nothing else of the gateway's.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 * The process lives as long as the environment: it keeps what the code's module made (clients,
 * caches) between invocations, and is killed when Lambda would end the environment (a timeout, a
 * crash, new code, the gateway closing). A process that exits during an invocation fails it with
 * Lambda's `Runtime.ExitError`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import type { CodeFunction } from "../websocket-app";
import type { EnvironmentInit, EnvironmentState, Handler } from "./execution-environments";
import { RuntimeApi, type RuntimeOutcome } from "./runtime-api";

const INIT_LIMIT_MS = 10_000;

/** What every code function's environment is given by the gateway. */
export interface RuntimeSettings {
  region: string;
  accountId: string;
  /** The keys of functions whose role is not known: the operator's. */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Each function's own keys, of its role, where it has one. */
  roleCredentials?: (fn: CodeFunction) => RuntimeSettings["credentials"] | undefined;
  /** Where calls to AWS's hosts go: DynamoDB's to `dynamodb`, every other one to `gateway`. */
  endpoints: { gateway: string; dynamodb: string };
  /** The Python interpreter for `python3.*` functions. Default `python3`. */
  python?: string;
  /** Where the functions' output goes, a line at a time. */
  log: (line: string) => void;
}

/** The runtimes the gateway runs, by Lambda's identifier. */
export function runtimeFamily(runtime: string): "node" | "python" | undefined {
  if (/^nodejs\d/.test(runtime)) return "node";
  if (/^python3\.\d+$/.test(runtime)) return "python";
  return undefined;
}

/**
 * Starts one environment of `fn`: its handler forwards each invocation to the runtime process. A
 * process that ends (a failed start, a crash) stops the environment: the next invocation starts
 * another, as Lambda's next one would.
 */
export function startRuntimeProcess(
  fn: CodeFunction,
  settings: RuntimeSettings,
  environment: EnvironmentState,
): EnvironmentInit<Handler<unknown, unknown>> {
  const functionArn = `arn:aws:lambda:${settings.region}:${settings.accountId}:function:${fn.name}`;
  let child: ChildProcess | undefined;
  let disposed = false;
  const started = RuntimeApi.start().then((api) => {
    if (disposed) {
      api.close();
      return api;
    }
    child = spawnRuntime(fn, settings, api.address);
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      environment.stopped = true;
      api.fail({
        kind: "error",
        errorType: "Runtime.ExitError",
        errorMessage: `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`,
      });
    };
    child.once("exit", exited);
    child.once("error", (error) =>
      api.fail({ kind: "error", errorType: "Runtime.InvalidEntrypoint", errorMessage: error.message }),
    );
    return api;
  });
  const handler: Handler<unknown, unknown> = async (event, context) => {
    const api = await started;
    const outcome = await api.invoke(JSON.stringify(event), {
      requestId: context?.awsRequestId ?? "",
      deadlineMs: Date.now() + (context?.getRemainingTimeInMillis() ?? 3000),
      functionArn,
    });
    if (api.ended) environment.stopped = true;
    return result(outcome);
  };
  return {
    handler,
    ready: started.then((api) => Promise.race([api.initialized, initLimit()])),
    dispose: () => {
      disposed = true;
      child?.kill("SIGKILL");
      void started.then((api) => api.close());
    },
  };
}

/**
 * Lambda's limit on the Init phase: past 10 s the invocation goes ahead and the rest of the init
 * counts against the function's timeout ("Lambda retries the Init phase at the time of the first
 * function invocation", developer guide, "Lambda runtime environment").
 */
function initLimit(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, INIT_LIMIT_MS).unref());
}

/** The function's answer: its JSON result, or its error thrown as the runtime named it. */
function result(outcome: RuntimeOutcome): unknown {
  if (outcome.kind === "response") {
    const text = outcome.payload.toString("utf8");
    return text === "" || text === "null" ? undefined : JSON.parse(text);
  }
  const error = new Error(outcome.errorMessage);
  error.name = outcome.errorType;
  if (outcome.stackTrace)
    error.stack = `${outcome.errorType}: ${outcome.errorMessage}\n${outcome.stackTrace.join("\n")}`;
  throw error;
}

function spawnRuntime(fn: CodeFunction, settings: RuntimeSettings, runtimeApi: string): ChildProcess {
  const runtimes = path.join(__dirname, "runtimes");
  const [command, args] =
    runtimeFamily(fn.runtime) === "python"
      ? [settings.python ?? "python3", [path.join(runtimes, "python_bootstrap.py")]]
      : [process.execPath, [path.join(runtimes, "node-bootstrap.cjs")]];
  const child = spawn(command, args, {
    cwd: fn.codeDir,
    env: lambdaEnvironment(fn, settings, runtimeApi),
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (line) => settings.log(`[${fn.name}] ${line}`));
  }
  return child;
}

/** The function's variables, then Lambda's reserved ones, which the function's cannot replace. */
function lambdaEnvironment(fn: CodeFunction, settings: RuntimeSettings, runtimeApi: string): NodeJS.ProcessEnv {
  const { region } = settings;
  // The function's role's keys, as Lambda sets them; the operator's where the role is not known.
  const credentials = settings.roleCredentials?.(fn) ?? settings.credentials;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "/");
  const variables: Record<string, string | undefined> = {
    // What a process needs to start on this machine (Lambda's images have a fixed PATH).
    PATH: process.env.PATH,
    ...(process.env.SYSTEMROOT && { SYSTEMROOT: process.env.SYSTEMROOT }),
    TMPDIR: process.env.TMPDIR,
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
    ...fn.environment,
    _HANDLER: fn.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    LAMBDA_TASK_ROOT: fn.codeDir,
    LAMBDA_RUNTIME_DIR: path.join(__dirname, "runtimes"),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${Math.random().toString(16).slice(2).padEnd(13, "0")}`,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken && { AWS_SESSION_TOKEN: credentials.sessionToken }),
    _LOCAL_GATEWAY_ENDPOINTS: JSON.stringify(settings.endpoints),
  };
  return Object.fromEntries(Object.entries(variables).filter(([, value]) => value !== undefined));
}

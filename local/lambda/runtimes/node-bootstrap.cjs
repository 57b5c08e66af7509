/**
 * The runtime of a Node.js function's execution environment: a process that loads the function's
 * handler as Lambda's Node.js runtime interface client does, then takes invocations from Lambda's
 * Runtime API (`AWS_LAMBDA_RUNTIME_API`) one at a time until the gateway stops it. What it copies
 * from aws-lambda-nodejs-runtime-interface-client (`src/UserFunction.js`, `src/Runtime.js`,
 * `src/CallbackContext.js`, `src/Errors.js`):
 * - the handler `dir/file.a.b`: `file` required (no extension, `.js` unless the nearest
 *   package.json says `"type": "module"`), else imported (`.js` of such a package, `.mjs`), else
 *   `.cjs` required; then `a.b` read from it (`app.default` for `export default`);
 * - async handlers answer when their promise settles; callback handlers when they call back, and,
 *   while `context.callbackWaitsForEmptyEventLoop` is true, once the event loop is empty; a handler
 *   of three parameters is refused on `nodejs24.x` and later (Runtime.CallbackHandlerDeprecated);
 * - errors as `{errorType, errorMessage, trace}`; a start that fails posts `/runtime/init/error`;
 * - `console` lines as `{time}\t{requestId}\t{LEVEL}\t{message}`.
 * Beyond Lambda, for local work: a TypeScript handler (`.ts`, `.mts`, `.cts`) runs through tsx.
 * The AWS SDK is provided (`./sdk-resolution.mjs`) and its calls reach the gateway (`./aws-endpoints.cjs`).
 */
"use strict";
require("./aws-endpoints.cjs");
const fs = require("node:fs");
const http = require("node:http");
const Module = require("node:module");
const path = require("node:path");
const { pathToFileURL } = require("node:url");
const util = require("node:util");

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const agent = new http.Agent({ keepAlive: true });
let requestId;
/** What to do when the event loop empties during an invocation (a callback handler's answer, or none given). */
let whenEmpty;
process.on("beforeExit", () => {
  const run = whenEmpty;
  whenEmpty = undefined;
  run?.();
});

provideSdk();
patchConsole();
start().catch((error) => {
  process.stderr.write(`runtime failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});

async function start() {
  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);
    refuseCallbackHandler(handler);
  } catch (error) {
    console.error("Init Error", error);
    await call("POST", "/runtime/init/error", rapidError(error), { "lambda-runtime-function-error-type": error.name });
    process.exit(129);
  }
  process.on("uncaughtException", (error) => failAndExit(error, 129));
  process.on("unhandledRejection", (error) => failAndExit(error, 128));
  for (;;) {
    const next = await call("GET", "/runtime/invocation/next");
    await invoke(handler, next);
  }
}

/** Runs one invocation; resolves once its answer is posted. */
function invoke(handler, next) {
  requestId = next.headers["lambda-runtime-aws-request-id"];
  process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] ?? "";
  const deadline = Number(next.headers["lambda-runtime-deadline-ms"]);
  return new Promise((resolve) => {
    let finished = false;
    let waitForEmptyEventLoop = true;
    const finish = (path, body) => {
      if (finished) return;
      finished = true;
      whenEmpty = undefined;
      call("POST", `/runtime/invocation/${requestId}/${path}`, body).then(resolve, resolve);
    };
    const succeed = (result) => {
      let json;
      try {
        json = JSON.stringify(result) ?? "";
      } catch (error) {
        return fail(
          Object.assign(new Error(`Unable to stringify response body: ${error.message}`), {
            name: "Runtime.JSONStringifyError",
          }),
        );
      }
      finish("response", json);
    };
    const fail = (error) => {
      console.error("Invoke Error", error);
      finish("error", rapidError(error ?? "handled"));
    };
    const callback = (error, result) => {
      if (error !== undefined && error !== null) return fail(error);
      if (!waitForEmptyEventLoop) return succeed(result);
      whenEmpty = () => setImmediate(() => succeed(result));
    };
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
      succeed,
      fail,
      done: (error, result) => (error === undefined || error === null ? succeed(result) : fail(error)),
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: requestId,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    };
    // A handler that neither returns a promise nor calls back: answered when the event loop empties.
    whenEmpty = () => (isAsync(handler) ? fail(exitedError()) : succeed(null));
    try {
      const result = handler(JSON.parse(next.body), context, callback);
      if (result && typeof result.then === "function") result.then(succeed, fail);
    } catch (error) {
      fail(error);
    }
  });
}

/** Loads `dir/file.export.path` from `root`, as the runtime interface client's UserFunction.load does. */
async function loadHandler(root, fullHandler) {
  if (fullHandler.includes("..")) {
    throw named(
      "Runtime.MalformedHandlerName",
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match) throw named("Runtime.MalformedHandlerName", "Bad handler");
  const [, moduleName, handlerPath] = match;
  let app;
  try {
    app = await loadModule(path.resolve(root, moduleRoot, moduleName), root, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw named("Runtime.UserCodeSyntaxError", String(error));
    if (error?.code === "MODULE_NOT_FOUND" || error?.code === "ERR_MODULE_NOT_FOUND") {
      throw named("Runtime.ImportModuleError", String(error));
    }
    throw error;
  }
  const handler = handlerPath.split(".").reduce((nested, key) => nested?.[key], app);
  if (!handler) throw named("Runtime.HandlerNotFound", `${fullHandler} is undefined or not exported`);
  if (typeof handler !== "function") throw named("Runtime.HandlerNotFound", `${fullHandler} is not a function`);
  return handler;
}

async function loadModule(file, root, moduleRoot, moduleName) {
  const exists = (extension) => fs.existsSync(file + extension);
  if (exists("")) return require(file);
  const esm = exists(".js") && typeModule(path.dirname(file));
  if (exists(".js") && !esm) return require(`${file}.js`);
  if (esm) return import(pathToFileURL(`${file}.js`).href);
  if (exists(".mjs")) return import(pathToFileURL(`${file}.mjs`).href);
  if (exists(".cjs")) return require(`${file}.cjs`);
  const typescript = [".ts", ".mts", ".cts"].find(exists);
  if (typescript) {
    require("tsx/cjs/api").register();
    // Imported, not required: tsx's CommonJS build of its ESM API does not load (tsx 4.23).
    (await import("tsx/esm/api")).register();
    const loaded = await import(pathToFileURL(file + typescript).href);
    // A `.ts` outside `"type": "module"` is compiled to CommonJS: its exports arrive as `default`.
    return loaded.default?.__esModule ? loaded.default : loaded;
  }
  return require(require.resolve(moduleName, { paths: [root, path.resolve(root, moduleRoot)] }));
}

/** Whether the nearest package.json above `folder` says `"type": "module"` (a node_modules folder ends the search). */
function typeModule(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (dir.endsWith(`${path.sep}node_modules`)) return false;
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

/** Node.js 24 and later refuse callback handlers (three declared parameters). */
function refuseCallbackHandler(handler) {
  const version = /nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV ?? "")?.[1];
  if (handler.length >= 3 && Number(version) >= 24) {
    throw named(
      "Runtime.CallbackHandlerDeprecated",
      "ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.",
    );
  }
}

/** `@aws-sdk/*` and `@smithy/*` from the gateway's installation when the function's folders lack them. */
function provideSdk() {
  const provided = /^@(aws-sdk|smithy)\//;
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    try {
      return resolveFilename.call(this, request, parent, isMain, options);
    } catch (error) {
      if (error?.code !== "MODULE_NOT_FOUND" || !provided.test(request)) throw error;
      return resolveFilename.call(this, request, module, isMain, options);
    }
  };
  Module.register(pathToFileURL(path.join(__dirname, "sdk-resolution.mjs")), {
    data: { providerURL: pathToFileURL(__filename).href },
  });
}

/** Lambda's text log format: `{ISO time}\t{request id}\t{LEVEL}\t{message}`. */
function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    const stream = method === "error" || method === "warn" ? process.stderr : process.stdout;
    console[method] = (...args) => {
      const message = util.format(...args).replace(/\n/g, "\r");
      stream.write(`${new Date().toISOString()}\t${requestId ?? "undefined"}\t${level}\t${message}\n`);
    };
  }
}

function failAndExit(error, code) {
  console.error("Uncaught Exception", error);
  call("POST", `/runtime/invocation/${requestId}/error`, rapidError(error)).finally(() => process.exit(code));
}

/** The runtime interface client's error body: `{errorType, errorMessage, trace}`. */
function rapidError(error) {
  const isError = util.types.isNativeError(error) || (error?.name && error?.message && error?.stack);
  const body = isError
    ? { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split("\n") }
    : { errorType: typeof error, errorMessage: String(error), trace: [] };
  return JSON.stringify(body);
}

function named(name, message) {
  return Object.assign(new Error(message), { name });
}

function exitedError() {
  return named("Runtime.NodeJsExit", "Runtime exited without providing a reason");
}

function isAsync(handler) {
  return handler?.constructor?.name === "AsyncFunction";
}

/** One call to the Runtime API: resolves with the status, headers and body text. */
function call(method, apiPath, body, headers = {}) {
  const [hostname, port] = API.split(":");
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        method,
        hostname,
        port,
        path: `/2018-06-01${apiPath}`,
        agent,
        headers: { "content-type": "application/json", ...headers },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode,
            headers: response.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

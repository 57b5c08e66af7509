/**
 * An app's functions as the gateway invokes them: one {@link LocalFunction} each, whose execution
 * environments are runtime processes for code on disk (`./runtime-process.ts`) or handlers built in
 * this process, under the function's own timeout (`Timeout`, Lambda's default 3 s). Routes and the
 * authorizer that name the same function share its environments, as they share a function in AWS.
 *
 * Their runtime processes start a core's worth at a time (`InitGate`): a burst of cold starts is
 * served a little later rather than run into the functions' timeouts, as it would not in Lambda.
 *
 * Reload: a file saved under a function's folder is the next invocation's code. The function's
 * environments are retired (`LocalFunction.retire`): new invocations start new ones, the ones busy
 * finish with the code they loaded, as after Lambda's UpdateFunctionCode ("invocations that are
 * in progress [...] continue to use the previous version", developer guide, "Lambda runtime
 * environment", and serverless-offline's `--reloadHandler`).
 */
import { type FSWatcher, watch } from "node:fs";
import { availableParallelism } from "node:os";
import { SourceError } from "../sources/source-error";
import type { AppFunction } from "../websocket-app";
import type { Handler } from "./execution-environments";
import { InitGate } from "./init-gate";
import { LocalFunction, type LocalFunctionOptions } from "./lambda-function";
import { type RuntimeSettings, runtimeFamily, startRuntimeProcess } from "./runtime-process";

export type AppLocalFunctions = Map<AppFunction, LocalFunction<unknown, unknown>>;

/** Each function once; a runtime the gateway cannot run stops it with the function's name. */
export function appLocalFunctions(
  functions: readonly AppFunction[],
  runtime: RuntimeSettings | undefined,
  options: Omit<LocalFunctionOptions, "functionTimeoutMs"> & { defaultTimeoutMs: number },
): AppLocalFunctions {
  const local: AppLocalFunctions = new Map();
  // Shared by the code functions: their runtime processes start a core's worth at a time.
  const initGate = new InitGate(availableParallelism());
  for (const fn of functions) {
    const timeoutMs = fn.timeoutSeconds === undefined ? options.defaultTimeoutMs : fn.timeoutSeconds * 1000;
    const settings = { ...options, functionTimeoutMs: timeoutMs };
    if (fn.kind === "in-process") {
      local.set(fn, new LocalFunction(fn.name, (state) => fn.init(state) as Handler<unknown, unknown>, settings));
      continue;
    }
    if (!runtimeFamily(fn.runtime)) {
      throw new SourceError(
        `function ${fn.name}: runtime ${fn.runtime} is not run locally (nodejs* and python3.* are)`,
      );
    }
    if (!runtime) throw new Error(`function ${fn.name}: code functions need the gateway's runtime settings`);
    local.set(
      fn,
      new LocalFunction(fn.name, (state) => startRuntimeProcess(fn, runtime, state), { ...settings, initGate }),
    );
  }
  return local;
}

/** Retires a code function's environments whenever a file under its folder changes; `close` stops watching. */
export function reloadOnSave(functions: AppLocalFunctions, log: (line: string) => void): { close(): void } {
  const byFolder = new Map<string, LocalFunction<unknown, unknown>[]>();
  for (const [fn, local] of functions) {
    if (fn.kind === "code") byFolder.set(fn.codeDir, [...(byFolder.get(fn.codeDir) ?? []), local]);
  }
  const quiet = new Map<string, NodeJS.Timeout>();
  const watchers: FSWatcher[] = [...byFolder].map(([folder, locals]) =>
    watch(folder, { recursive: true }, (_event, file) => {
      // Retired at once, so no invocation after the save runs the old code; one line per save
      // (an editor's save is often several events).
      for (const local of locals) local.retire();
      clearTimeout(quiet.get(folder));
      quiet.set(
        folder,
        setTimeout(
          () => log(`${file ?? folder} changed: ${locals.map((local) => local.name).join(", ")} reloaded`),
          50,
        ),
      );
    }),
  );
  return {
    close: () => {
      for (const watcher of watchers) watcher.close();
      for (const timer of quiet.values()) clearTimeout(timer);
    },
  };
}

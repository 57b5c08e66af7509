/**
 * A source map from the module text Pulumi serializes for a function back to this project's
 * TypeScript sources. Pulumi copies each function's text as V8 holds it (`Function.toString()`, the
 * loader's compiled JavaScript), so each function is found again in the module V8 compiled, whose
 * inline map (the loader's) leads to the `.ts` file. The bundler composes this map with its own:
 * stack traces in the functions' logs then name `functions/…` and `dal/…` files and lines.
 */

import { Session } from "node:inspector/promises";
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { decode, encode, type SourceMapMappings } from "@jridgewell/sourcemap-codec";

/** A module of this project as V8 compiled it, with its map to the TypeScript source. */
interface CompiledModule {
  text: string;
  lines: LineIndex;
  mappings: SourceMapMappings;
  /** The map's sources, relative to the project root. */
  sources: string[];
}

/** Where each line of a text starts, to turn offsets into lines and columns and back. */
class LineIndex {
  private readonly starts = [0];

  constructor(text: string) {
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) this.starts.push(at + 1);
  }

  lineOf(offset: number): number {
    let [low, high] = [0, this.starts.length - 1];
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.starts[middle] as number) <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  offsetOf(line: number, column: number): number {
    return (this.starts[line] as number) + column;
  }
}

/** How Pulumi writes each serialized function: `…) {\n\nreturn <function text>;\n\n    }\n  }).apply(…`. */
const FUNCTION_START = ") {\n\nreturn ";
const FUNCTION_END = ";\n\n    }\n  }).apply(";
/** Shorter texts (Pulumi's own getters, `()=>x`) are not worth mapping and may match by chance. */
const MIN_MAPPED_LENGTH = 24;
/** The source name of Pulumi's module text itself, in the map. */
export const SERIALIZED_SOURCE = "<serialized>";

/**
 * The map of `serialized` (Pulumi's module text) to the TypeScript files under `root` it came from;
 * what is not found verbatim in a compiled module (Pulumi's own glue) maps to {@link SERIALIZED_SOURCE}.
 */
export async function serializedSourceMap(serialized: string, root: string): Promise<object> {
  const modules = await compiledModules(root);
  const sources = [SERIALIZED_SOURCE];
  const lines = new LineIndex(serialized);
  // Pulumi's glue maps to the module itself: else a frame in it would take the source of the function before it.
  const mappings: SourceMapMappings = serialized.split("\n").map((_, line) => [[0, 0, line, 0]]);
  const unmapped = (offset: number) => {
    const line = lines.lineOf(offset);
    const column = offset - lines.offsetOf(line, 0);
    mappings[line]?.push([column, 0, line, column]);
  };
  for (const { start, text } of serializedFunctions(serialized)) {
    // Pulumi rewrites a function's header (`function name(` becomes `function /*name*/(`): match from its parameters.
    const from = Math.max(0, text.indexOf("("));
    const body = text.slice(from);
    if (body.length < MIN_MAPPED_LENGTH) continue;
    const found = modules.flatMap((module) => occurrences(module.text, body).map((at) => ({ module, at })));
    if (found.length !== 1) continue;
    const { module, at } = found[0] as { module: CompiledModule; at: number };
    for (const [offset, segment] of segmentsWithin(module, at, at + body.length)) {
      const target = start + from + (offset - at);
      const line = lines.lineOf(target);
      const source = module.sources[segment[1]] as string;
      let index = sources.indexOf(source);
      if (index < 0) index = sources.push(source) - 1;
      mappings[line]?.push([target - lines.offsetOf(line, 0), index, segment[2], segment[3]]);
    }
    unmapped(start + text.length);
  }
  for (const line of mappings) line.sort((a, b) => a[0] - b[0]);
  return { version: 3, sources, names: [], mappings: encode(mappings) };
}

/** Each function's text in Pulumi's module, with its offset. */
function* serializedFunctions(serialized: string): Generator<{ start: number; text: string }> {
  for (let at = serialized.indexOf(FUNCTION_START); at >= 0; at = serialized.indexOf(FUNCTION_START, at + 1)) {
    const start = at + FUNCTION_START.length;
    const end = serialized.indexOf(FUNCTION_END, start);
    if (end < 0) return;
    yield { start, text: serialized.slice(start, end) };
  }
}

function occurrences(text: string, part: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(part); at >= 0 && found.length < 2; at = text.indexOf(part, at + 1)) found.push(at);
  return found;
}

/** The map's segments of `module` that fall in `[from, to)`, with their offsets. */
function* segmentsWithin(
  module: CompiledModule,
  from: number,
  to: number,
): Generator<[number, [number, number, number, number]]> {
  for (let line = module.lines.lineOf(from); line <= module.lines.lineOf(to); line++) {
    for (const segment of module.mappings[line] ?? []) {
      const offset = module.lines.offsetOf(line, segment[0]);
      if (offset >= from && offset < to && segment.length >= 4) {
        yield [offset, segment as [number, number, number, number]];
      }
    }
  }
}

/**
 * This project's modules as V8 compiled them: the inspector gives each loaded script's text and the
 * source map URL it carries (inline, from the TypeScript loader).
 */
async function compiledModules(root: string): Promise<CompiledModule[]> {
  const session = new Session();
  session.connect();
  const scripts: { scriptId: string; sourceMapURL: string }[] = [];
  session.on("Debugger.scriptParsed", ({ params: { scriptId, url, sourceMapURL } }) => {
    if (!url.startsWith("file:") || !sourceMapURL?.startsWith("data:application/json;base64,")) return;
    const file = relative(root, fileURLToPath(url));
    if (!file.startsWith("..") && !file.split(sep).includes("node_modules")) scripts.push({ scriptId, sourceMapURL });
  });
  try {
    // Enabling the debugger announces every script already loaded.
    await session.post("Debugger.enable");
    return await Promise.all(
      scripts.map(async ({ scriptId, sourceMapURL }) => {
        const { scriptSource } = await session.post("Debugger.getScriptSource", { scriptId });
        const map = JSON.parse(Buffer.from(sourceMapURL.slice(sourceMapURL.indexOf(",") + 1), "base64").toString()) as {
          mappings: string;
          sources: string[];
        };
        return {
          text: scriptSource,
          lines: new LineIndex(scriptSource),
          mappings: decode(map.mappings),
          sources: map.sources.map((source) => relative(root, source).split(sep).join("/")),
        };
      }),
    );
  } finally {
    await session.post("Debugger.disable");
    session.disconnect();
  }
}

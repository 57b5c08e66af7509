/**
 * Each function's code as deployed: the callback factory as Pulumi serializes it, bundled by esbuild
 * into one minified `__index.js` holding only what it uses, where CallbackFunction would zip the
 * serialized module beside a copy of every package in `dependencies`. Loading hundreds of files and
 * whole SDK clients was most of a cold start (`npm run bench:cold`).
 */
import { isBuiltin } from "node:module";
import { resolve } from "node:path";
import { decode, encode, type SourceMapSegment } from "@jridgewell/sourcemap-codec";
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { build, type Plugin } from "esbuild";
import { serializedSourceMap } from "./serialized-source-map";

/** A function's archive: `__index.js` and its source map. */
export interface FunctionBundle {
  code: string;
  /** Maps the project's own code only: Node reads a map whole at load (the SDK's would cost init). */
  sourceMap: string;
  /** The packages of `node_modules` the bundle holds code of. */
  packages: string[];
}

/** Lambda's handler setting for a bundle: `__index.js` exports `handler`. */
export const BUNDLE_HANDLER = "__index.handler";

/**
 * What the runtime needs to name the sources in stack traces: Node maps them with the bundle's map
 * (https://nodejs.org/api/cli.html#--enable-source-maps), and keeps 30 frames, not 10: Pulumi's
 * serialized classes add two frames a constructor, and a repository's error (three classes deep)
 * used up the ten before reaching the handler that awaited it.
 */
export const BUNDLE_ENVIRONMENT = { NODE_OPTIONS: "--enable-source-maps --stack-trace-limit=30" } as const;

/**
 * Packages in `dependencies` for the deploy alone: Pulumi loads this program through tsx and
 * bundles with esbuild, so a production install (`npm ci --omit=dev`) must have them, but no
 * function runs them and no bundle holds them.
 */
export const DEPLOY_ONLY_PACKAGES = ["tsx", "esbuild", "@jridgewell/sourcemap-codec"] as const;

/**
 * Packages the SDK loads only on demand, and a Lambda function never demands: the credential
 * providers its default chain tries after the environment's keys, which Lambda always sets (the
 * role's; https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 * A fifth of a bundle, left out: asked for, they load from the runtime's own SDK (NODE_PATH holds
 * `/var/runtime/node_modules`).
 */
export const LOADED_FROM_RUNTIME = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
  "@smithy/credential-provider-imds",
] as const;

const ROOT = resolve(__dirname, "..");
const IMPORTS = "function-import";
const SERIALIZED = "serialized";
/** `const import_x = require("…");`: how Pulumi's module text loads a package it captured. */
const MODULE_REQUIRE = /^const ([\w$]+) = require\("([^"]+)"\);$/gm;

// biome-ignore lint/suspicious/noExplicitAny: factories of any event and result type are bundled alike.
export async function bundleFunction(factory: aws.lambda.CallbackFactory<any, any>): Promise<FunctionBundle> {
  serializing++;
  let serialized: string;
  try {
    serialized = (await pulumi.runtime.serializeFunction(factory, { exportName: "handler", isFactoryFunction: true }))
      .text;
  } finally {
    serializing--;
  }
  let bundle = bundles.get(serialized);
  if (!bundle) {
    bundle = bundleSerialized(serialized);
    bundles.set(serialized, bundle);
  }
  return bundle;
}

/**
 * Bundles already made, by the module text they were made of: a program declaring several stacks
 * (the tests) serializes the same function to the same text for each, and esbuild need run once.
 */
const bundles = new Map<string, Promise<FunctionBundle>>();

/** A serialized module waiting for the next esbuild run. */
interface Entry {
  id: number;
  text: string;
  imports: Map<string, string>;
  map: object;
  resolve(bundle: FunctionBundle): void;
  reject(error: unknown): void;
}

let serializing = 0;
let entries = 0;
let batch: Entry[] = [];

/**
 * Queues `serialized` for bundling. The functions a program declares are bundled by one esbuild
 * run once none is being serialized any more: the packages they share are read and parsed once.
 */
async function bundleSerialized(serialized: string): Promise<FunctionBundle> {
  const id = entries++;
  const { text, imports } = namedImports(serialized, id);
  const map = await serializedSourceMap(text, ROOT);
  return new Promise((resolve, reject) => {
    batch.push({ id, text, imports, map, resolve, reject });
    if (batch.length === 1) setImmediate(flush);
  });
}

function flush(): void {
  // More are on their way: they join this run.
  if (serializing > 0) return void setTimeout(flush, 50);
  const built = batch;
  batch = [];
  buildAll(built).catch((error: unknown) => {
    for (const entry of built) entry.reject(error);
  });
}

async function buildAll(built: Entry[]): Promise<void> {
  const result = await build({
    entryPoints: built.map((entry) => ({ in: `${SERIALIZED}:${entry.id}`, out: `__index-${entry.id}` })),
    bundle: true,
    platform: "node",
    format: "cjs",
    // Lambda runs nodejs24.x; the package tests run the bundle on the Node of the machine (20 or newer).
    target: "node20",
    minify: true,
    // The packages' ES modules: esbuild drops what is never imported from them (their CommonJS builds are one file each).
    mainFields: ["module", "main"],
    sourcemap: "external",
    sourcesContent: false,
    metafile: true,
    write: false,
    outdir: ROOT,
    logLevel: "silent",
    plugins: [serializedPlugin(built), runtimePackagesPlugin],
    // `import()` as `require()`: CommonJS resolution reads NODE_PATH, where the runtime's SDK is.
    supported: { "dynamic-import": false },
  });
  for (const entry of built) {
    const name = `__index-${entry.id}.js`;
    const output = (suffix: string) => result.outputFiles.find((file) => file.path.endsWith(suffix))?.text ?? "";
    const inputs = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith(name))?.[1].inputs ?? {};
    const packages = new Set(
      Object.keys(inputs).flatMap((input) => {
        const found = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
        return found ? [found] : [];
      }),
    );
    entry.resolve({
      code: `${output(`/${name}`)}//# sourceMappingURL=__index.js.map\n`,
      sourceMap: projectSourcesOnly(output(`/${name}.map`)),
      packages: [...packages].sort(),
    });
  }
}

/**
 * Replaces each package Pulumi's text requires with a module exporting only the names the text
 * reads of it (`import_x.Name`), so esbuild keeps only those; a package used otherwise comes whole.
 */
function namedImports(serialized: string, id: number): { text: string; imports: Map<string, string> } {
  const imports = new Map<string, string>();
  const text = serialized.replace(MODULE_REQUIRE, (line, variable: string, specifier: string) => {
    if (isBuiltin(specifier)) return line;
    const name = packageName(specifier);
    // Pulumi names a package by its resolved main file (`pkg/dist-cjs/index.js`): import the package instead.
    const module =
      require.resolve(name, { paths: [ROOT] }) === require.resolve(specifier, { paths: [ROOT] }) ? name : specifier;
    const used = new Set<string>();
    let whole = false;
    for (const use of serialized.matchAll(
      new RegExp(`(?<![\\w$.])${variable.replace(/\$/g, "\\$")}(?![\\w$])(\\.[A-Za-z_$][\\w$]*)?`, "g"),
    )) {
      if (use[1]) used.add(use[1].slice(1));
      else if (use.index !== serialized.indexOf(line) + "const ".length) whole = true;
    }
    imports.set(
      `${id}:${module}`,
      whole ? `export * from "${module}";` : `export { ${[...used].join(", ")} } from "${module}";`,
    );
    return `const ${variable} = require("${IMPORTS}:${id}:${module}");`;
  });
  return { text, imports };
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return parts.slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
}

/** Each entry's serialized module (with its map inline), and the modules of the names it imports. */
function serializedPlugin(built: Entry[]): Plugin {
  const byId = new Map(built.map((entry) => [String(entry.id), entry]));
  return {
    name: SERIALIZED,
    setup(plugin) {
      plugin.onResolve({ filter: new RegExp(`^(${SERIALIZED}|${IMPORTS}):`) }, (args) => {
        const colon = args.path.indexOf(":");
        return { path: args.path.slice(colon + 1), namespace: args.path.slice(0, colon) };
      });
      plugin.onLoad({ filter: /.*/, namespace: SERIALIZED }, (args) => {
        const entry = byId.get(args.path) as Entry;
        const map = Buffer.from(JSON.stringify(entry.map)).toString("base64");
        return {
          contents: `${entry.text}\n//# sourceMappingURL=data:application/json;base64,${map}\n`,
          resolveDir: ROOT,
          loader: "js",
        };
      });
      plugin.onLoad({ filter: /.*/, namespace: IMPORTS }, (args) => {
        const id = args.path.slice(0, args.path.indexOf(":"));
        return { contents: byId.get(id)?.imports.get(args.path) as string, resolveDir: ROOT, loader: "js" };
      });
    },
  };
}

/** Leaves {@link LOADED_FROM_RUNTIME} out where the SDK imports them on demand (and only there). */
const runtimePackagesPlugin: Plugin = {
  name: "loaded-from-runtime",
  setup(plugin) {
    const names = new RegExp(`^(${LOADED_FROM_RUNTIME.join("|")})$`);
    plugin.onResolve({ filter: names }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, external: true } : undefined,
    );
  },
};

/**
 * The bundle's map reduced to the project's `.ts` files: a segment of anything else (a package,
 * Pulumi's glue) becomes an unmapped one, once per run, so a frame there names the bundle itself.
 */
function projectSourcesOnly(json: string): string {
  const map = JSON.parse(json) as { sources: string[]; names: string[]; mappings: string };
  const sources: string[] = [];
  const names: string[] = [];
  const sourceIndex = map.sources.map((source) =>
    source.endsWith(".ts") && !source.includes("node_modules/") ? sources.push(source) - 1 : -1,
  );
  const nameIndex = new Map<number, number>();
  const nameOf = (index: number) => {
    if (!nameIndex.has(index)) nameIndex.set(index, names.push(map.names[index] as string) - 1);
    return nameIndex.get(index) as number;
  };
  const mappings = decode(map.mappings).map((line) => {
    const kept: SourceMapSegment[] = [];
    for (const segment of line) {
      const source = segment.length >= 4 ? (sourceIndex[segment[1] as number] as number) : -1;
      if (source >= 0) {
        const mapped: SourceMapSegment = [segment[0], source, segment[2] as number, segment[3] as number];
        kept.push(segment.length === 5 ? [...mapped, nameOf(segment[4] as number)] : mapped);
      } else if (kept.length === 0 || (kept.at(-1) as SourceMapSegment).length > 1) kept.push([segment[0]]);
    }
    return kept;
  });
  return JSON.stringify({ version: 3, sources, names, mappings: encode(mappings) });
}

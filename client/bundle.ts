/**
 * The client library as browsers load it: its TypeScript built into one ES module by esbuild, on
 * the fly. The local gateway serves it beside the page, and the stack publishes the very same
 * text with the page, so no build step stands between an edit and a reload, and there is no built
 * file to forget to rebuild or to commit. Not part of the library: Node only, used to serve it.
 */
import { join } from "node:path";
import { build } from "esbuild";

/** The module's name beside the page's files (`page/chat.mjs` imports `./chat-client.mjs`). */
export const CLIENT_MODULE = "chat-client.mjs";

const ENTRY = join(__dirname, "index.ts");

/** The library as one ES module: readable (not minified), types gone, nothing from Node. */
export async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: "esm",
    platform: "browser",
    // What browsers of the last few years and Node 20 run as it is.
    target: "es2022",
    write: false,
    legalComments: "none",
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error("esbuild wrote nothing for the client library");
  return output.text;
}

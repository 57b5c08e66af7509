/**
 * The project's Markdown as the docs tests read it: the README and `docs/*.md`, their fenced code
 * blocks (with the info string that marks a block runnable), their headings' anchors as GitHub
 * makes them, and the relative links and anchors that do not resolve.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");

/** The README and every page under `docs/`, as paths relative to the project's root. */
export function docFiles(): string[] {
  const pages = readdirSync(path.join(ROOT, "docs")).filter((name) => name.endsWith(".md"));
  return ["README.md", ...pages.sort().map((name) => `docs/${name}`)];
}

export interface CodeBlock {
  file: string;
  /** The line of the opening fence, from 1. */
  line: number;
  /** The info string's words: the language, then markers such as `runnable`. */
  info: string[];
  text: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*(.*)$/;

/** The text outside fenced blocks (as blank lines, so line numbers hold) and the blocks themselves. */
export function splitMarkdown(file: string, markdown: string): { prose: string[]; blocks: CodeBlock[] } {
  const prose: string[] = [];
  const blocks: CodeBlock[] = [];
  let open: { fence: string; indent: number; block: CodeBlock; lines: string[] } | undefined;
  markdown.split("\n").forEach((line, index) => {
    const fence = FENCE.exec(line);
    if (!open && fence) {
      const [, indent = "", marks = "", info = ""] = fence;
      const block = { file, line: index + 1, info: info.split(/\s+/).filter(Boolean), text: "" };
      open = { fence: marks, indent: indent.length, block, lines: [] };
      prose.push("");
    } else if (open && fence?.[2]?.startsWith(open.fence) && fence[3] === "") {
      blocks.push({ ...open.block, text: open.lines.join("\n") });
      open = undefined;
      prose.push("");
    } else if (open) {
      // A fence inside a list item is indented: its lines are, by as much.
      open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
      prose.push("");
    } else {
      prose.push(line);
    }
  });
  if (open) throw new Error(`${file}:${open.block.line}: a fenced block that never closes`);
  return { prose, blocks };
}

/** A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as dashes. */
export function githubSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown text has: its headings', a repeated one numbered as GitHub numbers it. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of splitMarkdown("", markdown).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading?.[1]) continue;
    const slug = githubSlug(heading[1]);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** Links whose target is in the project: no scheme, no protocol-relative `//`. */
function relativeLinks(prose: string[]): Array<{ line: number; target: string }> {
  const links: Array<{ line: number; target: string }> = [];
  prose.forEach((text, index) => {
    const withoutCode = text.replace(/`[^`]*`/g, "");
    for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("//")) links.push({ line: index + 1, target });
    }
  });
  return links;
}

/**
 * The relative links of `file` (its text `markdown`) that do not resolve: a file missing, a path
 * out of the project, or an `#anchor` no heading of the target makes. `read` gives other files.
 */
export function brokenLinks(file: string, markdown: string, read: (file: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const { line, target } of relativeLinks(splitMarkdown(file, markdown).prose)) {
    const [pathPart = "", anchor] = target.split("#", 2);
    const resolved = pathPart === "" ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
    const text = resolved === file ? markdown : read(resolved);
    if (resolved.startsWith("..") || text === undefined) {
      broken.push(`${file}:${line}: ${target}: no file ${resolved}`);
    } else if (anchor !== undefined && (!resolved.endsWith(".md") || !anchorsOf(text).has(anchor))) {
      broken.push(`${file}:${line}: ${target}: no heading makes #${anchor} in ${resolved}`);
    }
  }
  return broken;
}

/** A file of the project, or undefined when there is none (a directory counts as present). */
export function readProjectFile(file: string): string | undefined {
  const absolute = path.join(ROOT, file);
  if (!existsSync(absolute)) return undefined;
  try {
    return readFileSync(absolute, "utf8");
  } catch {
    return ""; // a directory: present, with no headings
  }
}

/** The blocks of every doc whose info string marks them `runnable`. */
export function runnableBlocks(): CodeBlock[] {
  return docFiles().flatMap((file) =>
    splitMarkdown(file, readFileSync(path.join(ROOT, file), "utf8")).blocks.filter((block) =>
      block.info.slice(1).includes("runnable"),
    ),
  );
}

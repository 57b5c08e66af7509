/**
 * The README and the pages under `docs/` link to each other and to the project's files: every
 * relative link must name a file that exists and every `#anchor` a heading of its target, as GitHub
 * makes anchors, so a page moved or a heading renamed cannot leave a reader at a dead end.
 */
import test from "ava";
import { anchorsOf, brokenLinks, docFiles, githubSlug, readProjectFile } from "../../support/docs";

test("every relative link and #anchor of the README and docs/*.md resolves", (t) => {
  const files = docFiles();
  t.true(files.includes("README.md") && files.length > 1, `the docs found: ${files.join(", ")}`);
  const broken = files.flatMap((file) => brokenLinks(file, readProjectFile(file) ?? "", readProjectFile));
  t.deepEqual(broken, []);
});

test("the README links to every page under docs/", (t) => {
  const readme = readProjectFile("README.md") ?? "";
  const unlinked = docFiles()
    .filter((file) => file !== "README.md")
    .filter((file) => !readme.includes(`](${file})`));
  t.deepEqual(unlinked, [], "a page the README's map does not name");
});

test("anchors are made as GitHub makes them: punctuation and code marks dropped, repeats numbered", (t) => {
  t.is(githubSlug("Large rooms: fan-out"), "large-rooms-fan-out");
  t.is(githubSlug("Other projects' apps"), "other-projects-apps");
  t.is(githubSlug("The `$connect` route, replayed"), "the-connect-route-replayed");
  t.deepEqual(
    [...anchorsOf("# A\n## Overload\n```\n# not a heading\n```\n### Overload\n")],
    ["a", "overload", "overload-1"],
  );
});

test("a broken link, a missing anchor and a path out of the project are each reported, with the line", (t) => {
  const pages: Record<string, string> = { "docs/b.md": "# B\n## Here\n" };
  const page = [
    "[fine](b.md#here) and [this page](#top) and `[code](nowhere.md)`",
    "[gone](c.md)",
    "[no anchor](b.md#there)",
    "```",
    "[in a block](nowhere.md)",
    "```",
    "[out](../../etc/passwd) [web](https://example.com/x.md)",
    "# Top",
  ].join("\n");
  t.deepEqual(
    brokenLinks("docs/a.md", page, (file) => pages[file]),
    [
      "docs/a.md:2: c.md: no file docs/c.md",
      "docs/a.md:3: b.md#there: no heading makes #there in docs/b.md",
      "docs/a.md:7: ../../etc/passwd: no file ../etc/passwd",
    ],
  );
});

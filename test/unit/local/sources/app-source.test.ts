/**
 * What the command runs when pointed at a folder, or at none (the current folder): the one app the
 * folder holds under its tool's default name, a template, a CDK app's cdk.out or a Serverless
 * Framework service; a folder holding several, or none, stops it with a line saying which to name.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { readApp } from "../../../../local/sources/app-source";
import { SourceError } from "../../../../local/sources/source-error";

const APPS = path.join(__dirname, "..", "..", "..", "fixtures", "apps");
const PLACE = { apiId: "abcde12345", region: "eu-west-1", accountId: "000000000000", parameterOverrides: {} };

for (const [folder, file] of [
  ["sam-chat", "template.yaml"],
  ["cdk-chat", path.join("cdk.out", "ChatStack.template.json")],
  ["serverless-chat", "serverless.yml"],
  ["simple-websockets-chat-app", "template.yaml"],
] as const) {
  test(`without an argument, ${folder}'s folder runs its ${file}`, (t) => {
    const app = readApp(undefined, PLACE, path.join(APPS, folder));
    t.is(app.source, path.join(APPS, folder, file));
    t.true(app.routes.length >= 3);
  });
}

test("a folder holding a template and a serverless.yml asks which to run; one holding neither names what it looks for", (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), "app-source-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const empty = t.throws(() => readApp(undefined, PLACE, folder), { instanceOf: SourceError });
  t.regex(
    empty?.message ?? "",
    /no template\.yaml, template\.yml, template\.json, cdk\.out, serverless\.yml, serverless\.yaml here/,
  );

  writeFileSync(path.join(folder, "template.yaml"), "Resources: {}\n");
  writeFileSync(path.join(folder, "serverless.yml"), "service: x\nprovider: { name: aws }\n");
  const both = t.throws(() => readApp(undefined, PLACE, folder), { instanceOf: SourceError });
  t.regex(both?.message ?? "", /holds template\.yaml and serverless\.yml; name the one to run/);
});

/**
 * What the command runs when pointed at a folder, or at none (the current folder): the one app the
 * folder holds under its tool's default name, a template, a CDK app's cdk.out or a Serverless
 * Framework service; a folder holding several, or none, stops it with a line saying which to name.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    /no template\.yaml, template\.yml, template\.json, cdk\.out, serverless\.yml, serverless\.yaml, serverless\.json, serverless\.js, serverless\.ts here/,
  );

  writeFileSync(path.join(folder, "template.yaml"), "Resources: {}\n");
  writeFileSync(path.join(folder, "serverless.yml"), "service: x\nprovider: { name: aws }\n");
  const both = t.throws(() => readApp(undefined, PLACE, folder), { instanceOf: SourceError });
  t.regex(both?.message ?? "", /holds template\.yaml and serverless\.yml; name the one to run/);
});

test("a CDK app whose stack is in a stage: its nested assembly (assembly-{Stage}) is read, its code from the root's asset folders", (t) => {
  const root = mkdtempSync(path.join(tmpdir(), "cdk-stage-"));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const fixture = path.join(APPS, "cdk-chat", "cdk.out");
  // As aws-cdk-lib writes a Stage: the stack's template in its assembly, assets in the root, `../` between.
  cpSync(fixture, root, { recursive: true, filter: (file) => !file.endsWith(".json") || file === fixture });
  const template = readFileSync(path.join(fixture, "ChatStack.template.json"), "utf8").replaceAll(
    '"aws:asset:path": "asset.',
    '"aws:asset:path": "../asset.',
  );
  mkdirSync(path.join(root, "assembly-Prod"));
  writeFileSync(path.join(root, "assembly-Prod", "ProdChatStack.template.json"), template);
  const stack = {
    type: "aws:cloudformation:stack",
    properties: { templateFile: "ProdChatStack.template.json", stackName: "Prod-ChatStack" },
  };
  writeFileSync(
    path.join(root, "assembly-Prod", "manifest.json"),
    JSON.stringify({ artifacts: { ProdChatStack: stack } }),
  );
  const stage = { type: "cdk:cloud-assembly", properties: { directoryName: "assembly-Prod", displayName: "Prod" } };
  writeFileSync(path.join(root, "manifest.json"), JSON.stringify({ artifacts: { "assembly-Prod": stage } }));

  const app = readApp(root, PLACE);
  t.is(app.source, path.join(root, "assembly-Prod", "ProdChatStack.template.json"));
  const [code] = app.routes.map((route) => route.function).filter((fn) => fn.kind === "code");
  t.true(code !== undefined && existsSync(code.codeDir) && code.codeDir.startsWith(path.join(root, "asset.")));
  t.true(
    app.routes.some((route) => route.function.name.startsWith("Prod-ChatStack")),
    "named in the stage's stack",
  );
});

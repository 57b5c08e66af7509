/**
 * A `serverless.yml` read into the app the gateway serves: the Framework's variables and their
 * fallbacks, its defaults, its logical ids (so `resources:` can refer to them), an authorizer named
 * by ARN, and one line for each part that is not replayed; a variable that needs AWS and has no
 * fallback, or a service with no websocket event, stops the command naming the file.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { readApp } from "../../../../local/sources/app-source";
import { parseTemplate } from "../../../../local/sources/cloudformation/template-file";
import { serverlessApp } from "../../../../local/sources/serverless/serverless-app";
import { SourceError } from "../../../../local/sources/source-error";
import type { CodeFunction, WebSocketApp } from "../../../../local/websocket-app";

const FILE = path.join(__dirname, "..", "..", "..", "fixtures", "apps", "serverless-chat", "serverless.yml");
const PLACE = { apiId: "abcde12345", region: "eu-west-1", accountId: "123456789012", parameterOverrides: {} };

const read = (yaml: string, place: Partial<typeof PLACE> & { stage?: string } = {}) =>
  serverlessApp(parseTemplate(yaml, FILE) as Record<string, unknown>, FILE, { ...PLACE, ...place });

const environment = (app: WebSocketApp) => (app.routes[0]?.function as CodeFunction | undefined)?.environment ?? {};

const service = (functions: string, extra = "") => `
service: svc
provider:
  name: aws
  runtime: nodejs22.x
${extra}
functions:
${functions}`;

const ONE_ROUTE = `
  send:
    handler: src/handler.sendMessage
    events: [{ websocket: { route: sendmessage } }]`;

test("variables: self (nested), opt with its fallback, env, sls and aws; the Framework's defaults", (t) => {
  process.env.SLS_UNIT_TEST_VALUE = "from-env";
  t.teardown(() => delete process.env.SLS_UNIT_TEST_VALUE);
  const app = read(
    service(
      ONE_ROUTE,
      `  stage: \${opt:stage, 'qa'}
  environment:
    TABLE: \${self:custom.tables.\${sls:stage}}
    FROM_ENV: \${env:SLS_UNIT_TEST_VALUE}
    WHERE: \${aws:region}/\${aws:accountId}
    MISSING: \${env:SLS_UNIT_TEST_UNSET, 'fallback'}
custom:
  tables: { qa: qa-table, prod: prod-table }`,
    ),
  );
  const fn = app.routes[0]?.function as CodeFunction;
  t.is(app.stage, "qa");
  t.like(fn, { name: "svc-qa-send", handler: "src/handler.sendMessage", timeoutSeconds: 6, memorySize: 1024 });
  t.deepEqual(fn.environment, {
    TABLE: "qa-table",
    FROM_ENV: "from-env",
    WHERE: "eu-west-1/123456789012",
    MISSING: "fallback",
  });
  t.is(app.routeSelectionExpression, "$request.body.action");
  const prod = read(
    service(
      ONE_ROUTE,
      `  environment:\n    TABLE: \${self:custom.tables.\${sls:stage}}\ncustom: { tables: { prod: p } }`,
    ),
    { stage: "prod" },
  );
  t.is(environment(prod).TABLE, "p");
});

test("resources may refer to the compiled functions and API by the Framework's logical ids", (t) => {
  const app = read(
    service(ONE_ROUTE, "  environment: { API: !Ref WebsocketsApi, FN: !GetAtt SendLambdaFunction.Arn }"),
  );
  t.deepEqual(environment(app), {
    API: "abcde12345",
    FN: "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-send",
  });
});

test("a variable that needs AWS takes its fallback with a line; without one it stops the command", (t) => {
  const app = read(service(ONE_ROUTE, `  environment:\n    SECRET: \${ssm:/app/secret, 'local-secret'}`));
  t.is(environment(app).SECRET, "local-secret");
  t.true(app.unmapped.includes(`variable \${ssm:/app/secret} is not resolved locally: its fallback is used`));

  const error = t.throws(() => read(service(ONE_ROUTE, `  environment:\n    SECRET: \${ssm:/app/secret}`)), {
    instanceOf: SourceError,
  });
  t.regex(
    error?.message ?? "",
    /serverless\.yml: \$\{ssm:\/app\/secret\} is not resolved locally .*give it a fallback/,
  );
  t.throws(() => read(service(ONE_ROUTE, `  environment:\n    X: \${self:custom.nothing}`)), {
    message: /\$\{self:custom\.nothing\} has no value here and no fallback/,
  });
});

test("file variables: a YAML or JSON file beside the service, whole or one value; a JavaScript file or a missing one takes its fallback", (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), "sls-file-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(path.join(folder, "config.dev.yml"), `table: chat-\${self:provider.stage}\nlimits: { max: 5 }\n`);
  writeFileSync(path.join(folder, "env.json"), JSON.stringify({ MODE: "json" }));
  const file = path.join(folder, "serverless.yml");
  const yaml = service(
    ONE_ROUTE,
    `  stage: dev
  environment:
    TABLE: \${file(./config.\${self:provider.stage}.yml):table}
    MAX: \${file(./config.dev.yml):limits.max}
    WHOLE: \${file(./env.json):MODE}
    CODE: \${file(./settings.js):value, 'from-fallback'}
    GONE: \${file(./missing.yml):x, 'absent'}`,
  );
  const app = serverlessApp(parseTemplate(yaml, file) as Record<string, unknown>, file, PLACE);
  t.like(environment(app), { TABLE: "chat-dev", MAX: "5", WHOLE: "json", CODE: "from-fallback", GONE: "absent" });
  t.false(
    app.unmapped.some((line) => line.includes("missing.yml")),
    "a file's fallback is no news",
  );
  t.true(
    app.unmapped.some((line) => line.includes("settings.js")),
    "code that is not run is named",
  );
  writeFileSync(path.join(folder, "list.yml"), "- first\n- second\n");
  mkdirSync(path.join(folder, "folder.yml"));
  writeFileSync(path.join(folder, "broken.yml"), "a: [unclosed\n");
  const more = (line: string) =>
    serverlessApp(
      parseTemplate(service(ONE_ROUTE, `  environment:\n    X: ${line}`), file) as Record<string, unknown>,
      file,
      PLACE,
    );
  t.is(environment(more(`\${file(./list.yml):1}`)).X, "second", "a file whose top level is a list");
  t.is(environment(more(`\${file(./settings.mjs):x, 'esm-fallback'}`)).X, "esm-fallback", "an ES module is code too");
  for (const bad of ["folder.yml", "broken.yml"]) {
    t.throws(() => more(`\${file(./${bad}):x, 'fb'}`), {
      instanceOf: SourceError,
      message: new RegExp(
        `serverless\\.yml: \\$\\{file\\(\\./${bad.replace(".", "\\.")}\\)\\}: .*${bad.replace(".", "\\.")} cannot be read`,
      ),
    });
  }
  t.throws(
    () =>
      serverlessApp(
        parseTemplate(service(ONE_ROUTE, `  environment:\n    X: \${file(./missing.yml):x}`), file) as Record<
          string,
          unknown
        >,
        file,
        PLACE,
      ),
    {
      message: /\$\{file\(\.\/missing\.yml\):x\} has no value here and no fallback/,
    },
  );
});

test("serverless.ts and serverless.js: the module's export is the service (export default, module.exports)", (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), "sls-module-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  const functions = { send: { handler: "src/handler.sendMessage", events: [{ websocket: { route: "sendmessage" } }] } };
  const config = {
    service: "svc",
    provider: { name: "aws", runtime: "nodejs22.x", stage: `\${opt:stage, 'beta'}` },
    functions,
  };
  writeFileSync(
    path.join(folder, "serverless.ts"),
    `const stage: string = "typed";\nexport default { ...${JSON.stringify(config)}, custom: { stage } };\n`,
  );
  const fromTs = readApp(path.join(folder, "serverless.ts"), PLACE);
  t.is(fromTs.stage, "beta");
  t.deepEqual(
    fromTs.routes.map((route) => route.routeKey),
    ["sendmessage"],
  );
  // Each module in a folder of its own: a module is loaded once per process.
  const js = path.join(folder, "js", "serverless.js");
  mkdirSync(path.dirname(js));
  writeFileSync(js, `module.exports = ${JSON.stringify(config)};\n`);
  t.is(readApp(js, { ...PLACE, stage: "prod" }).stage, "prod");
  const promised = path.join(folder, "promise", "serverless.js");
  mkdirSync(path.dirname(promised));
  writeFileSync(promised, "module.exports = Promise.resolve({});\n");
  t.throws(() => readApp(promised, PLACE), { message: /not a service configuration object/ });
  const throwing = path.join(folder, "throwing", "serverless.ts");
  mkdirSync(path.dirname(throwing));
  writeFileSync(throwing, 'throw new Error("no config today");\n');
  t.throws(() => readApp(throwing, PLACE), {
    instanceOf: SourceError,
    message: `${throwing}: loading it failed: no config today`,
  });
});

test("an authorizer given by ARN is not a function of the service: named, and its invocations fail", (t) => {
  const app = read(
    service(`
  connect:
    handler: src/handler.connect
    events:
      - websocket: { route: $connect, authorizer: { arn: "arn:aws:lambda:eu-west-1:123456789012:function:shared-auth" } }`),
  );
  t.is(app.authorizer?.name, "shared-auth");
  t.deepEqual(app.authorizer?.identitySources, ["route.request.header.Auth"], "the Framework's default");
  t.true(
    app.unmapped.some((line) =>
      /shared-auth\/invocations, which is not a function of this template; its invocations fail/.test(line),
    ),
  );
});

test("other events, unknown keys, plugins and a function without a route are named, one line each", (t) => {
  const app = read(
    service(
      `${ONE_ROUTE}
    reservedConcurrency: 5
  cron:
    handler: src/cron.run
    events: [{ schedule: rate(1 minute) }]`,
      "  vpc: { securityGroupIds: [sg-1] }\nplugins: [serverless-esbuild]\nlayers: { deps: { path: layer } }",
    ),
  );
  t.deepEqual(
    app.unmapped.filter((line) => !line.startsWith("AWS::")),
    [
      "plugins serverless-esbuild are not run locally",
      "layers is not replayed locally",
      "provider.vpc is not replayed locally",
      "function send: reservedConcurrency is not replayed locally",
      "function cron: event schedule is not replayed; only the WebSocket API invokes it",
    ],
  );
  t.true(
    app.unmapped.includes("AWS::Serverless::Function CronLambdaFunction: no route or authorizer invokes it: not run"),
  );
});

test("a service without a websocket event, or for another provider, stops the command naming the file", (t) => {
  t.throws(() => read(service("  cron: { handler: src/cron.run }")), {
    instanceOf: SourceError,
    message: /serverless\.yml: no function has a websocket event/,
  });
  t.throws(() => read("service: x\nprovider: { name: azure }\n"), { message: /provider azure: only aws is replayed/ });
});

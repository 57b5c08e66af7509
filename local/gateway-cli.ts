/**
 * `npm run gateway -- [template] [options]` (the package's `websocket-gateway` command): runs a
 * WebSocket API from its SAM or CloudFormation template, a CDK app's `cdk.out` or a Serverless
 * Framework `serverless.yml` (by default, the one the current folder holds) on the local gateway (`./app-gateway.ts`),
 * prints its address, what of the template it does not replay, one line each, and stops cleanly
 * (`./stop-on-signals.ts`). `npm run local` stays the chat's own command.
 */
import { parseArgs } from "node:util";
import { newApiId } from "./api-gateway/ids";
import { type AppGateway, startAppGateway } from "./app-gateway";
import { readApp } from "./sources/app-source";
import { parseParameterOverrides } from "./sources/cloudformation/parameters";
import { stopOnSignals } from "./stop-on-signals";
import { appFunctions, type WebSocketApp } from "./websocket-app";

const USAGE = `Usage: websocket-gateway [template.yaml | cdk.out | serverless.yml | folder] [options]
  (default: the template.yaml/.yml/.json, cdk.out or serverless.yml/.yaml/.json/.js/.ts in the current folder)
  --port N                       TCP port (default 8080; 0: any free one)
  --host ADDRESS                 address to listen on (default 127.0.0.1: this machine only)
  --parameter-overrides "K=V ..." template parameters, as sam deploy takes them (repeatable)
  --stage NAME                   the stage to serve, when the API has several (serverless.yml: opt:stage)
  --api LOGICAL_ID               the WebSocket API to serve, when the template has several
  --region REGION                AWS_REGION of the functions (default us-east-1)
  --no-reload                    keep running the code a function started with`;

const OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  "parameter-overrides": { type: "string", multiple: true },
  stage: { type: "string" },
  api: { type: "string" },
  region: { type: "string" },
  "no-reload": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function readArguments(argv: string[]) {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (positionals.length > 1) throw new Error(`one template or folder, not ${positionals.length}`);
  const port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port: ${values.port} is not a port`);
  return { values, source: positionals[0], port };
}

function readyLines(app: WebSocketApp, gateway: AppGateway, ms: number, reload: boolean): string[] {
  const shown = (url: string) => url.replace("127.0.0.1", "localhost");
  return [
    `Local API Gateway for ${app.source} ready in ${ms} ms`,
    `  WebSocket API   ${shown(gateway.url)}`,
    `  @connections    ${shown(gateway.managementUrl)}/@connections/{connectionId}`,
    ...app.routes.map((route) => `  route           ${route.routeKey} -> ${route.function.name}`),
    ...(app.authorizer ? [`  authorizer      ${app.authorizer.name} -> ${app.authorizer.function.name}`] : []),
    `  DynamoDB        ${gateway.dynamodbEndpoint} (embedded) tables ${app.tables.map((t) => t.definition.TableName).join(", ") || "none"}`,
    `  your calls      sign with AWS_ACCESS_KEY_ID=${gateway.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${gateway.credentials.secretAccessKey}`,
    ...app.unmapped.map((line) => `  not replayed    ${line}`),
    `${appFunctions(app).length} function(s)${reload ? ", reloaded when their files change" : ""}. Press Ctrl-C to stop.`,
  ];
}

async function main(): Promise<void> {
  const { values, source, port } = readArguments(process.argv.slice(2));
  if (values.help) {
    console.log(USAGE);
    return;
  }
  // The functions' processes inherit neither; the gateway's own SDK clients would otherwise ask
  // the instance-metadata address for credentials, and warn about this Node.js.
  process.env.AWS_EC2_METADATA_DISABLED ??= "true";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const started = Date.now();
  const place = { apiId: newApiId(), region: values.region ?? "us-east-1", accountId: "000000000000" };
  const parameterOverrides = Object.assign({}, ...(values["parameter-overrides"] ?? []).map(parseParameterOverrides));
  const app = readApp(source, {
    ...place,
    parameterOverrides,
    ...(values.stage && { stage: values.stage }),
    ...(values.api && { api: values.api }),
  });
  const gateway = await startAppGateway(app, {
    ...place,
    port,
    ...(values.host && { host: values.host }),
    reload: !values["no-reload"],
  });
  console.log(readyLines(app, gateway, Date.now() - started, !values["no-reload"]).join("\n"));
  stopOnSignals(gateway);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
  console.error(USAGE.split("\n")[0]);
  process.exit(1);
});

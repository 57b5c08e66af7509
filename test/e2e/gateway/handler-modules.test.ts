/**
 * Handlers run as written, whatever their module system: CommonJS (`module.exports`), ES modules
 * (`.mjs`, or `.js` under a `package.json` with `"type": "module"`), as Lambda's Node.js runtimes
 * load them ("Designating a function handler as an ES module", developer guide), and TypeScript
 * (`.ts`), which Lambda does not run but a local run should, as serverless-offline does. Each is a
 * two-way route of one SAM template, answering the caller over a real socket.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { startFixture } from "../../support/app-gateway";
import { connect } from "../../support/websocket";

const HANDLERS: Record<string, { file: string; code: string; packageJson?: object; handler?: string }> = {
  cjs: {
    file: "echo.js",
    code: "module.exports.handler = async (event) => ({ statusCode: 200, body: 'cjs ' + event.body });",
  },
  mjs: {
    file: "echo.mjs",
    code: "export const handler = async (event) => ({ statusCode: 200, body: 'mjs ' + event.body });",
  },
  esm: {
    file: "echo.js",
    code: "export const handler = async (event) => ({ statusCode: 200, body: 'esm ' + event.body });",
    packageJson: { type: "module" },
  },
  ts: {
    file: "echo.ts",
    code: [
      "interface Event { body?: string }",
      "export const handler = async (event: Event): Promise<{ statusCode: number; body: string }> =>",
      "  ({ statusCode: 200, body: 'ts ' + event.body });",
    ].join("\n"),
  },
  tsdefault: {
    file: "echo.ts",
    code: "export default async function (event: { body: string }) { return { statusCode: 200, body: 'tsdefault ' + event.body }; }",
    handler: "echo.default",
  },
  tsesm: {
    file: "echo.ts",
    code: "export const handler = async (event: { body: string }) => ({ statusCode: 200, body: 'tsesm ' + event.body });",
    packageJson: { type: "module" },
  },
};

/** A route per module kind, each two-way, each its own function in its own folder. */
function template(): string {
  const parts = Object.entries(HANDLERS).map(
    ([kind, { handler = "echo.handler" }]) => `
  ${kind}Route:
    Type: AWS::ApiGatewayV2::Route
    Properties: { ApiId: !Ref Api, RouteKey: ${kind}, RouteResponseSelectionExpression: $default, Target: !Sub "integrations/\${${kind}Integration}" }
  ${kind}Answer:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties: { ApiId: !Ref Api, RouteId: !Ref ${kind}Route, RouteResponseKey: $default }
  ${kind}Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties: { ApiId: !Ref Api, IntegrationType: AWS_PROXY, IntegrationUri: !Sub "arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${kind}Function.Arn}/invocations" }
  ${kind}Function:
    Type: AWS::Serverless::Function
    Properties: { CodeUri: ${kind}/, Handler: ${handler}, Runtime: nodejs20.x }`,
  );
  return `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: { Name: modules, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action }
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: { ApiId: !Ref Api, StageName: dev }${parts.join("")}
`;
}

test("CommonJS, .mjs, type: module and TypeScript (CommonJS or ES module) handlers each answer their route", async (t) => {
  const folder = mkdtempSync(path.join(tmpdir(), "handler-modules-"));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(path.join(folder, "template.yaml"), template());
  for (const [kind, handler] of Object.entries(HANDLERS)) {
    mkdirSync(path.join(folder, kind));
    writeFileSync(path.join(folder, kind, handler.file), handler.code);
    if (handler.packageJson)
      writeFileSync(path.join(folder, kind, "package.json"), JSON.stringify(handler.packageJson));
  }
  const gateway = await startFixture(folder);
  t.teardown(() => gateway.close());
  t.deepEqual(gateway.app.unmapped, []);
  const client = await connect(gateway.url);
  for (const kind of Object.keys(HANDLERS)) {
    const request = JSON.stringify({ action: kind });
    client.socket.send(request);
    t.is(String(await client.next()), `${kind} ${request}`, gateway.lines.join("\n"));
  }
  client.socket.close();
});

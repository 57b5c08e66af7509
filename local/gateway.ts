/**
 * The local gateway as a library, for Pulumi programs and anyone whose WebSocket API is declared
 * in code rather than a template: describe the app (`WebSocketApp`: routes, their functions, an
 * authorizer, tables) and serve it with `startAppGateway`, or read one from a template, `cdk.out`
 * or `serverless.yml` with `readApp` as the `websocket-gateway` command does. The chat's own
 * gateway, `startLocalGateway`, is this path with the chat's route table.
 */
export { type AppGateway, type AppGatewayOptions, startAppGateway } from "./app-gateway";
export { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "./express-server";
export { readApp } from "./sources/app-source";
export type {
  AppAuthorizer,
  AppFunction,
  AppRoute,
  AppTable,
  CodeFunction,
  InProcessFunction,
  WebSocketApp,
} from "./websocket-app";

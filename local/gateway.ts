/**
 * The local gateway as a library, for Pulumi programs and anyone whose WebSocket API is declared
 * in code rather than a template: describe the app (`WebSocketApp`: routes, their functions, an
 * authorizer, tables) and serve it with `startAppGateway`, or read one from a template, `cdk.out`
 * or `serverless.yml` with `readApp` as the `websocket-gateway` command does. Imported as
 * `websocket-chat/gateway` (the package's `exports`), TypeScript loaded through tsx. The chat's own
 * gateway (`startLocalGateway`, `./express-server.ts`) is this path with the chat's route table; it
 * is not exported here, so a user of this entry does not load the chat.
 */

export { newApiId } from "./api-gateway/ids";
export { type AppGateway, type AppGatewayOptions, startAppGateway } from "./app-gateway";
export { type AppPlace, readApp } from "./sources/app-source";
export type {
  AppAuthorizer,
  AppFunction,
  AppRoute,
  AppTable,
  CodeFunction,
  InProcessFunction,
  WebSocketApp,
} from "./websocket-app";

import type { HandlerDependencies } from "./dependencies";
import type { WebSocketHandler } from "./events";
import { createConnectHandler } from "./onconnect";
import { createDisconnectHandler } from "./ondisconnect";
import { createSendMessageHandler } from "./sendmessage";

/** DynamoDB actions a handler may need on the connections table; `infra/` grants exactly these. */
export type TableAction = "dynamodb:PutItem" | "dynamodb:DeleteItem" | "dynamodb:Scan" | "dynamodb:GetItem";

/** One route of the WebSocket API: `infra/` deploys it, `local/` dispatches to it. */
export interface RouteDefinition {
  /** API Gateway's route key: `$connect`, `$disconnect`, `$default` or a value of `action`. */
  routeKey: string;
  /** Resource and function name suffix (letters, digits, dashes). */
  name: string;
  /** Actions on the connections table the handler performs. */
  tableActions: readonly TableAction[];
  /** Whether the handler posts to or closes connections (`execute-api:ManageConnections`). */
  manageConnections: boolean;
  /** Two-way route: the handler's `body` goes back to the caller as a frame. */
  routeResponse?: boolean;
  createHandler(deps: HandlerDependencies): WebSocketHandler;
}

/** The API's routes: one line each, read by both the cloud program and the local server. */
export const routes: readonly RouteDefinition[] = [
  {
    routeKey: "$connect",
    name: "onconnect",
    tableActions: ["dynamodb:PutItem"],
    manageConnections: false,
    createHandler: createConnectHandler,
  },
  {
    routeKey: "$disconnect",
    name: "ondisconnect",
    tableActions: ["dynamodb:DeleteItem"],
    manageConnections: false,
    createHandler: createDisconnectHandler,
  },
  {
    routeKey: "sendmessage",
    name: "sendmessage",
    tableActions: ["dynamodb:Scan", "dynamodb:DeleteItem"],
    manageConnections: true,
    createHandler: createSendMessageHandler,
  },
];

/** API Gateway's route selection expression for this API. */
export const ROUTE_SELECTION_EXPRESSION = "$request.body.action";

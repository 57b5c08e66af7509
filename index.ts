/**
 * The Pulumi program: the stack's settings read, the chat declared under one AWS provider, and what
 * `pulumi stack output` shows.
 */
import { ChatApi } from "./infra/chat-api";
import { awsProvider, readStackSettings } from "./infra/stack-settings";

// The WebSocket chat: API, stage, one function per route, tables, and what watches them.
const chat = new ChatApi("websocket-chat", readStackSettings(), { providers: { aws: awsProvider() } });

/** Where clients connect: `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
export const url = chat.url;
/** The `@connections` management API: `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
export const managementEndpoint = chat.managementEndpoint;
/** The connections table. */
export const tableName = chat.tableName;
/** The messages table: each room's history. */
export const messagesTableName = chat.messagesTableName;
/** Guest auth: where the page gets a token, `POST {"name":"..."}`. */
export const tokenUrl = chat.tokenUrl;
/** Where people chat: the page on CloudFront (unless `publishPage` is false). */
export const pageUrl = chat.pageUrl;
/** With a custom domain: `wss://{customDomainName}`, and the host its DNS record must point at. */
export const customDomainUrl = chat.customDomainUrl;
export const customDomainTarget = chat.customDomainTarget;
/** With alarms on: the SNS topic they notify. */
export const alarmTopicArn = chat.alarms?.topic.arn;

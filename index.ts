import * as pulumi from "@pulumi/pulumi";
import { STAGE_THROTTLING_DEFAULTS } from "./functions/routes";
import { ChatApi } from "./infra/chat-api";

// Stack settings are read here and nowhere else; the components take them as typed arguments.
const config = new pulumi.Config();

// The WebSocket chat: API, stage, one function per route, connections table.
const chat = new ChatApi("websocket-chat", {
  stageName: config.get("stageName") ?? "dev",
  throttlingBurstLimit: config.getNumber("throttlingBurstLimit", { min: 0 }) ?? STAGE_THROTTLING_DEFAULTS.burstLimit,
  throttlingRateLimit: config.getNumber("throttlingRateLimit", { min: 0 }) ?? STAGE_THROTTLING_DEFAULTS.rateLimit,
  logRetentionDays: config.getNumber("logRetentionDays") ?? 14,
  broadcastConcurrency: config.getNumber("broadcastConcurrency", { min: 1, max: 1000 }),
});

/** Where clients connect: `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
export const url = chat.url;
/** The `@connections` management API: `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`. */
export const managementEndpoint = chat.managementEndpoint;
/** The connections table. */
export const tableName = chat.tableName;

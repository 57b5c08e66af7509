import * as pulumi from "@pulumi/pulumi";
import { AUTH_MODES } from "./functions/auth-config";
import { STAGE_THROTTLING_DEFAULTS } from "./functions/routes";
import { ChatApi } from "./infra/chat-api";
import type { ChatAuthSettings } from "./infra/chat-auth";

// Stack settings are read here and nowhere else; the components take them as typed arguments.
const config = new pulumi.Config();

// The WebSocket chat: API, stage, one function per route, connections table.
const chat = new ChatApi("websocket-chat", {
  stageName: config.get("stageName") ?? "dev",
  throttlingBurstLimit: config.getNumber("throttlingBurstLimit", { min: 0 }) ?? STAGE_THROTTLING_DEFAULTS.burstLimit,
  throttlingRateLimit: config.getNumber("throttlingRateLimit", { min: 0 }) ?? STAGE_THROTTLING_DEFAULTS.rateLimit,
  logRetentionDays: config.getNumber("logRetentionDays") ?? 14,
  broadcastConcurrency: config.getNumber("broadcastConcurrency", { min: 1, max: 1000 }),
  auth: authSettings(),
  historyTtlSeconds: config.getNumber("historyTtlSeconds"),
});

/** `auth`: guest (the default: tokens from the stack's endpoint), oidc (an external issuer) or none. */
function authSettings(): ChatAuthSettings {
  const mode = config.get("auth", { allowedValues: [...AUTH_MODES] }) ?? "guest";
  if (mode === "none") return { mode };
  if (mode === "guest") {
    return {
      mode,
      tokenTtlSeconds: config.getNumber("tokenTtlSeconds"),
      allowedOrigins: config.getObject<string[]>("tokenAllowedOrigins"),
    };
  }
  return {
    mode: "oidc",
    issuer: config.require("oidcIssuer"),
    audience: config.require("oidcAudience"),
    nameClaim: config.get("oidcNameClaim"),
    jwksUri: config.get("oidcJwksUri"),
    algorithms: config
      .get("oidcAlgorithms")
      ?.split(",")
      .map((name) => name.trim()),
  };
}

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

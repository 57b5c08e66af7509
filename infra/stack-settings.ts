/**
 * The stack's settings read from Pulumi's config (and nowhere else) into the component's typed
 * arguments, and the AWS provider every resource is made with.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AUTH_MODES, type AuthSettings } from "../functions/auth/auth-config";
import { STAGE_THROTTLING_DEFAULTS } from "../functions/routes";
import type { ChatApiArgs } from "./chat-api-settings";
import { ARCHITECTURES, LOG_LEVELS } from "./inline-function";

/**
 * The stack's settings, read here and nowhere else (docs/operating.md, "Stack settings"): the components
 * take them as typed arguments and check them before declaring anything.
 */
export function readStackSettings(config = new pulumi.Config()): ChatApiArgs {
  return {
    stageName: config.get("stageName") ?? pulumi.getStack(),
    throttlingBurstLimit: config.getNumber("throttlingBurstLimit", { min: 0 }) ?? STAGE_THROTTLING_DEFAULTS.burstLimit,
    throttlingRateLimit: config.getNumber("throttlingRateLimit", { min: 0 }) ?? STAGE_THROTTLING_DEFAULTS.rateLimit,
    logRetentionDays: config.getNumber("logRetentionDays") ?? 14,
    logLevel: config.get("logLevel", { allowedValues: [...LOG_LEVELS] }) as ChatApiArgs["logLevel"],
    architecture: config.get("lambdaArchitecture", {
      allowedValues: [...ARCHITECTURES],
    }) as ChatApiArgs["architecture"],
    lambdaMemorySize: config.getNumber("lambdaMemorySize"),
    lambdaTimeoutSeconds: config.getNumber("lambdaTimeoutSeconds"),
    broadcastConcurrency: config.getNumber("broadcastConcurrency", { min: 1, max: 1000 }),
    lambdaConcurrency: config.getNumber("lambdaConcurrency"),
    auth: authSettings(config),
    historyTtlSeconds: config.getNumber("historyTtlSeconds"),
    roomsPerConnection: config.getNumber("roomsPerConnection"),
    rateLimits: config.getObject("rateLimits"),
    accessLogs: config.getBoolean("accessLogs"),
    apiGatewayAccountRole: config.getBoolean("apiGatewayAccountRole"),
    alarms: config.getBoolean("alarms"),
    alarmEmail: config.get("alarmEmail"),
    deletionProtection: config.getBoolean("deletionProtection"),
    customDomain: {
      domainName: config.get("customDomainName"),
      certificateArn: config.get("customDomainCertificateArn"),
    },
    publishPage: config.getBoolean("publishPage"),
  };
}

/** `auth`: guest (the default: tokens from the stack's endpoint), oidc (an external issuer) or none. */
function authSettings(config: pulumi.Config): AuthSettings {
  const mode = config.get("auth", { allowedValues: [...AUTH_MODES] }) ?? "guest";
  if (mode === "none") return { mode };
  if (mode === "guest") {
    return {
      mode,
      tokenTtlSeconds: config.getNumber("tokenTtlSeconds"),
      allowedOrigins: config.getObject<string[]>("tokenAllowedOrigins"),
      reservedConcurrency: config.getNumber("tokenReservedConcurrency"),
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
    authorizationEndpoint: config.get("oidcAuthorizationEndpoint"),
    tokenEndpoint: config.get("oidcTokenEndpoint"),
    scope: config.get("oidcScope"),
  };
}

/**
 * The AWS provider of every resource: the stack's region, and tags naming the project and the
 * stack on everything that takes tags. Without a region it stops here, saying how to set one,
 * rather than deep in the provider.
 */
export function awsProvider(): aws.Provider {
  const region = new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new pulumi.RunError(
      `stack ${pulumi.getStack()} has no AWS region: set one with \`pulumi config set aws:region us-east-1\` ` +
        "(or AWS_REGION in the environment)",
    );
  }
  return new aws.Provider("aws", {
    region: region as aws.Region,
    defaultTags: { tags: { project: pulumi.getProject(), stack: pulumi.getStack() } },
  });
}

/**
 * Identity for the local gateway, as the stack deploys it: with `guest` a KMS signing key made at
 * start (nothing to configure), the token endpoint at `POST /auth/token` signing with it through
 * the SDK's KMS client as in the cloud, and the `$connect` authorizer that verifies its tokens;
 * with `oidc` the authorizer alone, verifying an external issuer's ID tokens; with `none` neither,
 * the open chat. The functions are the deployed ones, configured through the same environment
 * variables; the token endpoint's role allows what the route table declares, `kms:Sign` on its key.
 */
import type express from "express";
import { DynamoDBLimitsStore } from "../../dal/limits-table";
import {
  type AuthSettings,
  type GuestAuthSettings,
  oidcAuthorizerEnvironment,
  readAuthorizerConfig,
  readTokenEndpointConfig,
} from "../../functions/auth/auth-config";
import { type PageOidcConfig, pageOidcConfig } from "../../functions/auth/page-config";
import { createKmsTokenSigner } from "../../functions/auth/token-signing";
import { type AuthorizerHandler, createAuthorizerDependencies } from "../../functions/handlers/authorizer";
import { createTokenEndpointDependencies } from "../../functions/handlers/token-endpoint";
import { connectAuthorizer, type FunctionPermissions, tokenEndpoint } from "../../functions/routes";
import { readFunctionConfig } from "../../functions/runtime/function-config";
import { tablesClient } from "../../functions/runtime/handler-dependencies";
import type { ApiInfo } from "../api-gateway/event-builders";
import type { Credentials } from "../iam/local-iam";
import type { LocalKms } from "../kms/kms-signing";
import { functionUrlRoute } from "../lambda/function-url";
import { LocalFunction, type LocalFunctionOptions } from "../lambda/lambda-function";
import type { AppAuthorizer } from "../websocket-app";

/** Who may connect: as a stack sets it, and what only the local gateway can be told. */
export type LocalAuthOptions =
  | Exclude<AuthSettings, GuestAuthSettings>
  | (GuestAuthSettings & {
      /** An RSA private key (PEM) to sign with, so tokens outlive a restart; default: one made at start. */
      privateKeyPem?: string;
    })
  | {
      /** An authorizer of the caller's in place of the project's (tests, or a library user's own). */
      mode: "custom";
      createHandler: () => AuthorizerHandler;
      /** Default: the project's, `route.request.querystring.token`. */
      identitySources?: readonly string[];
    };

/** The issuer of the local gateway's guest tokens (a deployed stack's: `websocket-chat/{stack}`). */
export const LOCAL_TOKEN_ISSUER = "websocket-chat/local";

interface LocalAuth {
  mode: LocalAuthOptions["mode"];
  authorizer?: AppAuthorizer;
  /** The token endpoint's route (guest only). */
  tokenRoute?: express.Router;
  /** What the page is told: how to sign in (`functions/auth/page-config.ts`). */
  page: { auth: LocalAuthOptions["mode"]; tokenUrl?: string; oidc?: PageOidcConfig };
}

interface LocalAuthContext {
  api: ApiInfo;
  region: string;
  functions: LocalFunctionOptions;
  /** The functions' environment, as Lambda's would hold it: where the tables are, the limits. */
  environment: Record<string, string | undefined>;
  log: (line: string) => void;
  kms: LocalKms;
  /** Makes a function's role allowing `permissions` (naming the signing key as given); its credentials. */
  role: (functionName: string, permissions: FunctionPermissions, signingKeyArn: string) => Credentials;
  /** Origins besides the page's own whose pages may get tokens: the function URL's CORS. */
  allowedOrigins: readonly string[];
}

export function startLocalAuth(options: LocalAuthOptions, context: LocalAuthContext): LocalAuth {
  if (options.mode === "none") return { mode: "none", page: { auth: "none" } };
  const { api, region, functions, log } = context;
  // The `$connect` authorizer, served as any app's is: an in-process function.
  const replay = (
    createHandler: () => AuthorizerHandler,
    identitySources: readonly string[] = [connectAuthorizer.identitySource],
  ): AppAuthorizer => ({
    name: connectAuthorizer.name,
    function: { kind: "in-process", name: connectAuthorizer.name, init: createHandler },
    identitySources,
  });
  if (options.mode === "custom") {
    return {
      mode: "custom",
      authorizer: replay(options.createHandler, options.identitySources),
      page: { auth: "custom" },
    };
  }
  // Settings are read at start, so a bad one stops the gateway rather than its first handshake.
  const authorizer = (environment: Record<string, string | undefined>) => {
    const config = readAuthorizerConfig(environment);
    return replay(() => connectAuthorizer.createHandler(createAuthorizerDependencies(config)));
  };

  if (options.mode === "oidc") {
    const oidc = pageOidcConfig(options);
    return {
      mode: "oidc",
      authorizer: authorizer(oidcAuthorizerEnvironment(options)),
      page: { auth: "oidc", ...(oidc && { oidc }) },
    };
  }

  // Tokens of this gateway admit to this gateway alone: its API id is their audience.
  const key = context.kms.createSigningKey(options.privateKeyPem);
  const tokens = { TOKEN_ISSUER: LOCAL_TOKEN_ISSUER, TOKEN_AUDIENCE: api.apiId };
  const { environment } = context;
  const tokenConfig = readTokenEndpointConfig({
    ...tokens,
    TOKEN_KMS_KEY_ID: key.arn,
    TOKEN_TTL_SECONDS: options.tokenTtlSeconds?.toString(),
    RATE_LIMITS: environment.RATE_LIMITS,
    LIMITS_TABLE_NAME: environment.LIMITS_TABLE_NAME,
  });
  // The token endpoint's clients sign with its role's keys: KMS to sign, the gateway's limits table.
  const credentials = context.role(tokenEndpoint.name, tokenEndpoint, key.arn);
  const kms = { region, credentials, requestHandler: context.kms.requestHandler() };
  const limits =
    tokenConfig.limitsTableName &&
    new DynamoDBLimitsStore(
      tablesClient({ ...readFunctionConfig(environment), credentials }),
      tokenConfig.limitsTableName,
    );
  const tokenFunction = new LocalFunction(
    tokenEndpoint.name,
    () =>
      tokenEndpoint.createHandler(
        createTokenEndpointDependencies(tokenConfig, {
          signer: createKmsTokenSigner(key.arn, kms),
          ...(limits && { limits }),
        }),
      ),
    functions,
  );
  return {
    mode: "guest",
    authorizer: authorizer({ AUTH_MODE: "guest", ...tokens, TOKEN_PUBLIC_KEY: key.publicKeyPem }),
    tokenRoute: functionUrlRoute(tokenEndpoint.localPath, tokenFunction, log, {
      ...tokenEndpoint.cors,
      allowOrigins: context.allowedOrigins,
    }),
    page: { auth: "guest", tokenUrl: tokenEndpoint.localPath },
  };
}

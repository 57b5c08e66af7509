/**
 * Identity in the cloud: the `$connect` authorizer, and for guests the KMS key that signs their
 * tokens and the token endpoint's function URL.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ALLOWED_ALGORITHMS,
  type AuthSettings,
  type OidcAuthSettings,
  oidcAuthorizerEnvironment,
  readAuthorizerConfig,
  readTokenEndpointConfig,
} from "../functions/auth/auth-config";
import { createAuthorizerDependencies, createAuthorizerHandler } from "../functions/handlers/authorizer";
import { createTokenEndpointDependencies, createTokenHandler } from "../functions/handlers/token-endpoint";
import { permissionStatements } from "../functions/permissions";
import { connectAuthorizer, tokenEndpoint } from "../functions/routes";
import type {
  AuthorizerEvent,
  AuthorizerResult,
  HttpRequestEvent,
  HttpResult,
} from "../functions/runtime/lambda-events";
import { cloudLogger, lambdaHandler } from "../functions/runtime/telemetry";
import { createInlineFunction, type FunctionDefaults, type InlineFunction } from "./inline-function";

/**
 * The error an authorizer throws to refuse a token: API Gateway answers 401. Lambda counts it in
 * `Errors` like any failure, and its runtime logs it at ERROR, so the alarms leave it out.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html
 */
export const AUTHORIZER_REFUSAL = "Unauthorized";

/**
 * The authorizer's entry point: its settings read and its verifier built once per cold start. It
 * names the handler's module directly, not the route table: the serialized closure then requires
 * jose alone, not every client the table's routes use (their init would be the authorizer's too).
 * `connectAuthorizer.createHandler` is this same function, so local and cloud run one handler.
 */
export function authorizerFactory(): aws.lambda.CallbackFactory<AuthorizerEvent, AuthorizerResult> {
  return () => {
    const logger = cloudLogger();
    const handler = createAuthorizerHandler(createAuthorizerDependencies(readAuthorizerConfig(), logger));
    const refusal = (error: unknown) => error instanceof Error && error.message === AUTHORIZER_REFUSAL;
    return lambdaHandler<AuthorizerEvent, AuthorizerResult>("authorizer", logger, handler, refusal);
  };
}

/** The token endpoint's entry point: a KMS signer built once per cold start (see above). */
export function tokenEndpointFactory(): aws.lambda.CallbackFactory<HttpRequestEvent, HttpResult> {
  return () => {
    const logger = cloudLogger();
    const deps = createTokenEndpointDependencies(readTokenEndpointConfig(), {}, logger);
    return lambdaHandler<HttpRequestEvent, HttpResult>("token", logger, createTokenHandler(deps));
  };
}

interface ChatAuthArgs {
  settings: Exclude<AuthSettings, { mode: "none" }>;
  api: aws.apigatewayv2.Api;
  /** Physical function names: `{prefix}-authorizer`, `{prefix}-token`. */
  functionNamePrefix: string;
  defaults: FunctionDefaults;
  /** The published page's origin: the token endpoint's CORS admits it alone unless `allowedOrigins` says otherwise. */
  pageOrigin?: pulumi.Input<string>;
  /** Where the token endpoint keeps each address's budget, and the budgets (`RATE_LIMITS`). */
  limits: { table: { name: pulumi.Input<string>; arn: pulumi.Input<string> }; rateLimits: string };
}

/**
 * Identity for the chat: the `$connect` authorizer, and for guests the KMS key that signs their
 * tokens (RSA 2048; the private half never leaves KMS, and the authorizer gets the public half in
 * its environment, so verifying costs no call at all) and the token endpoint, a function URL that
 * alone may `kms:Sign` with it.
 */
export class ChatAuth extends pulumi.ComponentResource {
  readonly authorizerFunction: InlineFunction;
  readonly authorizer: aws.apigatewayv2.Authorizer;
  readonly authorizerPermission: aws.lambda.Permission;
  readonly signingKey?: aws.kms.Key;
  readonly tokenFunction?: InlineFunction;
  readonly tokenUrl?: aws.lambda.FunctionUrl;

  constructor(name: string, args: ChatAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    super("websocket-chat:index:ChatAuth", name, {}, opts);
    const { settings, api } = args;
    const inline = { timeoutSeconds: 10, defaults: args.defaults };
    // Guest tokens of this stack admit to this API alone: its id is their audience.
    const guestTokens = { TOKEN_ISSUER: `websocket-chat/${pulumi.getStack()}`, TOKEN_AUDIENCE: api.id };

    let environment: Record<string, pulumi.Input<string>>;
    if (settings.mode === "guest") {
      this.signingKey = new aws.kms.Key(
        `${name}-signing-key`,
        {
          description: `Signs the guest tokens of ${name} (${pulumi.getStack()})`,
          customerMasterKeySpec: "RSA_2048",
          keyUsage: "SIGN_VERIFY",
          deletionWindowInDays: 7,
        },
        { parent: this },
      );
      const publicKey = aws.kms.getPublicKeyOutput({ keyId: this.signingKey.arn }, { parent: this });
      environment = { AUTH_MODE: "guest", ...guestTokens, TOKEN_PUBLIC_KEY: publicKey.publicKeyPem };
      this.tokenFunction = createInlineFunction(this, `${name}-token`, {
        ...inline,
        memorySize: tokenEndpoint.memorySize,
        functionName: `${args.functionNamePrefix}-${tokenEndpoint.name}`,
        description: "Guest tokens for the WebSocket chat",
        callbackFactory: tokenEndpointFactory(),
        environment: {
          ...guestTokens,
          TOKEN_KMS_KEY_ID: this.signingKey.arn,
          ...(settings.tokenTtlSeconds !== undefined && { TOKEN_TTL_SECONDS: String(settings.tokenTtlSeconds) }),
          RATE_LIMITS: args.limits.rateLimits,
          LIMITS_TABLE_NAME: args.limits.table.name,
        },
        statements: permissionStatements(tokenEndpoint, {
          signingKey: this.signingKey.arn,
          data: { limits: args.limits.table.arn },
        }),
        // A flood of token requests takes at most this much of the account's concurrency.
        ...(settings.reservedConcurrency !== undefined && { reservedConcurrency: settings.reservedConcurrency }),
      });
      this.tokenUrl = this.createTokenUrl(
        name,
        this.tokenFunction,
        settings.allowedOrigins ?? (args.pageOrigin ? [args.pageOrigin] : ["*"]),
      );
    } else {
      environment = oidcAuthorizerEnvironment(settings);
    }

    this.authorizerFunction = createInlineFunction(this, `${name}-authorizer`, {
      ...inline,
      memorySize: connectAuthorizer.memorySize,
      functionName: `${args.functionNamePrefix}-${connectAuthorizer.name}`,
      description: "Authorizes $connect of the WebSocket chat",
      callbackFactory: authorizerFactory(),
      environment,
      statements: permissionStatements(connectAuthorizer, {}),
    });
    // No result TTL: API Gateway refuses one for WebSocket APIs; every $connect is authorized anew.
    this.authorizer = new aws.apigatewayv2.Authorizer(
      `${name}-authorizer`,
      {
        apiId: api.id,
        name: `${name}-connect`,
        authorizerType: "REQUEST",
        authorizerUri: this.authorizerFunction.function.invokeArn,
        identitySources: [connectAuthorizer.identitySource],
      },
      { parent: this },
    );
    // API Gateway may invoke the function as this authorizer of this API, and as nothing else.
    this.authorizerPermission = new aws.lambda.Permission(
      `${name}-authorizer-permission`,
      {
        action: "lambda:InvokeFunction",
        function: this.authorizerFunction.function.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/${this.authorizer.id}`,
      },
      { parent: this },
    );
    this.registerOutputs({ tokenUrl: this.tokenUrl?.functionUrl });
  }

  /**
   * A public function URL: anyone may ask for a guest token, as anyone may open the chat. Since
   * October 2025 a new URL needs both `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`
   * (the latter only through the URL; https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html),
   * and with auth `NONE` the provider adds both statements itself when it makes the URL
   * (`FunctionURLAllowPublicAccess`, `FunctionURLAllowInvokeAction`: @pulumi/aws 7.48's FunctionUrl,
   * hashicorp/terraform-provider-aws#44858): declaring them again only duplicated them. The provider
   * does not remove them with the URL (#38260); both are conditioned on a URL's invocation, so
   * without one they open nothing, and they go with the function.
   */
  private createTokenUrl(
    name: string,
    fn: InlineFunction,
    allowedOrigins: pulumi.Input<string>[],
  ): aws.lambda.FunctionUrl {
    const url = new aws.lambda.FunctionUrl(
      `${name}-token-url`,
      {
        functionName: fn.function.name,
        authorizationType: "NONE",
        cors: {
          allowOrigins: allowedOrigins,
          allowMethods: [...tokenEndpoint.cors.allowMethods],
          allowHeaders: [...tokenEndpoint.cors.allowHeaders],
          maxAge: tokenEndpoint.cors.maxAge,
        },
      },
      { parent: this },
    );
    return url;
  }
}

/** Checks the settings AWS would reject only at deploy time (or never), so a bad value fails the preview. */
export function validateAuthSettings(auth: AuthSettings): void {
  if (auth.mode === "guest") {
    const ttl = auth.tokenTtlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 30 || ttl > 86_400)) {
      throw new Error(`tokenTtlSeconds must be an integer from 30 to 86400, got ${ttl}`);
    }
    const reserved = auth.reservedConcurrency;
    if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1 || reserved > 1000)) {
      throw new Error(`tokenReservedConcurrency must be an integer from 1 to 1000, got ${reserved}`);
    }
    for (const origin of auth.allowedOrigins ?? []) {
      if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
        throw new Error(
          `tokenAllowedOrigins must be * or origins like https://chat.example.com, got ${JSON.stringify(origin)}`,
        );
      }
    }
  } else if (auth.mode === "oidc") {
    if (!/^https:\/\/\S+$/.test(auth.issuer))
      throw new Error(`oidcIssuer must be an https URL, got ${JSON.stringify(auth.issuer)}`);
    if (!auth.audience.trim()) throw new Error("oidcAudience must be set (the app client id of the issuer)");
    // The authorizer would refuse them at every cold start (a 500 for every $connect): refuse them now.
    const refused = (auth.algorithms ?? []).filter((name) => !ALLOWED_ALGORITHMS.includes(name));
    if (refused.length > 0) {
      throw new Error(`oidcAlgorithms may name ${ALLOWED_ALGORITHMS.join(", ")}; got ${refused.join(", ")}`);
    }
    validatePageSignIn(auth);
  } else if (auth.mode !== "none") {
    throw new Error(`auth must be guest, oidc or none, got ${JSON.stringify((auth as { mode: unknown }).mode)}`);
  }
}

/** The page's sign-in: both endpoints or neither, each an https URL; scopes that bring an ID token. */
function validatePageSignIn(auth: OidcAuthSettings): void {
  const { authorizationEndpoint, tokenEndpoint, scope } = auth;
  if ((authorizationEndpoint === undefined) !== (tokenEndpoint === undefined)) {
    throw new Error(
      "oidcAuthorizationEndpoint and oidcTokenEndpoint go together: set both for the page's sign-in, or neither",
    );
  }
  for (const [key, value] of [
    ["oidcAuthorizationEndpoint", authorizationEndpoint],
    ["oidcTokenEndpoint", tokenEndpoint],
  ] as const) {
    if (value !== undefined && !isHttpsUrl(value)) {
      throw new Error(`${key} must be an https URL, got ${JSON.stringify(value)}`);
    }
  }
  // Without `openid` an issuer answers no ID token (Cognito: "only returned if openid scope is requested").
  if (scope !== undefined && !scope.split(" ").includes("openid")) {
    throw new Error(`oidcScope must include openid (space-separated scopes), got ${JSON.stringify(scope)}`);
  }
}

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hash === "" && !/\s/.test(value);
  } catch {
    return false;
  }
}

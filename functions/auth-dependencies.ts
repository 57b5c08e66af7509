import type { AuthorizerConfig, TokenEndpointConfig } from "./auth-config";
import type { AuthorizerDependencies } from "./authorizer";
import { ConfigError } from "./config";
import type { TokenEndpointDependencies } from "./token-endpoint";
import { createKmsTokenSigner, type TokenSigner } from "./token-signing";
import { createTokenVerifier } from "./token-verification";

/** The authorizer's real dependencies, built once per cold start. */
export function createAuthorizerDependencies(config: AuthorizerConfig): AuthorizerDependencies {
  return { verifyToken: createTokenVerifier(config), logger: console };
}

/**
 * The token endpoint's real dependencies: KMS signs in the cloud; the local gateway passes the
 * signer of the key it made at start.
 */
export function createTokenEndpointDependencies(
  config: TokenEndpointConfig,
  signer?: TokenSigner,
): TokenEndpointDependencies {
  if (!signer && !config.kmsKeyId) throw new ConfigError("TOKEN_KMS_KEY_ID must be set");
  return {
    signer: signer ?? createKmsTokenSigner(config.kmsKeyId as string, config.region),
    config,
    now: Date.now,
    logger: console,
  };
}

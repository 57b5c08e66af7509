import { randomBytes } from "node:crypto";

/**
 * An id shaped like API Gateway's connection and request ids (`BFHPhfCWIAMCKlQ=`): 11 random
 * bytes in base64, padded, so it contains `=` and must be URL-encoded in paths as AWS's must.
 * The URL-safe alphabet keeps `/` and `+` out, as in the ids AWS hands out.
 */
export function apiGatewayId(): string {
  return `${randomBytes(11).toString("base64url")}=`;
}

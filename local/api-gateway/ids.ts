/** Ids shaped like API Gateway's: connection and request ids, and API ids. */
import { randomFillSync, randomInt } from "node:crypto";

const ID_BYTES = 11;
/** Random bytes drawn in bulk: one system call per 372 ids instead of one per id. */
const pool = Buffer.alloc(ID_BYTES * 372);
let used = pool.length;

/**
 * An id shaped like API Gateway's connection and request ids (`BFHPhfCWIAMCKlQ=`): 11 random
 * bytes in base64, padded, so it contains `=` and must be URL-encoded in paths as AWS's must.
 * The URL-safe alphabet keeps `/` and `+` out, as in the ids AWS hands out.
 */
export function apiGatewayId(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += ID_BYTES;
  return `${pool.toString("base64url", used - ID_BYTES, used)}=`;
}

const API_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * An id shaped like a REST or WebSocket API's (`abc123defg`: ten lowercase letters and digits).
 * Each gateway gets its own, as each deployed API has its own, so two gateways on one table can
 * tell their connections apart.
 */
export function newApiId(): string {
  return Array.from({ length: 10 }, () => API_ID_ALPHABET[randomInt(API_ID_ALPHABET.length)]).join("");
}

/**
 * How long to wait before the next connection attempt: exponential backoff with full jitter, a
 * delay drawn evenly between 0 and `min(maxDelayMs, firstDelayMs · 2^attempt)`. Of the schemes in
 * AWS's study (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/) it does
 * the least work in all to get everyone back: clients that lost their sockets at the same moment (a
 * deploy, a network blip) do not come back at the same moment.
 */

export interface BackoffOptions {
  /** The cap of the first retry's delay. Default 500 ms. */
  firstDelayMs: number;
  /** The cap no delay goes past. Default 30 s. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { firstDelayMs: 500, maxDelayMs: 30_000 };

/** The delay before retry number `attempt` (0 for the first), `random` drawing from [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const cap = Math.min(options.maxDelayMs, options.firstDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

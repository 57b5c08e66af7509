/** What the client's promises reject with: each a class of its own, so a caller can tell them apart. */

/** The base of every error the client library throws. */
export class ChatClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server refused the request: its error frame's message, and when a budget ran out, when to retry. */
export class RequestRefusedError extends ChatClientError {
  constructor(
    message: string,
    /** Over a rate limit: seconds until the request would be admitted. */
    readonly retryAfterSeconds?: number,
    /** The refusal's request id, for the server's logs. */
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** No answer came in time: the request may or may not have been handled. */
export class RequestTimeoutError extends ChatClientError {}

/** The connection closed (or was not open) before the answer came: the request may or may not have been handled. */
export class ConnectionLostError extends ChatClientError {}

/**
 * A sign-in only the person can put right (a name the token endpoint refuses, an expired sign-in
 * with an issuer): the client stops rather than retry it.
 */
export class SignInRefusedError extends ChatClientError {}

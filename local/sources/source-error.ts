/**
 * A source the gateway cannot run at all (a file that does not parse, no WebSocket API in it, a
 * parameter without a value): the command prints its message and stops, naming the file and what to do.
 */
export class SourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SourceError";
  }
}

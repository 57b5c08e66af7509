/**
 * The gateway's execution log: one line per request it handles, in the spirit of API Gateway's
 * execution logs (a request id in parentheses, then what happened), each with its time, status,
 * and how long the function ran when one ran.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
 */

/** One request as the execution log records it. */
interface ExecutionLogEntry {
  requestId: string;
  /** What ran: a route key, `$connect authorizer`, a function URL's method and path, ... */
  what: string;
  connectionId?: string;
  status: number;
  /** The function's run, when one ran. */
  invocation?: { ms: number; coldStart: boolean };
  /** Why it failed or was refused, when it was. */
  note?: string;
}

/** The entry as one line: `{time} ({requestId}) {what} connection={id} status={status} {ms} ms (cold start) {note}`. */
export function executionLogLine({
  requestId,
  what,
  connectionId,
  status,
  invocation,
  note,
}: ExecutionLogEntry): string {
  const connection = connectionId === undefined ? "" : ` connection=${connectionId}`;
  const ran = invocation ? ` ${invocation.ms.toFixed(1)} ms${invocation.coldStart ? " (cold start)" : ""}` : "";
  return `${new Date().toISOString()} (${requestId}) ${what}${connection} status=${status}${ran}${note ? ` ${note}` : ""}`;
}

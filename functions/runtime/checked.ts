/**
 * Client input, checked: every check returns the value as it will be used, or why it is refused
 * (a sentence for the person who sent it, never a stack trace); and the one way a request's JSON
 * object is read, from a WebSocket frame or an HTTP body alike.
 */

/** A checked value, or why it is refused. */
export type Checked<T> = { value: T } | { error: string };

/**
 * `text` as a JSON object, or why not. `what` names the input in the error ("message", "body"),
 * `example` shows what was expected (`: {"name":"..."}`).
 */
export function parseJsonObject(
  text: string | undefined,
  what: string,
  example = "",
): Checked<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? "");
  } catch {
    return { error: `The ${what} is not valid JSON${example}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { error: `The ${what} must be a JSON object${example}` };
  }
  return { value: parsed as Record<string, unknown> };
}

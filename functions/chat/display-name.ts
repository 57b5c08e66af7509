/** The longest display name, in characters (Unicode code points). */
export const MAX_NAME_LENGTH = 64;

/**
 * Characters a name may not hold: control characters (C0, DEL, C1), line and paragraph
 * separators, and format characters (\p{Cf}): the bidirectional overrides, isolates and marks that
 * make text display in another order than it is stored ("Trojan Source", CVE-2021-42574), and the
 * invisible ones (zero-width space, word joiner, BOM) that make a blank name or one that looks like
 * another, as do the Hangul fillers. The zero-width joiner stays: emoji sequences need it.
 */
const FORBIDDEN = /[\p{Cc}\u2028\u2029\u115F\u1160\u3164\uFFA0]|(?!\u200D)\p{Cf}/u;

/**
 * The name as it is stored and shown (trimmed, NFC-normalized), or why it is refused: a sentence
 * for the person who typed it. Markup is just text: the page never renders a name as HTML.
 */
export function validateDisplayName(value: unknown): { name: string } | { error: string } {
  if (typeof value !== "string") return { error: '"name" must be a string' };
  const name = value.normalize("NFC").trim();
  if (name === "") return { error: '"name" must not be empty' };
  const length = [...name].length;
  if (length > MAX_NAME_LENGTH) {
    return { error: `"name" is ${length} characters; the limit is ${MAX_NAME_LENGTH}` };
  }
  if (FORBIDDEN.test(name)) return { error: '"name" must not contain control, invisible or text-direction characters' };
  return { name };
}

/** Display names: what a person may be called in the chat, checked wherever a name comes in. */
import type { Checked } from "../runtime/checked";

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
 * A character that shows: a letter, digit, punctuation or symbol, but for the Braille pattern
 * blank (U+2800), a symbol that draws nothing. A name of spaces, combining marks or blanks alone
 * would show as no one.
 */
const VISIBLE = /(?!\u2800)[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * The name as it is stored and shown (trimmed, NFC-normalized), or why it is refused: a sentence
 * for the person who typed it, naming the input as `label`. Markup is just text: the page never
 * renders a name as HTML.
 */
export function validateDisplayName(value: unknown, label = '"name"'): Checked<string> {
  if (typeof value !== "string") return { error: `${label} must be a string` };
  const name = value.normalize("NFC").trim();
  if (name === "") return { error: `${label} must not be empty` };
  const length = [...name].length;
  if (length > MAX_NAME_LENGTH) {
    return { error: `${label} is ${length} characters; the limit is ${MAX_NAME_LENGTH}` };
  }
  if (FORBIDDEN.test(name))
    return { error: `${label} must not contain control, invisible or text-direction characters` };
  if (!VISIBLE.test(name)) return { error: `${label} must have a letter, digit or symbol that shows` };
  return { value: name };
}

import test from "ava";
import { MAX_NAME_LENGTH, validateDisplayName } from "../../../../functions/chat/display-name";

const accepted: Array<[string, string, string]> = [
  ["plain", "Ada", "Ada"],
  ["trimmed", "  Ada Lovelace \t", "Ada Lovelace"],
  ["markup is just text", "<b>Ada</b>", "<b>Ada</b>"],
  ["64 characters, astral ones counted once", "😀".repeat(MAX_NAME_LENGTH), "😀".repeat(MAX_NAME_LENGTH)],
  ["emoji joined by ZWJ", "👩‍💻 Grace", "👩‍💻 Grace"],
  ["NFC: a decomposed é becomes one character", "Rene\u0301", "Ren\u00e9"],
  ["a Braille pattern that shows, beside a blank one", "\u2800\u2801", "\u2800\u2801"],
  ["punctuation alone", "...", "..."],
];
for (const [what, input, stored] of accepted) {
  test(`accepted: ${what}`, (t) => t.deepEqual(validateDisplayName(input), { value: stored }));
}

const refused: Array<[string, unknown, RegExp]> = [
  ["not a string", 42, /must be a string/],
  ["missing", undefined, /must be a string/],
  ["empty", "", /must not be empty/],
  ["only spaces", "   ", /must not be empty/],
  ["65 characters", "n".repeat(65), /"name" is 65 characters; the limit is 64/],
  ["a newline", "Ada\nBob", /control/],
  ["a NUL", "Ada\u0000", /control/],
  ["DEL", "Ada\u007f", /control/],
  ["a C1 control", "Ada\u0085", /control/],
  ["a right-to-left override", "Ada\u202egnp.exe", /text-direction/],
  ["a directional isolate", "\u2066Ada", /text-direction/],
  ["a line separator", "Ada\u2028Bob", /control/],
  ["a right-to-left mark", "Ada\u200f!", /text-direction/],
  ["a zero-width space (a look-alike of Ada)", "A\u200bda", /invisible/],
  ["a byte-order mark inside (trim drops one at the ends)", "Ada\ufeffLovelace", /invisible/],
  ["only a Hangul filler (a blank name)", "\u3164", /invisible/],
  ["only Braille blanks, which draw nothing", "\u2800\u2800\u2800", /must have a letter, digit or symbol that shows/],
  ["only combining marks", "\u0301\u0301", /must have a letter, digit or symbol that shows/],
  [
    "only ideographic spaces and a Braille blank",
    "\u3000\u2800\u3000",
    /must have a letter, digit or symbol that shows/,
  ],
];
for (const [what, input, message] of refused) {
  test(`refused: ${what}`, (t) => {
    const result = validateDisplayName(input);
    t.true("error" in result);
    t.regex((result as { error: string }).error, message);
  });
}

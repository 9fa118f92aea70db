/**
 * The canonical form of a log line: ANSI escapes, C0/C1 controls (tab kept), bidi controls and zero-width
 * characters removed. Redaction runs on this form, so a key spelled `pass\x1b[0mword` or `to\u200bken`
 * is seen as the keyword a terminal (or a model) reads; rendering strips the same characters again.
 */

// ANSI: CSI, OSC (terminated by BEL or ST), and two-character ESC sequences.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;
// C0 (but tab), DEL, C1; soft hyphen and the combining grapheme joiner; bidi embeddings/overrides/isolates/marks; zero-width and invisible formatters;
// line/paragraph separators (they would start a new line inside the block).
const INVISIBLE =
  /[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;
// The same set as one test, without the surrogate pair (tag characters start with \udb40): most lines have
// none of these, and a single class scan is what they pay.
export const HIDDEN_CHARS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\udb40]/;

/** Strips ANSI escapes, C0/C1 controls (tab kept), bidi controls and zero-width characters. */
export function canonicalText(s: string): string {
  if (!HIDDEN_CHARS.test(s)) return s;
  if (s.includes('\x1b')) s = s.replace(ANSI, '');
  return s.replace(INVISIBLE, '');
}

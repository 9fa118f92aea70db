/**
 * Variable masking before template mining: values that differ between otherwise identical messages
 * (pod names, UIDs, IPs, ids, durations, numbers) become named placeholders, so Drain compares the
 * constant words. A regex over the whole message tries every alternative at every position (≈60 MB/s);
 * classifying only the delimited words that contain a digit (or could be a generated pod name) with
 * anchored tests is several times faster.
 */
import { scanAutomaton } from './scan-automaton.js';
import { hintStateAfter } from './secret-hints.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5}|\/\d{1,2})?|\[?[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\]?(?::\d{1,5})?)$/;
// Package and program versions: "2.36-9+deb12u4", "1.2.3-4ubuntu1.2", "1:2.3.4-1".
const VERSION = /^\d+(?::\d+)?(?:\.\d+)+[-+~][-+~.\w]*$/;
// IPv6 only with a hex letter or "::": "03:00:00" is a time and "1:2:3" a ratio, not addresses.
const V6_HINT = /::|[a-fA-F]/;
// host:port with a dotted name ("proxy.example.com:5070", "etcd-0.etcd:2380").
const HOST_PORT = /^(?:[a-zA-Z0-9_-]+\.)+[a-zA-Z][a-zA-Z0-9_-]*:\d{1,5}$/;
const ID = /^(?:sha256:)?[0-9a-f]{32,64}$/;
const TIME = /^(?:\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)?|\d\d:\d\d:\d\d(?:\.\d+)?)$/;
const DUR = /^\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|min|sec|secs)(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))*$/;
const HEX = /^(?:0x[0-9a-fA-F]+|(?=[0-9a-f]*[a-f])[0-9a-f]{8,})$/;
const NUM = /^[-+*#]?\d+(?:\.\d+)?(?:[KMGTPkmgtp]i?[Bb]?|[Bb]|%|bytes)?$/;
// Character classes for the word scanner, as bits a word ORs together: DELIM ends a word (whitespace
// and the punctuation around values in klog/logfmt/JSON); the rest say what a word is made of, so the
// commonest masked words (ids, UIDs, numbers) are settled at their end without a copy or a memo lookup.
// A table lookup keeps the per-character cost to one load.
const DELIM = 1;
const DIGIT = 2;
const DASH = 4;
const HEX_LOWER = 8;
const HEX_UPPER = 16;
const OTHER = 32;
const SLASH = 64;
const CLASS = new Uint8Array(65536).fill(OTHER);
for (const ch of ' \t"\'(),;=[\\]{}<>|') CLASS[ch.charCodeAt(0)] = DELIM;
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 97; c <= 102; c++) CLASS[c] = HEX_LOWER;
for (let c = 65; c <= 70; c++) CLASS[c] = HEX_UPPER;
CLASS[45] = DASH;
CLASS[47] = SLASH;

/**
 * What classify gives a word of text[from..to) that has a digit and only the characters in `bits`, for
 * the shapes decided by length and alphabet (all digits, lowercase hex, a UUID); undefined when the
 * word needs the rest of classify, which starts with it.
 */
function quickClass(text: string, from: number, to: number, bits: number): string | undefined {
  const n = to - from;
  if ((bits & ~(DIGIT | HEX_LOWER)) === 0) {
    if (n >= 32 && n <= 64) return '<ID>';
    if ((bits & HEX_LOWER) === 0) return '<NUM>';
    if (n < 8) return undefined;
    const last = text.charCodeAt(to - 1);
    if (last === 100 || last === 98) {
      // One letter only, and it is the final 'd' or 'b': a duration or a byte count, not hex.
      let letters = 0;
      for (let i = from; i < to; i++) if (text.charCodeAt(i) >= 97) letters++;
      if (letters === 1) return undefined;
    }
    return '<HEX>';
  }
  if (n === 36 && (bits & (DELIM | OTHER | SLASH | DASH)) === DASH) {
    for (let i = 0; i < 36; i++) {
      const isDash = text.charCodeAt(from + i) === 45;
      if (isDash !== (i === 8 || i === 13 || i === 18 || i === 23)) return undefined;
    }
    return '<UID>';
  }
  return undefined;
}

function isK8sSuffixChar(c: number): boolean {
  // bcdfghjklmnpqrstvwxz2456789
  if (c >= 50 && c <= 57) return c !== 51;
  if (c < 98 || c > 122) return false;
  return c !== 101 && c !== 105 && c !== 111 && c !== 117 && c !== 121;
}

/** A generated pod name: Kubernetes name suffixes use an alphabet without vowels, which keeps real words out. */
function mayBePodName(w: string): boolean {
  const n = w.length;
  if (n < 7 || w.charCodeAt(n - 6) !== 45) return false;
  for (let i = n - 5; i < n; i++) if (!isK8sSuffixChar(w.charCodeAt(i))) return false;
  // A pod name only has [a-z0-9.-]: "ns/name-x7k2p" is not one (its parts are tried separately).
  for (let i = 0; i < n - 6; i++) {
    const c = w.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 45)) return false;
  }
  // The rest of the pod-name shape ^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?:-[…]{6,10})?-[…]{5}$: the name
  // before the suffix starts and ends with a letter or digit (a ReplicaSet hash suffix is such a name too).
  return isLowerAlnum(w.charCodeAt(0)) && isLowerAlnum(w.charCodeAt(n - 7));
}

function isLowerAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** The CLASS bits of a whole word (what the mask scan gathers as it reads one). */
function classBits(w: string): number {
  let bits = 0;
  for (let i = 0; i < w.length; i++) bits |= CLASS[w.charCodeAt(i)]!;
  return bits;
}

function hasDigitIn(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/**
 * Two shapes the regex chain below answers often, settled in one pass: a dotted quad ("10.244.8.71") is
 * an IP (NUM, DUR and TIME cannot match three dots), and digits with at most one dot and a unit "ms" or
 * "s" ("481.762ms") a duration ("ms" and "s" are no NUM unit). Anything else: undefined.
 */
function dottedShape(w: string): string | undefined {
  const n = w.length;
  let dots = 0;
  let run = 0;
  let long = false; // a group of more than 3 digits: no IP
  let i = 0;
  for (; i < n; i++) {
    const c = w.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++run > 3) long = true;
    } else if (c === 46) {
      if (run === 0) return undefined;
      dots++;
      run = 0;
    } else break;
  }
  if (run === 0) return undefined;
  if (i === n) return dots === 3 && !long ? '<IP>' : undefined;
  if (dots > 1) return undefined;
  const rest = n - i;
  if (rest === 1 && w.charCodeAt(i) === 115) return '<DUR>';
  if (rest === 2 && w.charCodeAt(i) === 109 && w.charCodeAt(i + 1) === 115) return '<DUR>';
  return undefined;
}

function classify(w: string, hasDigit: boolean): string | undefined {
  if (!hasDigit) return mayBePodName(w) ? '<POD>' : undefined;
  // Container and image ids and UIDs are the commonest long words in node logs: they are settled first.
  // Shortcuts that give what the regex chain below gives for these shapes, without running it: a UUID
  // is a UID and 32–64 lowercase hex an ID (the ID/UUID tests come first); then all digits are NUM, and
  // other lowercase hex of 8+ with a letter is HEX (it cannot be a NUM, DUR, TIME, IP or VERSION).
  const n = w.length;
  const quick = quickClass(w, 0, n, classBits(w));
  if (quick !== undefined) return quick;
  const c0 = w.charCodeAt(0);
  if (n >= 32) {
    if (n <= 71 && ID.test(w)) return '<ID>';
    if (n === 36 && UUID.test(w)) return '<UID>';
  }
  if (c0 >= 48 && c0 <= 57) {
    const dotted = dottedShape(w);
    if (dotted !== undefined) return dotted;
    if (NUM.test(w)) return '<NUM>';
    if (DUR.test(w)) return '<DUR>';
    // Time before IP: "03:00:00" is a time of day.
    if (TIME.test(w)) return '<TIME>';
    if (IP.test(w) && (w.indexOf(':') < 0 || w.indexOf('.') > 0 || V6_HINT.test(w))) return '<IP>';
    if (VERSION.test(w)) return '<VER>';
  }
  // Lowercase hex of 8+ was settled above: only the "0x…" form is left for HEX.
  if (c0 === 48 && w.charCodeAt(1) === 120 && HEX.test(w)) return '<HEX>';
  if (c0 === 45 || c0 === 43 || c0 === 42 || c0 === 35) {
    if (NUM.test(w)) return '<NUM>';
  }
  if (w.includes(':')) {
    if (IP.test(w) && (w.indexOf('.') > 0 || V6_HINT.test(w))) return '<IP>';
    if (HOST_PORT.test(w)) return '<ADDR>';
  }
  if (mayBePodName(w)) return '<POD>';
  return undefined;
}

function isSep(c: number, level: 0 | 1): boolean {
  return level === 0 ? c === 58 || c === 47 || c === 64 : c === 45 || c === 46 || c === 95;
}

/**
 * Masks one word. Compound words are masked part by part: first on ':' '/' '@' ("ns/pod-name",
 * "nginx:1.25", "total-vm:123kB"), then what is still unmasked on '-' '.' '_' ("cri-containerd-<id>.scope").
 */
function maskWord(w: string, hasDigit: boolean, level: 0 | 1 | 2 = 0): string {
  let end = w.length;
  while (end > 1 && w.charCodeAt(end - 1) === 46) end--; // sentence period
  const core = end === w.length ? w : w.slice(0, end);
  const whole = classify(core, hasDigit);
  if (whole) return end === w.length ? whole : whole + w.slice(end);
  if (!hasDigit || level === 2) return w;
  let out = '';
  let start = 0;
  let changed = false;
  let found = false;
  for (let i = 0; i <= core.length; i++) {
    const c = i < core.length ? core.charCodeAt(i) : -1;
    if (c === -1 || isSep(c, level)) {
      if (c !== -1) found = true;
      if (!found) break;
      if (i > start) {
        const part = core.slice(start, i);
        const m = maskWord(part, hasDigitIn(part), level === 0 ? 1 : 2);
        if (m !== part) changed = true;
        out += m;
      }
      if (c !== -1) out += core[i];
      start = i + 1;
    }
  }
  if (!found && level === 0) return maskWord(w, hasDigit, 1);
  return changed ? out + w.slice(end) : w;
}

/**
 * Where a maskTokens call masked something: `count` triplets (token index, start, end) of the original
 * token in the text. Typed buffers reused between calls (no allocation per line): the caller passes the
 * one to fill, or reads the shared `maskedSpans` before the next call.
 */
export interface SpanBuffer {
  data: Int32Array;
  count: number;
}

export function newSpanBuffer(): SpanBuffer {
  return { data: new Int32Array(3 * 256), count: 0 };
}

export const maskedSpans: SpanBuffer = newSpanBuffer();

/** The trouble lexicon's best hit in the text of the last maskTokens call (see scanAutomaton). */
export const lexiconScan = { hit: 0, /** text[start..] holds "['" (a Python list repr, see maskPhrases). */ listOpen: false };


/** Whether the last maskTokens call saw a secret hint (secretHints) in text[hintFrom..]. */
export const secretHint = { found: false };

// Words repeat (k8s.io, cri-containerd, namespaces, image names, a pod's volumes and probe URLs) and a
// compound word costs several regex tests: their masked forms are kept in a small direct-mapped memo,
// found by a hash of the word's characters without copying it. Only words seen before are admitted (a
// doorkeeper of hashes): on a real node most words with digits are unique (durations, ports, pod
// suffixes), and keeping each of them would only churn memory and the garbage collector. Ids and UUIDs
// are settled by quickClass and stay out. maskWord depends on the word alone, so the memo cannot change
// an answer.
const MEMO_MAX_WORD = 31;
// Longer words with a '/' are paths, image references, URLs and volume names: the dearest to mask.
const MEMO_MAX_PATH = 256;
const MEMO_BITS = 14;
const memoWords: (string | undefined)[] = new Array(1 << MEMO_BITS).fill(undefined);
const memoMasks: string[] = new Array(1 << MEMO_BITS).fill('');
const DOOR_BITS = 14;
const doorkeeper = new Int32Array(1 << DOOR_BITS);

/** The word's memo hash (FNV-1a over its characters), never 0 (0 marks an empty doorkeeper slot).
 *  Equality is checked on the text itself. */
function wordHash(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 15)) | 1;
}

/** The masked form of the word text[from..to) (with a digit when hasDigit), through the memo. */
function maskWordAt(text: string, from: number, to: number, bits: number): string | undefined {
  const n = to - from;
  const hasDigit = (bits & DIGIT) !== 0;
  if (n > MEMO_MAX_WORD && (n > MEMO_MAX_PATH || (bits & SLASH) === 0)) {
    const w = text.slice(from, to);
    const m = maskWord(w, hasDigit);
    return m === w ? undefined : m;
  }
  const h = wordHash(text, from, to);
  // Two slots per hash (h and h ^ 1): a word that collides with another keeps a place. The word is
  // confirmed by indexOf from its start: V8's startsWith with a pattern that is not a constant costs
  // several times more, and a same-length collision (rare) only makes indexOf search the rest of the line.
  let slot = h & ((1 << MEMO_BITS) - 1);
  for (let way = 0; way < 2; way++, slot ^= 1) {
    const known = memoWords[slot];
    if (known !== undefined && known.length === n && text.indexOf(known, from) === from) {
      const m = memoMasks[slot]!;
      return m === known ? undefined : m;
    }
  }
  const w = text.slice(from, to);
  const m = maskWord(w, hasDigit);
  const door = (h >>> (32 - DOOR_BITS)) ^ (h & ((1 << DOOR_BITS) - 1));
  if (doorkeeper[door] === h) {
    // slot is back at h's first way: fill an empty way, else the second (the first keeps its word).
    if (memoWords[slot] !== undefined) slot ^= 1;
    memoWords[slot] = w;
    memoMasks[slot] = m;
  } else doorkeeper[door] = h;
  return m === w ? undefined : m;
}

/**
 * Masks and tokenizes in one pass: returns the space-separated tokens of text[start..] with variable
 * words replaced. Doing both at once avoids building a masked string only to split it again. On the way
 * it steps the trouble lexicon (lexiconScan) over text[start..] and the secret hints (secretHint) over
 * text[hintFrom..], so the pipeline needs no other pass over a line that holds neither. Tokens are runs
 * of characters between spaces/tabs; words are runs between delimiters (CLASS) inside them.
 */
export function maskTokens(text: string, start = 0, lead1?: string, lead2?: string, spans: SpanBuffer = maskedSpans, hintFrom = start): string[] {
  // Leading tokens (identifier, stream) the caller wants in front, placed first rather than unshifted.
  const tokens: string[] = lead1 === undefined ? [] : lead2 === undefined ? [lead1] : [lead1, lead2];
  spans.count = 0;
  // Built at the first scan, not at import: the server's start-up loads this module.
  const { delta: SCAN_DELTA, nonAscii: SCAN_NON_ASCII, nonAsciiFlagged: SCAN_NON_ASCII_FLAGGED, hiddenOrSpace: HINT_HIDDEN, entry: SCAN_ENTRY, level: SCAN_LEVEL, hinted: SCAN_HINTED } = scanAutomaton();
  // The header part only needs the secret hints; the message part steps the product automaton, whose
  // lexicon starts at the message.
  let st = SCAN_ENTRY[hintStateAfter(text, hintFrom, start)]!;
  let listOpen = false;
  const n = text.length;
  let i = start;
  outer: for (;;) {
    // Spaces between tokens.
    let c = 0;
    for (; i < n; i++) {
      c = text.charCodeAt(i);
      if (c !== 32 && c !== 9) break;
      st = SCAN_DELTA[(st << 7) | c]!;
    }
    if (i >= n) break;
    const tokStart = i;
    let tok = '';
    let copied = -1;
    for (;;) {
      // A word: characters up to a delimiter.
      const wordStart = i;
      let bits = 0;
      let k = DELIM;
      for (; i < n; i++) {
        c = text.charCodeAt(i);
        st = c < 128 ? SCAN_DELTA[(st << 7) | c]! : HINT_HIDDEN[c] ? SCAN_NON_ASCII_FLAGGED[st]! : SCAN_NON_ASCII[st]!;
        k = CLASS[c]!;
        if (k === DELIM) break;
        bits |= k;
      }
      if ((bits & (DIGIT | DASH)) !== 0) {
        const m = ((bits & DIGIT) !== 0 ? quickClass(text, wordStart, i, bits) : undefined) ?? maskWordAt(text, wordStart, i, bits);
        if (m !== undefined) {
          tok = copied < 0 ? text.slice(tokStart, wordStart) + m : tok + text.slice(copied, wordStart) + m;
          copied = i;
        }
      }
      if (i >= n || c === 32 || c === 9) {
        if (copied >= 0 && spans.count < 256) {
          const o = 3 * spans.count++;
          const d = spans.data;
          d[o] = tokens.length;
          d[o + 1] = tokStart;
          d[o + 2] = i;
        }
        tokens.push(copied < 0 ? text.slice(tokStart, i) : tok + text.slice(copied, i));
        if (i >= n) break outer;
        i++;
        continue outer;
      }
      if (c === 39 && i > start && text.charCodeAt(i - 1) === 91) listOpen = true;
      i++; // another delimiter: part of the token
    }
  }
  st = SCAN_DELTA[(st << 7) | 32]!; // the end reads as a space (as the scan always did)
  lexiconScan.hit = SCAN_LEVEL[st]!;
  lexiconScan.listOpen = listOpen;
  secretHint.found = SCAN_HINTED[st] === 1;
  return tokens;
}

/** The masked message with single spaces between tokens. */
export function maskVariables(message: string): string {
  return maskTokens(message).join(' ');
}

// Free-text parameters that span several words, for the programs every node runs: systemd's unit
// descriptions, cron's and sudo's command lines, and Python list reprs. Drain groups by word count, so a
// parameter of varying length would split one event into one template per length.
const SYSTEMD_UNIT_TEXT =
  /^(Starting|Started|Stopping|Stopped|Finished|Reloading|Reloaded|Reached target|Stopped target|Listening on|Closed|Mounting|Mounted|Unmounting|Unmounted|Failed to start|Created slice|Removed slice|Activating swap|Deactivated swap|Condition check resulted in) (.+?)( skipped\.|\.\.\.|\.)$/;
const CRON_CMD = /^(\(\S+\) CMD )\(.*\)$/;
const SUDO_COMMAND = /( ; COMMAND=).*$/;
const PY_LIST = /\[(?:'[^']*'(?:, )?){2,}\]|\((?:'[^']*'(?:, )?){2,}\)/g;

/** The message with multi-word parameters collapsed to one placeholder, or undefined when none applies. */
export function maskPhrases(ident: string | undefined, message: string): string | undefined {
  let out: string | undefined;
  if (ident === 'systemd') {
    const m = SYSTEMD_UNIT_TEXT.exec(message);
    if (m) out = `${m[1]} <UNIT>${m[3]}`;
  } else if (ident === 'CRON' || ident === 'cron' || ident === 'crond') {
    const m = CRON_CMD.exec(message);
    if (m) out = `${m[1]}(<CMD>)`;
  } else if (ident === 'sudo' && message.includes('COMMAND=')) {
    out = message.replace(SUDO_COMMAND, '$1<CMD>');
  }
  const text = out ?? message;
  if (text.includes("['") || text.includes("('")) {
    const t = text.replace(PY_LIST, '<LIST>');
    if (t !== text) out = t;
  }
  return out;
}

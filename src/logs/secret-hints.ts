import { HIDDEN_CHARS } from './canonical.js';

/**
 * Which lines redaction must look at, decided by an automaton the mask scan steps along with the trouble
 * lexicon (src/logs/mask.ts), so the common line — no secret, nothing hidden — costs no regex pass of its
 * own. The automaton accepts every keyword of the redactor's prefilter (built from the same list), "curl",
 * and any control or invisible character canonicalText would remove; with the few checks it leaves to
 * Redactor.passesUnchanged (a PEM block in progress, an orphan key line, a URL with '@', the bootstrap-token
 * shape) that is a superset of the lines the redactor could change. Hinted lines take the redactor's full
 * path; a false hint costs speed, never an answer.
 */

/**
 * The redactor's prefilter, one alternative each, in a small regex subset the automaton compiler below
 * reads: literal characters, `\` escapes, `[...]` classes with ranges and `\s`, `.`, and `?` after any of
 * them. Case variants are spelled out: a case-sensitive alternation with literal first
 * characters is what irregexp scans fastest, and all-lowercase "asia"/"akia" words must not match.
 */
export const PREFILTER_PARTS: readonly string[] = [
  '[pP]ass', '[pP]ASS', '[pP]wd', '[pP]WD', '[pP]rivate', '[pP]RIVATE',
  '[sS]ecret', '[sS]ECRET', '[tT]oken', '[tT]OKEN',
  '[aA]pi.?[kK]ey', '[aA]PI.?KEY', '[aA]ccess.?[kK]ey', '[aA]CCESS.?KEY', '[aA]uth', '[aA]UTH',
  '[cC]redential', '[cC]REDENTIAL', '[cC]reds', '[cC]REDS', '[cC]ookie', '[cC]OOKIE',
  '[bB]earer', '[bB]EARER', '[bB]asic', '[bB]ASIC',
  '[kK]ey[-_]?[dD]ata', '[kK]ey[-_]?DATA', '[kK]EY[-_]?[dD]ata', '[kK]EY[-_]?DATA',
  '[-_.][kK]ey["\'\\s:=]', '[-_.]KEY["\'\\s:=]', '"key"',
  'eyJ', 'A[KBS]IA', 'ACCA', 'LS0tLS1CRUdJTi',
  'gh[pousr]_', 'github_pat_', 'xox[abprs]-', '[rs]k_live_', 'glpat-', 'AIza', 'mysql', 'mariadb',
];

/** What the redactor checks before its prefilter that a keyword can stand for: curl -u. */
const OTHER_HINTS: readonly string[] = ['curl'];

export interface SecretHintAutomaton {
  /** next = delta[state * 128 + c] for an ASCII character c. */
  delta: Uint16Array;
  /** next = nonAscii[state] for a character ≥ 128 that hiddenOrSpace does not flag. */
  nonAscii: Uint16Array;
  /** Characters ≥ 128 that send a line to the full path at once: canonicalText's invisible set and \s. */
  hiddenOrSpace: Uint8Array;
  /** The accepting state; it is absorbing, so one test after the scan is enough. */
  accept: number;
  start: number;
  states: number;
}

const SYMBOLS = 129; // ASCII, then one symbol for every other character
const NON_ASCII = 128;

interface Atom {
  set: Uint8Array;
  optional: boolean;
}

function classOf(ch: string, set: Uint8Array): void {
  // \s: the ASCII spaces; the others are hiddenOrSpace characters, which hint before reaching a pattern.
  if (ch === 's') for (const c of [9, 10, 11, 12, 13, 32]) set[c] = 1;
  else set[ch.charCodeAt(0)] = 1;
}

/** Parses one alternative of the subset PREFILTER_PARTS is written in. */
function parse(src: string): Atom[] {
  const atoms: Atom[] = [];
  let i = 0;
  while (i < src.length) {
    const set = new Uint8Array(SYMBOLS);
    const ch = src[i]!;
    if (ch === '[') {
      i++;
      while (src[i] !== ']') {
        if (i >= src.length) throw new Error(`secret hint ${src}: unterminated class`);
        if (src[i] === '\\') {
          classOf(src[i + 1]!, set);
          i += 2;
        } else if (src[i + 1] === '-' && src[i + 2] !== ']' && i + 2 < src.length) {
          for (let c = src.charCodeAt(i); c <= src.charCodeAt(i + 2); c++) set[c] = 1;
          i += 3;
        } else set[src.charCodeAt(i++)] = 1;
      }
      i++;
    } else if (ch === '\\') {
      classOf(src[i + 1]!, set);
      i += 2;
    } else if (ch === '.') {
      set.fill(1);
      i++;
    } else if ('?*{}()|+^$'.includes(ch)) {
      throw new Error(`secret hint ${src}: unsupported '${ch}' at ${i}`);
    } else {
      set[src.charCodeAt(i++)] = 1;
    }
    const optional = src[i] === '?';
    if (optional) i++;
    atoms.push({ set, optional });
  }
  return atoms;
}

/**
 * Subset construction over (pattern, position) items, unanchored: every pattern's start is implicitly in
 * every state (so it is not stored), and reaching the end of any pattern goes to the absorbing accept
 * state; so does an ASCII control character other than tab (canonicalText removes those).
 */
export function buildSecretHints(parts: readonly string[] = [...PREFILTER_PARTS, ...OTHER_HINTS]): SecretHintAutomaton {
  const pats = parts.map(parse);
  const ACCEPT = 0;
  // Items are p << 8 | j: pattern p with j atoms matched. Optional atoms are closed over at once.
  let accepted = false;
  const close = (into: number[], it: number): void => {
    for (;;) {
      const p = it >> 8;
      const j = it & 255;
      if (j === pats[p]!.length) {
        accepted = true;
        return;
      }
      if (into.indexOf(it) < 0) into.push(it);
      if (!pats[p]![j]!.optional) return;
      it = (p << 8) | (j + 1);
    }
  };
  // Symbols that every atom treats alike (and that are alike as control characters) share their
  // transitions: the construction runs once per class, not once per character.
  const isControl = (sym: number): boolean => (sym < 32 ? sym !== 9 : sym === 127);
  const atoms = pats.flat();
  const classOfSym = new Int32Array(SYMBOLS);
  const reps: number[] = [];
  const bySignature = new Map<string, number>();
  for (let sym = 0; sym < SYMBOLS; sym++) {
    let sig = isControl(sym) ? 'c' : '';
    for (const a of atoms) sig += a.set[sym];
    let k = bySignature.get(sig);
    if (k === undefined) {
      k = reps.length;
      bySignature.set(sig, k);
      reps.push(sym);
    }
    classOfSym[sym] = k;
  }
  // What the implicit start items become on each symbol class.
  const startNext: number[][] = [];
  for (const sym of reps) {
    const out: number[] = [];
    accepted = false;
    for (let p = 0; p < pats.length; p++) {
      const first: number[] = [];
      close(first, p << 8);
      for (const it of first) {
        const atom = pats[p]![it & 255]!;
        if (atom.set[sym]) close(out, it + 1);
      }
    }
    startNext.push(accepted ? [-1] : out);
  }
  const keys = new Map<string, number>();
  const sets: number[][] = [[]]; // state 0 = accept
  const queue: number[] = [];
  const intern = (items: number[]): number => {
    items.sort((x, y) => x - y);
    const key = items.join(',');
    let id = keys.get(key);
    if (id === undefined) {
      id = sets.length;
      keys.set(key, id);
      sets.push(items);
      queue.push(id);
    }
    return id;
  };
  const start = intern([]);
  const rows: Uint16Array[] = [new Uint16Array(SYMBOLS)]; // accept → accept
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q]!;
    const byClass = new Uint16Array(reps.length);
    for (let k = 0; k < reps.length; k++) {
      const sym = reps[k]!;
      const fromStart = startNext[k]!;
      if (isControl(sym) || fromStart[0] === -1) {
        byClass[k] = ACCEPT;
        continue;
      }
      const next = fromStart.slice();
      accepted = false;
      for (const it of sets[id]!) {
        const atom = pats[it >> 8]![it & 255]!;
        if (atom.set[sym]) close(next, it + 1);
      }
      byClass[k] = accepted ? ACCEPT : intern(next);
    }
    const row = new Uint16Array(SYMBOLS);
    for (let sym = 0; sym < SYMBOLS; sym++) row[sym] = byClass[classOfSym[sym]!]!;
    rows[id] = row;
  }
  const states = sets.length;
  const delta = new Uint16Array(states * 128);
  const nonAscii = new Uint16Array(states);
  for (let st = 0; st < states; st++) {
    delta.set(rows[st]!.subarray(0, 128), st * 128);
    nonAscii[st] = rows[st]![NON_ASCII]!;
  }
  // One regex pass over every UTF-16 code unit above ASCII.
  const hiddenOrSpace = new Uint8Array(65536);
  let all = '';
  for (let c = 128; c < 65536; c += 4096) all += String.fromCharCode(...Array.from({ length: Math.min(4096, 65536 - c) }, (_, k) => c + k));
  const flagged = new RegExp(`${HIDDEN_CHARS.source}|\\s`, 'g');
  for (const m of all.matchAll(flagged)) hiddenOrSpace[128 + m.index!] = 1;
  return { delta, nonAscii, hiddenOrSpace, accept: ACCEPT, start, states };
}

let built: SecretHintAutomaton | undefined;
/** The automaton, built on first use (tens of milliseconds cold): start-up does not pay for it. */
export function secretHints(): SecretHintAutomaton {
  return (built ??= buildSecretHints());
}

/** The automaton's state after reading text[from..to) from its start. */
export function hintStateAfter(text: string, from: number, to: number): number {
  const { delta, nonAscii, hiddenOrSpace, accept, start } = secretHints();
  let st = start;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    st = c < 128 ? delta[(st << 7) | c]! : hiddenOrSpace[c] ? accept : nonAscii[st]!;
  }
  return st;
}

/** Whether `s` takes the redactor's full path (the automaton run on its own, outside the mask scan). */
export function mayNeedRedaction(s: string): boolean {
  return hintStateAfter(s, 0, s.length) === secretHints().accept;
}

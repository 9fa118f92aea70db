/**
 * The one automaton the mask scan steps per character (src/logs/mask.ts): the trouble lexicon
 * (LEXICON_AUTOMATON) and the secret hints (secretHints) run as a product, with the lexicon's best hit
 * so far folded into the state. One table load per character answers both questions at the end of the
 * message: the line's best lexicon hit, and whether the redactor must look at the line.
 */
import { secretHints } from './secret-hints.js';
import { LEXICON_AUTOMATON } from './severity.js';

export interface ScanAutomaton {
  /** next = delta[state * 128 + c] for an ASCII character c. */
  delta: Uint16Array;
  /** next = nonAscii[state] for a character ≥ 128 the hint automaton does not flag … */
  nonAscii: Uint16Array;
  /** … and nonAsciiFlagged[state] for one it does (hiddenOrSpace: invisible characters, Unicode spaces). */
  nonAsciiFlagged: Uint16Array;
  hiddenOrSpace: Uint8Array;
  /** The product state where the message starts, by the hint state reached over the line's header. */
  entry: Uint16Array;
  /** Best lexicon hit of the text read so far: 0 none, 1 warning term, 2 error term. */
  level: Uint8Array;
  /** 1 when the secret hints accepted (absorbing). */
  hinted: Uint8Array;
  states: number;
}

export function buildScanAutomaton(): ScanAutomaton {
  const { delta: lexDelta, hit } = LEXICON_AUTOMATON;
  const H = secretHints();
  const lexStates = hit.length;
  // A product state is (lexicon state, best hit 0–2, hint state), numbered as first reached.
  const ids = new Int32Array(H.states * 3 * lexStates).fill(-1);
  const parts: number[] = [];
  const idOf = (lex: number, best: number, hint: number): number => {
    const key = (hint * 3 + best) * lexStates + lex;
    let id = ids[key]!;
    if (id < 0) {
      id = parts.length;
      ids[key] = id;
      parts.push(key);
    }
    return id;
  };
  const entry = new Uint16Array(H.states);
  for (let h = 0; h < H.states; h++) entry[h] = idOf(0, 0, h);
  const rows: Uint16Array[] = [];
  for (let q = 0; q < parts.length; q++) {
    const key = parts[q]!;
    const lex = key % lexStates;
    const best = Math.floor(key / lexStates) % 3;
    const hint = Math.floor(key / lexStates / 3);
    const row = new Uint16Array(130);
    for (let c = 0; c < 128; c++) {
      const next = lexDelta[lex * 128 + c]!;
      row[c] = idOf(next, Math.max(best, hit[next]!), H.delta[hint * 128 + c]!);
    }
    // A non-ASCII character restarts the lexicon at its root (no term holds one).
    row[128] = idOf(0, best, H.nonAscii[hint]!);
    row[129] = idOf(0, best, H.accept);
    rows.push(row);
  }
  const states = parts.length;
  if (states > 65535) throw new Error('scan automaton: too many states');
  const delta = new Uint16Array(states * 128);
  const nonAscii = new Uint16Array(states);
  const nonAsciiFlagged = new Uint16Array(states);
  const level = new Uint8Array(states);
  const hinted = new Uint8Array(states);
  for (let s = 0; s < states; s++) {
    const row = rows[s]!;
    delta.set(row.subarray(0, 128), s * 128);
    nonAscii[s] = row[128]!;
    nonAsciiFlagged[s] = row[129]!;
    const key = parts[s]!;
    level[s] = Math.floor(key / lexStates) % 3;
    hinted[s] = Math.floor(key / lexStates / 3) === H.accept ? 1 : 0;
  }
  return { delta, nonAscii, nonAsciiFlagged, hiddenOrSpace: H.hiddenOrSpace, entry, level, hinted, states };
}

let built: ScanAutomaton | undefined;
/** The automaton, built on first use (tens of milliseconds cold): start-up does not pay for it. */
export function scanAutomaton(): ScanAutomaton {
  return (built ??= buildScanAutomaton());
}

/**
 * A checker for Go regexp/syntax.Parse(p, syntax.Perl): returns Go's error text
 * ("error parsing regexp: <code>: `<expr>`") or null when Go would accept the pattern. It follows the
 * structure of Go's parser closely enough to report the same code and expression for the usual mistakes;
 * it does not build a program (size and nesting limits are not checked).
 */

type Item = 'lparen' | 'vbar' | 'expr';

class GoRegexpError extends Error {
  constructor(readonly code: string, readonly expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
  }
}

const POSIX = new Set(['alnum', 'alpha', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']);

function isValidUnicodeName(name: string): boolean {
  if (name === 'Any') return true;
  try {
    if (/^[A-Z][a-z]?$/.test(name)) { new RegExp(`\\p{${name}}`, 'u'); return true; }
  } catch { /* fall through to scripts */ }
  try { new RegExp(`\\p{Script=${name}}`, 'u'); return true; } catch { return false; }
}

const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** parseEscape: returns the rest after the escape or throws. `s` starts with a backslash. */
function parseEscape(s: string): string {
  let t = s.slice(1);
  if (t === '') throw new GoRegexpError('trailing backslash at end of expression', '');
  const c = String.fromCodePoint(t.codePointAt(0)!);
  t = t.slice(c.length);
  const bad = () => new GoRegexpError('invalid escape sequence', s.slice(0, s.length - t.length));
  if (c.codePointAt(0)! < 0x80 && !/[0-9A-Za-z]/.test(c)) return t;
  if (c >= '1' && c <= '7') {
    if (t === '' || t[0]! < '0' || t[0]! > '7') throw bad();
  }
  if (c >= '0' && c <= '7') {
    for (let i = 1; i < 3 && t !== '' && t[0]! >= '0' && t[0]! <= '7'; i++) t = t.slice(1);
    return t;
  }
  if (c === 'x') {
    if (t === '') throw bad();
    const c2 = t[0]!;
    t = t.slice(1);
    if (c2 === '{') {
      let n = 0;
      let value = 0;
      for (;;) {
        if (t === '') throw bad();
        const d = t[0]!;
        t = t.slice(1);
        if (d === '}') break;
        if (!isHex(d)) throw bad();
        value = value * 16 + parseInt(d, 16);
        if (value > 0x10ffff) throw bad();
        n++;
      }
      if (n === 0) throw bad();
      return t;
    }
    const c3 = t[0];
    t = t.slice(c3 === undefined ? 0 : 1);
    if (!isHex(c2) || !isHex(c3)) throw bad();
    return t;
  }
  if ('afnrtv'.includes(c)) return t;
  throw bad();
}

/** \pN, \p{Name}, \P{^Name}; returns the rest, or null when `s` is not a Unicode class. */
function parseUnicodeClass(s: string): string | null {
  if (s.length < 2 || s[0] !== '\\' || (s[1] !== 'p' && s[1] !== 'P')) return null;
  let t = s.slice(2);
  if (t === '') throw new GoRegexpError('invalid character class range', s.slice(0, 2));
  let seq: string;
  let name: string;
  if (t[0] !== '{') {
    const c = String.fromCodePoint(t.codePointAt(0)!);
    t = t.slice(c.length);
    seq = s.slice(0, s.length - t.length);
    name = seq.slice(2);
  } else {
    const end = s.indexOf('}');
    if (end < 0) throw new GoRegexpError('invalid character class range', s);
    seq = s.slice(0, end + 1);
    t = s.slice(end + 1);
    name = s.slice(3, end);
  }
  if (name.startsWith('^')) name = name.slice(1);
  if (!isValidUnicodeName(name)) throw new GoRegexpError('invalid character class range', seq);
  return t;
}

function parsePerlClassEscape(s: string): string | null {
  return s.length >= 2 && s[0] === '\\' && 'dDsSwW'.includes(s[1]!) ? s.slice(2) : null;
}

function parseClassChar(s: string, wholeClass: string): { rune: number; rest: string } {
  if (s === '') throw new GoRegexpError('missing closing ]', wholeClass);
  if (s[0] === '\\') {
    const rest = parseEscape(s);
    return { rune: escapeRune(s.slice(0, s.length - rest.length)), rest };
  }
  const c = String.fromCodePoint(s.codePointAt(0)!);
  return { rune: c.codePointAt(0)!, rest: s.slice(c.length) };
}

/** The rune value of an escape already known to be valid. */
function escapeRune(esc: string): number {
  const body = esc.slice(1);
  const c = body[0]!;
  if (c >= '0' && c <= '7') return parseInt(body, 8);
  if (c === 'x') return parseInt(body.slice(1).replace(/[{}]/g, ''), 16);
  const map: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
  return map[c] ?? body.codePointAt(0)!;
}

function parseClass(s: string): string {
  let t = s.slice(1);
  if (t.startsWith('^')) t = t.slice(1);
  let first = true;
  while (t === '' || t[0] !== ']' || first) {
    first = false;
    if (t.length > 2 && t[0] === '[' && t[1] === ':') {
      const i = t.slice(2).indexOf(':]');
      if (i >= 0) {
        const name = t.slice(0, i + 4);
        const inner = name.slice(2, -2).replace(/^\^/, '');
        if (!POSIX.has(inner)) throw new GoRegexpError('invalid character class range', name);
        t = t.slice(i + 4);
        continue;
      }
    }
    const u = parseUnicodeClass(t);
    if (u !== null) { t = u; continue; }
    const p = parsePerlClassEscape(t);
    if (p !== null) { t = p; continue; }
    const rng = t;
    const lo = parseClassChar(t, s);
    t = lo.rest;
    if (t.length >= 2 && t[0] === '-' && t[1] !== ']') {
      t = t.slice(1);
      const hi = parseClassChar(t, s);
      t = hi.rest;
      if (hi.rune < lo.rune) throw new GoRegexpError('invalid character class range', rng.slice(0, rng.length - t.length));
    }
  }
  return t.slice(1);
}

/** parseRepeat for "{n}", "{n,}", "{n,m}"; null when the text is a literal '{'. */
function parseRepeat(s: string): { min: number; max: number; rest: string } | null {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(s);
  if (!m) return null;
  const num = (d: string) => (d.length > 8 ? -1 : Number(d));
  const min = num(m[1]!);
  const max = m[2] === undefined ? min : m[3] === '' ? -1 : num(m[3]!);
  if (m[3] !== undefined && m[3] !== '' && max === -1) return { min, max: 1001, rest: s.slice(m[0].length) };
  return { min, max, rest: s.slice(m[0].length) };
}

function parsePerlFlags(s: string, stack: Item[]): string {
  const named = (s.length > 4 && s[2] === 'P' && s[3] === '<') || (s.length > 3 && s[2] === '<');
  if (named) {
    const start = s[2] === 'P' ? 4 : 3;
    const end = s.indexOf('>');
    if (end < 0) throw new GoRegexpError('invalid named capture', s);
    const capture = s.slice(0, end + 1);
    const name = s.slice(start, end);
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new GoRegexpError('invalid named capture', capture);
    stack.push('lparen');
    return s.slice(end + 1);
  }
  let t = s.slice(2);
  let sign = 1;
  let sawFlag = false;
  while (t !== '') {
    const c = String.fromCodePoint(t.codePointAt(0)!);
    t = t.slice(c.length);
    if ('imsU'.includes(c)) { sawFlag = true; continue; }
    if (c === '-') {
      if (sign < 0) break;
      sign = -1;
      sawFlag = false;
      continue;
    }
    if (c === ':' || c === ')') {
      if (sign < 0 && !sawFlag) break;
      if (c === ':') stack.push('lparen');
      return t;
    }
    break;
  }
  throw new GoRegexpError('invalid or unsupported Perl syntax', s.slice(0, s.length - t.length));
}

/** Collapse the items above the last pseudo-op into one expression (concat). */
function collapse(stack: Item[]): void {
  while (stack.length && stack[stack.length - 1] === 'expr') stack.pop();
  stack.push('expr');
}

/** concat + swapVerticalBar + alternate: fold "x | y" on top of the stack into one expression. */
function closeAlternation(stack: Item[]): void {
  collapse(stack);
  if (stack.length >= 3 && stack[stack.length - 2] === 'vbar') stack.splice(stack.length - 3, 2);
}

function parse(whole: string): void {
  const stack: Item[] = [];
  let t = whole;
  let lastRepeat = '';
  while (t !== '') {
    let repeat = '';
    const c = t[0]!;
    if (c === '(') {
      if (t.length >= 2 && t[1] === '?') t = parsePerlFlags(t, stack);
      else { stack.push('lparen'); t = t.slice(1); }
    } else if (c === '|') {
      collapse(stack);
      // swapVerticalBar keeps a single bar on top of the stack.
      const below = stack.length >= 2 ? stack[stack.length - 2] : undefined;
      if (below === 'vbar') stack.pop();
      else { stack.pop(); stack.push('expr', 'vbar'); }
      t = t.slice(1);
    } else if (c === ')') {
      closeAlternation(stack);
      stack.pop();
      if (stack.length < 1 || stack[stack.length - 1] !== 'lparen') {
        // Go reports the whole regexp for an unmatched ')'.
        throw new GoRegexpError('unexpected )', whole);
      }
      stack.pop();
      stack.push('expr');
      t = t.slice(1);
    } else if (c === '[') {
      t = parseClass(t);
      stack.push('expr');
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      const before = t;
      let after: string;
      if (c === '{') {
        const r = parseRepeat(t);
        if (!r) { stack.push('expr'); t = t.slice(1); lastRepeat = ''; continue; }
        after = r.rest;
        if (r.min < 0 || r.min > 1000 || r.max > 1000 || (r.max >= 0 && r.min > r.max)) {
          throw new GoRegexpError('invalid repeat count', before.slice(0, before.length - after.length));
        }
      } else {
        after = t.slice(1);
      }
      if (after.startsWith('?')) after = after.slice(1);
      if (lastRepeat !== '') {
        throw new GoRegexpError('invalid nested repetition operator', lastRepeat.slice(0, lastRepeat.length - after.length));
      }
      const top = stack[stack.length - 1];
      if (top !== 'expr') {
        throw new GoRegexpError('missing argument to repetition operator', before.slice(0, before.length - after.length));
      }
      repeat = before;
      t = after;
    } else if (c === '\\') {
      if (t.length >= 2 && 'AbBzQ'.includes(t[1]!)) {
        if (t[1] === 'Q') {
          const end = t.indexOf('\\E', 2);
          const lit = end < 0 ? t.slice(2) : t.slice(2, end);
          if (lit) stack.push('expr');
          t = end < 0 ? '' : t.slice(end + 2);
        } else {
          stack.push('expr');
          t = t.slice(2);
        }
      } else if (t.length >= 2 && t[1] === 'C') {
        throw new GoRegexpError('invalid escape sequence', '\\C');
      } else {
        const u = parseUnicodeClass(t);
        if (u !== null) t = u;
        else {
          const p = parsePerlClassEscape(t);
          t = p !== null ? p : parseEscape(t);
        }
        stack.push('expr');
      }
    } else {
      const ch = String.fromCodePoint(t.codePointAt(0)!);
      stack.push('expr');
      t = t.slice(ch.length);
    }
    lastRepeat = repeat;
  }
  closeAlternation(stack);
  if (stack.length !== 1) throw new GoRegexpError('missing closing )', whole);
}

/** Go's error text for syntax.Parse(pattern, syntax.Perl), or null if the pattern is accepted. */
export function goRegexpSyntaxError(pattern: string): string | null {
  try {
    parse(pattern);
    return null;
  } catch (e) {
    if (e instanceof GoRegexpError) return e.message;
    throw e;
  }
}

import '../v8-flags.js';

/**
 * Go `regexp/syntax` (Perl flags) for user patterns.
 *
 * The kubelet validates `pattern` with Go's parser, then hands it to journalctl
 * (PCRE2) or PowerShell (.NET). We reject what Go rejects, with Go's own message
 * text, so an invalid pattern never reaches the cluster. For file queries the
 * server filters lines itself, so the same parse tree is also translated into an
 * equivalent JavaScript RegExp (V8 has no inline flag groups, no `\Q…\E`, no
 * POSIX classes, and different `.`/`\s` meanings, hence a real translation).
 *
 * The parser follows parse.go's control flow (BigSwitch, parsePerlFlags,
 * parseClass, parseEscape, parseUnicodeClass, repeat) so error precedence and
 * the quoted sub-expression match Go's.
 */

type ErrorCode =
  | 'invalid character class'
  | 'invalid character class range'
  | 'invalid escape sequence'
  | 'invalid named capture'
  | 'invalid or unsupported Perl syntax'
  | 'invalid nested repetition operator'
  | 'invalid repeat count'
  | 'invalid UTF-8'
  | 'missing closing ]'
  | 'missing closing )'
  | 'missing argument to repetition operator'
  | 'trailing backslash at end of expression'
  | 'unexpected )'
  | 'expression nests too deeply'
  | 'expression too large';

class GoSyntaxError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly expr: string,
  ) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
  }
}

interface Flags {
  fold: boolean; // (?i)
  dotNL: boolean; // (?s)
  oneLine: boolean; // cleared by (?m)
  nonGreedy: boolean; // (?U)
}

/** A class member that JS can express directly inside `[...]`. */
type ClassItem = { lo: number; hi: number } | { prop: string; negated: boolean };

type Node =
  | { t: 'lit'; cp: number; fold: boolean }
  | { t: 'class'; items: ClassItem[]; negated: boolean; fold: boolean }
  | { t: 'any'; dotNL: boolean }
  | { t: 'assert'; kind: 'beginText' | 'endText' | 'beginLine' | 'endLine' | 'wordB' | 'notWordB' }
  | { t: 'group'; capture: boolean; alts: Node[][] }
  | { t: 'repeat'; op: '*' | '+' | '?' | '{}'; min: number; max: number; lazy: boolean; sub: Node };

const MAX_REPEAT = 1000;
const MAX_HEIGHT = 1000;
const MAX_SIZE = Math.floor((128 << 20) / 40);
const MAX_RUNE = 0x10ffff;

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isOctal = (c: number) => c >= 0x30 && c <= 0x37;
function unhex(c: number): number {
  if (isDigit(c)) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

// Perl and POSIX groups, as in perl_groups.go.
const R = (lo: string, hi: string = lo): ClassItem => ({ lo: lo.codePointAt(0)!, hi: hi.codePointAt(0)! });
const DIGIT = [R('0', '9')];
const SPACE = [R('\t', '\n'), R('\f', '\r'), R(' ')];
const WORD = [R('0', '9'), R('A', 'Z'), R('_'), R('a', 'z')];
const PERL_GROUPS: Record<string, { items: ClassItem[]; negated: boolean }> = {
  '\\d': { items: DIGIT, negated: false },
  '\\D': { items: DIGIT, negated: true },
  '\\s': { items: SPACE, negated: false },
  '\\S': { items: SPACE, negated: true },
  '\\w': { items: WORD, negated: false },
  '\\W': { items: WORD, negated: true },
};
const POSIX_BASE: Record<string, ClassItem[]> = {
  alnum: [R('0', '9'), R('A', 'Z'), R('a', 'z')],
  alpha: [R('A', 'Z'), R('a', 'z')],
  ascii: [{ lo: 0, hi: 0x7f }],
  blank: [R('\t'), R(' ')],
  cntrl: [{ lo: 0, hi: 0x1f }, { lo: 0x7f, hi: 0x7f }],
  digit: DIGIT,
  graph: [R('!', '~')],
  lower: [R('a', 'z')],
  print: [R(' ', '~')],
  punct: [R('!', '/'), R(':', '@'), R('[', '`'), R('{', '~')],
  space: [R('\t', '\r'), R(' ')],
  upper: [R('A', 'Z')],
  word: WORD,
  xdigit: [R('0', '9'), R('A', 'F'), R('a', 'f')],
};

// Unicode general categories (short and long names) and scripts Go knows, keyed
// by Go's canonical form (case, `_`, `-` and space ignored), mapped to the
// property name V8 understands.
const CATEGORY_ALIASES: [string, string[]][] = [
  ['C', ['Other']], ['Cc', ['Control', 'cntrl']], ['Cf', ['Format']], ['Cn', ['Unassigned']],
  ['Co', ['Private_Use']], ['Cs', ['Surrogate']], ['L', ['Letter']], ['LC', ['Cased_Letter']],
  ['Ll', ['Lowercase_Letter']], ['Lm', ['Modifier_Letter']], ['Lo', ['Other_Letter']],
  ['Lt', ['Titlecase_Letter']], ['Lu', ['Uppercase_Letter']], ['M', ['Mark', 'Combining_Mark']],
  ['Mc', ['Spacing_Mark']], ['Me', ['Enclosing_Mark']], ['Mn', ['Nonspacing_Mark']],
  ['N', ['Number']], ['Nd', ['Decimal_Number', 'digit']], ['Nl', ['Letter_Number']],
  ['No', ['Other_Number']], ['P', ['Punctuation', 'punct']], ['Pc', ['Connector_Punctuation']],
  ['Pd', ['Dash_Punctuation']], ['Pe', ['Close_Punctuation']], ['Pf', ['Final_Punctuation']],
  ['Pi', ['Initial_Punctuation']], ['Po', ['Other_Punctuation']], ['Ps', ['Open_Punctuation']],
  ['S', ['Symbol']], ['Sc', ['Currency_Symbol']], ['Sk', ['Modifier_Symbol']], ['Sm', ['Math_Symbol']],
  ['So', ['Other_Symbol']], ['Z', ['Separator']], ['Zl', ['Line_Separator']],
  ['Zp', ['Paragraph_Separator']], ['Zs', ['Space_Separator']],
];
const SCRIPTS = (
  'Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali ' +
  'Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma ' +
  'Cham Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari ' +
  'Dives_Akuru Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic ' +
  'Grantha Greek Gujarati Gunjala_Gondi Gurmukhi Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew ' +
  'Hiragana Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi ' +
  'Kannada Katakana Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Lao Latin Lepcha ' +
  'Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen ' +
  'Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi ' +
  'Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu ' +
  'Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian ' +
  'Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene ' +
  'Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic Samaritan Saurashtra Sharada Shavian ' +
  'Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa ' +
  'Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Toto ' +
  'Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square'
).split(' ');
const canon = (name: string) => name.replace(/[_\- ]/g, '').toLowerCase();
const UNICODE_TABLES = new Map<string, ClassItem[] | { prop: string; negate?: boolean }>();
for (const [short, longs] of CATEGORY_ALIASES) {
  for (const n of [short, ...longs]) UNICODE_TABLES.set(canon(n), { prop: short });
}
for (const s of SCRIPTS) UNICODE_TABLES.set(canon(s), { prop: `Script=${s}` });
UNICODE_TABLES.set('any', [{ lo: 0, hi: MAX_RUNE }]);
UNICODE_TABLES.set('ascii', [{ lo: 0, hi: 0x7f }]);
UNICODE_TABLES.set('assigned', { prop: 'Cn', negate: true });

interface Parsed {
  alts: Node[][];
}

class Parser {
  private readonly s: string;
  private i = 0;
  private flags: Flags;

  constructor(s: string, fold: boolean) {
    this.s = s;
    this.flags = { fold, dotNL: false, oneLine: true, nonGreedy: false };
  }

  private err(code: ErrorCode, expr: string): never {
    throw new GoSyntaxError(code, expr);
  }

  /** Code point at `j` and its UTF-16 length; lone surrogates are Go's invalid UTF-8. */
  private rune(j: number): [number, number] {
    const c = this.s.codePointAt(j)!;
    if (c >= 0xd800 && c <= 0xdfff) this.err('invalid UTF-8', this.s.slice(j));
    return [c, c > 0xffff ? 2 : 1];
  }

  parse(): Parsed {
    const s = this.s;
    // Frames mirror Go's opLeftParen / opVerticalBar pseudo-ops.
    interface Frame { alts: Node[][]; cur: Node[]; flags: Flags; capture: boolean }
    const stack: Frame[] = [];
    let frame: Frame = { alts: [], cur: [], flags: this.flags, capture: false };
    let lastRepeat = -1; // index where the previous token, if a repetition, started

    const applyRepeat = (op: '*' | '+' | '?' | '{}', min: number, max: number, before: number, after: number): number => {
      let lazy = this.flags.nonGreedy;
      if (s[after] === '?') {
        after++;
        lazy = !lazy;
      }
      if (lastRepeat >= 0) this.err('invalid nested repetition operator', s.slice(lastRepeat, after));
      if (frame.cur.length === 0) this.err('missing argument to repetition operator', s.slice(before, after));
      const sub = frame.cur.pop()!;
      const node: Node = { t: 'repeat', op, min, max, lazy, sub };
      frame.cur.push(node);
      if (op === '{}' && (min >= 2 || max >= 2) && !repeatIsValid(node, MAX_REPEAT)) {
        this.err('invalid repeat count', s.slice(before, after));
      }
      return after;
    };

    while (this.i < s.length) {
      let repeatStart = -1;
      const c = s[this.i];
      switch (c) {
        case '(':
          if (s[this.i + 1] === '?') {
            const opened = this.parsePerlFlags();
            if (opened) {
              stack.push(frame);
              frame = { alts: [], cur: [], flags: opened.saved, capture: opened.capture };
            }
            break;
          }
          stack.push(frame);
          frame = { alts: [], cur: [], flags: { ...this.flags }, capture: true };
          this.i++;
          break;
        case '|':
          frame.alts.push(frame.cur);
          frame.cur = [];
          this.i++;
          break;
        case ')': {
          const outer = stack.pop();
          if (!outer) this.err('unexpected )', s);
          frame.alts.push(frame.cur);
          const g: Node = { t: 'group', capture: frame.capture, alts: frame.alts };
          this.flags = frame.flags;
          frame = outer;
          frame.cur.push(g);
          this.i++;
          break;
        }
        case '^':
          frame.cur.push({ t: 'assert', kind: this.flags.oneLine ? 'beginText' : 'beginLine' });
          this.i++;
          break;
        case '$':
          frame.cur.push({ t: 'assert', kind: this.flags.oneLine ? 'endText' : 'endLine' });
          this.i++;
          break;
        case '.':
          frame.cur.push({ t: 'any', dotNL: this.flags.dotNL });
          this.i++;
          break;
        case '[':
          frame.cur.push(this.parseClass());
          break;
        case '*':
        case '+':
        case '?': {
          const before = this.i;
          this.i = applyRepeat(c, c === '+' ? 1 : 0, c === '?' ? 1 : -1, before, before + 1);
          repeatStart = before;
          break;
        }
        case '{': {
          const before = this.i;
          const r = parseRepeat(s, before);
          if (!r) {
            frame.cur.push(this.lit(0x7b));
            this.i++;
            break;
          }
          const { min, max, end } = r;
          if (min < 0 || min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
            this.err('invalid repeat count', s.slice(before, end));
          }
          this.i = applyRepeat('{}', min, max, before, end);
          repeatStart = before;
          break;
        }
        case '\\': {
          const n = s[this.i + 1];
          if (n === 'A') {
            frame.cur.push({ t: 'assert', kind: 'beginText' });
            this.i += 2;
            break;
          }
          if (n === 'b' || n === 'B') {
            frame.cur.push({ t: 'assert', kind: n === 'b' ? 'wordB' : 'notWordB' });
            this.i += 2;
            break;
          }
          if (n === 'C') this.err('invalid escape sequence', '\\C');
          if (n === 'Q') {
            const end = s.indexOf('\\E', this.i + 2);
            const lit = end < 0 ? s.slice(this.i + 2) : s.slice(this.i + 2, end);
            let j = this.i + 2;
            for (let k = 0; k < lit.length; ) {
              const [cp, size] = this.rune(j);
              frame.cur.push(this.lit(cp));
              j += size;
              k += size;
            }
            this.i = end < 0 ? s.length : end + 2;
            break;
          }
          if (n === 'z') {
            frame.cur.push({ t: 'assert', kind: 'endText' });
            this.i += 2;
            break;
          }
          if (n === 'p' || n === 'P') {
            const u = this.parseUnicodeClass(this.i);
            if (u) {
              const items = Array.isArray(u.item) ? u.item : [u.item];
              frame.cur.push({ t: 'class', items, negated: false, fold: this.flags.fold });
              this.i = u.end;
              break;
            }
          }
          const perl = n !== undefined ? PERL_GROUPS[s.slice(this.i, this.i + 2)] : undefined;
          if (perl) {
            frame.cur.push({ t: 'class', items: perl.items, negated: perl.negated, fold: this.flags.fold });
            this.i += 2;
            break;
          }
          const [cp, end] = this.parseEscape(this.i);
          frame.cur.push(this.lit(cp));
          this.i = end;
          break;
        }
        default: {
          const [cp, size] = this.rune(this.i);
          frame.cur.push(this.lit(cp));
          this.i += size;
        }
      }
      lastRepeat = repeatStart;
    }
    if (stack.length > 0) this.err('missing closing )', s);
    frame.alts.push(frame.cur);
    const parsed = { alts: frame.alts };
    checkLimits(parsed, s);
    return parsed;
  }

  private lit(cp: number): Node {
    return { t: 'lit', cp, fold: this.flags.fold };
  }

  /**
   * `(?…`: named capture, flag change, or non-capturing group. Returns the flags
   * to restore at `)` when a group was opened, undefined for a bare flag change.
   */
  private parsePerlFlags(): { saved: Flags; capture: boolean } | undefined {
    const s = this.s;
    const start = this.i;
    const t = s.slice(start);
    const startsWithP = t.length > 4 && t[2] === 'P' && t[3] === '<';
    const startsWithName = t.length > 3 && t[2] === '<';
    if (startsWithP || startsWithName) {
      const exprStart = startsWithP ? 4 : 3;
      const end = t.indexOf('>');
      if (end < 0) {
        for (let j = start; j < s.length; ) j += this.rune(j)[1];
        this.err('invalid named capture', t);
      }
      const name = t.slice(exprStart, end);
      for (let j = start + exprStart; j < start + end; ) j += this.rune(j)[1];
      if (!/^[A-Za-z0-9_]+$/.test(name)) this.err('invalid named capture', t.slice(0, end + 1));
      this.i = start + end + 1;
      return { saved: { ...this.flags }, capture: true };
    }
    let j = start + 2;
    const flags = { ...this.flags };
    let negate = false;
    let sawFlag = false;
    while (j < s.length) {
      const [c, size] = this.rune(j);
      j += size;
      const ch = String.fromCodePoint(c);
      if (ch === 'i' || ch === 'm' || ch === 's' || ch === 'U') {
        const on = !negate;
        if (ch === 'i') flags.fold = on;
        else if (ch === 'm') flags.oneLine = !on;
        else if (ch === 's') flags.dotNL = on;
        else flags.nonGreedy = on;
        sawFlag = true;
        continue;
      }
      if (ch === '-') {
        if (negate) break;
        negate = true;
        sawFlag = false;
        continue;
      }
      if (ch === ':' || ch === ')') {
        if (negate && !sawFlag) break;
        const saved = { ...this.flags };
        this.flags = flags;
        this.i = j;
        return ch === ':' ? { saved, capture: false } : undefined;
      }
      break;
    }
    this.err('invalid or unsupported Perl syntax', s.slice(start, j));
  }

  /** Go's parseEscape: returns the rune and the index after the escape. */
  private parseEscape(start: number): [number, number] {
    const s = this.s;
    let t = start + 1;
    if (t >= s.length) this.err('trailing backslash at end of expression', '');
    let [c, size] = this.rune(t);
    t += size;
    const fail = (): never => this.err('invalid escape sequence', s.slice(start, t));
    if (c < 0x80 && !isAlnum(c)) return [c, t];
    // A lone non-zero digit is a backreference, which Go does not support.
    if (c >= 0x31 && c <= 0x37 && (t >= s.length || !isOctal(s.charCodeAt(t)))) return fail();
    switch (String.fromCodePoint(c)) {
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        let r = c - 0x30;
        for (let k = 1; k < 3 && t < s.length && isOctal(s.charCodeAt(t)); k++) {
          r = r * 8 + s.charCodeAt(t) - 0x30;
          t++;
        }
        return [r, t];
      }
      case 'x': {
        if (t >= s.length) return fail();
        [c, size] = this.rune(t);
        t += size;
        if (c === 0x7b) {
          let nhex = 0;
          let r = 0;
          for (;;) {
            if (t >= s.length) return fail();
            [c, size] = this.rune(t);
            t += size;
            if (c === 0x7d) break;
            const v = unhex(c);
            if (v < 0) return fail();
            r = r * 16 + v;
            if (r > MAX_RUNE) return fail();
            nhex++;
          }
          if (nhex === 0) return fail();
          return [r, t];
        }
        const x = unhex(c);
        let y = -1;
        if (t < s.length) {
          [c, size] = this.rune(t);
          t += size;
          y = unhex(c);
        }
        if (x < 0 || y < 0) return fail();
        return [x * 16 + y, t];
      }
      case 'a': return [0x07, t];
      case 'f': return [0x0c, t];
      case 'n': return [0x0a, t];
      case 'r': return [0x0d, t];
      case 't': return [0x09, t];
      case 'v': return [0x0b, t];
    }
    return fail();
  }

  /** `\pL`, `\p{Greek}`, `\P{^Lu}` at `start`; undefined when not a \p escape. */
  private parseUnicodeClass(start: number): { item: ClassItem | ClassItem[]; end: number } | undefined {
    const s = this.s;
    if (s[start] !== '\\' || (s[start + 1] !== 'p' && s[start + 1] !== 'P')) return undefined;
    let negated = s[start + 1] === 'P';
    let t = start + 2;
    let seq: string;
    let name: string;
    if (t < s.length && s[t] === '{') {
      const end = s.indexOf('}', start);
      if (end < 0) {
        for (let j = start; j < s.length; ) j += this.rune(j)[1];
        this.err('invalid character class range', s.slice(start));
      }
      seq = s.slice(start, end + 1);
      name = s.slice(start + 3, end);
      for (let j = start + 3; j < end; ) j += this.rune(j)[1];
      t = end + 1;
    } else {
      if (t < s.length) t += this.rune(t)[1];
      seq = s.slice(start, t);
      name = seq.slice(2);
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const table = UNICODE_TABLES.get(canon(name));
    if (!table || name === '' || /[^A-Za-z0-9_\- ]/.test(name)) this.err('invalid character class range', seq);
    if (Array.isArray(table)) {
      const items = negated ? negateRanges(table as { lo: number; hi: number }[]) : table;
      return { item: items, end: t };
    }
    return { item: { prop: table.prop, negated: negated !== !!table.negate }, end: t };
  }

  private parseClass(): Node {
    const s = this.s;
    const start = this.i;
    let t = start + 1;
    let negated = false;
    if (s[t] === '^') {
      negated = true;
      t++;
    }
    const items: ClassItem[] = [];
    let first = true;
    while (t >= s.length || s[t] !== ']' || first) {
      first = false;
      if (s.length - t > 2 && s[t] === '[' && s[t + 1] === ':') {
        const close = s.indexOf(':]', t + 2);
        if (close >= 0) {
          const name = s.slice(t, close + 2);
          let inner = name.slice(2, -2);
          const neg = inner.startsWith('^');
          if (neg) inner = inner.slice(1);
          const base = Object.hasOwn(POSIX_BASE, inner) ? POSIX_BASE[inner] : undefined;
          if (!base) this.err('invalid character class range', name);
          items.push(...(neg ? negateRanges(base as { lo: number; hi: number }[]) : base));
          t = close + 2;
          continue;
        }
      }
      const u = this.parseUnicodeClass(t);
      if (u) {
        items.push(...(Array.isArray(u.item) ? u.item : [u.item]));
        t = u.end;
        continue;
      }
      const perl = s[t] === '\\' ? PERL_GROUPS[s.slice(t, t + 2)] : undefined;
      if (perl) {
        items.push(...(perl.negated ? negateRanges(perl.items as { lo: number; hi: number }[]) : perl.items));
        t += 2;
        continue;
      }
      const rangeStart = t;
      let lo: number;
      [lo, t] = this.parseClassChar(t, start);
      let hi = lo;
      if (s.length - t >= 2 && s[t] === '-' && s[t + 1] !== ']') {
        [hi, t] = this.parseClassChar(t + 1, start);
        if (hi < lo) this.err('invalid character class range', s.slice(rangeStart, t));
      }
      items.push({ lo, hi });
    }
    this.i = t + 1;
    return { t: 'class', items, negated, fold: this.flags.fold };
  }

  private parseClassChar(t: number, classStart: number): [number, number] {
    if (t >= this.s.length) this.err('missing closing ]', this.s.slice(classStart));
    if (this.s[t] === '\\') return this.parseEscape(t);
    const [c, size] = this.rune(t);
    return [c, t + size];
  }
}

/** `{n}`, `{n,}`, `{n,m}` at `start`; undefined when `{` is a literal. min -1 = too big. */
function parseRepeat(s: string, start: number): { min: number; max: number; end: number } | undefined {
  let t = start + 1;
  const num = (): number | undefined => {
    if (t >= s.length || !isDigit(s.charCodeAt(t))) return undefined;
    if (s[t] === '0' && t + 1 < s.length && isDigit(s.charCodeAt(t + 1))) return undefined;
    let n = 0;
    for (; t < s.length && isDigit(s.charCodeAt(t)); t++) n = n >= 1e8 ? -1 : n === -1 ? -1 : n * 10 + s.charCodeAt(t) - 0x30;
    return n;
  };
  let min = num();
  if (min === undefined || t >= s.length) return undefined;
  let max: number;
  if (s[t] !== ',') {
    max = min;
  } else {
    t++;
    if (t >= s.length) return undefined;
    if (s[t] === '}') {
      max = -1;
    } else {
      const m = num();
      if (m === undefined) return undefined;
      max = m;
      if (max < 0) min = -1;
    }
  }
  if (t >= s.length || s[t] !== '}') return undefined;
  return { min, max, end: t + 1 };
}

function repeatIsValid(node: Node, n: number): boolean {
  if (node.t === 'repeat' && node.op === '{}') {
    let m = node.max;
    if (m === 0) return true;
    if (m < 0) m = node.min;
    if (m > n) return false;
    if (m > 0) n = Math.floor(n / m);
  }
  if (node.t === 'repeat') return repeatIsValid(node.sub, n);
  if (node.t === 'group') return node.alts.every((a) => a.every((x) => repeatIsValid(x, n)));
  return true;
}

/** Go's height and program-size limits, estimated on our tree (only huge patterns reach them). */
function checkLimits(p: Parsed, s: string): void {
  const height = (n: Node): number => {
    if (n.t === 'repeat') return 1 + height(n.sub);
    if (n.t === 'group') return (n.capture ? 1 : 0) + seqsHeight(n.alts);
    return 1;
  };
  // Go merges adjacent literals into one node and drops single-element concats.
  const seqHeight = (a: Node[]): number => {
    if (a.length === 0 || a.every((x) => x.t === 'lit')) return 1;
    if (a.length === 1) return height(a[0]);
    return 1 + Math.max(...a.map(height));
  };
  const seqsHeight = (alts: Node[][]): number => {
    const h = Math.max(...alts.map(seqHeight));
    return alts.length > 1 ? h + 1 : h;
  };
  const size = (n: Node): number => {
    switch (n.t) {
      case 'group': {
        const inner = altsSize(n.alts);
        return n.capture ? 2 + inner : inner;
      }
      case 'repeat': {
        const sub = size(n.sub);
        if (n.op === '*') return 2 + sub;
        if (n.op === '+' || n.op === '?') return 1 + sub;
        if (n.max === -1) return n.min === 0 ? 2 + sub : 1 + n.min * sub;
        return Math.max(1, n.max * sub + (n.max - n.min));
      }
      default:
        return 1;
    }
  };
  const altsSize = (alts: Node[][]): number => {
    let total = alts.length - 1;
    for (const a of alts) for (const x of a) total += size(x);
    return Math.max(1, total);
  };
  if (seqsHeight(p.alts) > MAX_HEIGHT) throw new GoSyntaxError('expression nests too deeply', s);
  if (altsSize(p.alts) > MAX_SIZE) throw new GoSyntaxError('expression too large', s);
}

function negateRanges(items: { lo: number; hi: number }[]): ClassItem[] {
  const sorted = [...items].sort((a, b) => a.lo - b.lo);
  const out: ClassItem[] = [];
  let next = 0;
  for (const { lo, hi } of sorted) {
    if (lo > next) out.push({ lo: next, hi: lo - 1 });
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push({ lo: next, hi: MAX_RUNE });
  return out;
}

function parse(pattern: string, fold: boolean): Parsed {
  return new Parser(pattern, fold).parse();
}

/**
 * What Go's regexp/syntax (Perl flags) rejects, with Go's message text, e.g.
 * "error parsing regexp: trailing backslash at end of expression: ``".
 */
export function checkGoRegexp(pattern: string): { ok: true } | { ok: false; message: string } {
  try {
    parse(pattern, false);
    return { ok: true };
  } catch (e) {
    if (e instanceof GoSyntaxError) return { ok: false, message: e.message };
    // RangeError from pathological recursion depth is still "too deep" for Go.
    return { ok: false, message: new GoSyntaxError('expression nests too deeply', pattern).message };
  }
}

// ---------------------------------------------------------------------------
// Translation to JavaScript.

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/-'.split('').map((c) => c.charCodeAt(0)));

interface Emit {
  unicode: boolean;
  globalFold: boolean;
}

/** Case variants of one code point, as Go's simple folding would find them. */
function caseVariants(cp: number): number[] {
  const out = new Set<number>([cp]);
  const ch = String.fromCodePoint(cp);
  for (const v of [ch.toLowerCase(), ch.toUpperCase()]) {
    const arr = Array.from(v);
    if (arr.length === 1) out.add(arr[0].codePointAt(0)!);
  }
  for (const v of [...out]) {
    const lower = Array.from(String.fromCodePoint(v).toLowerCase());
    if (lower.length === 1) out.add(lower[0].codePointAt(0)!);
  }
  // Go folds these into ASCII letters: ſ ↔ s/S, K (Kelvin) ↔ k/K.
  if (cp === 0x73 || cp === 0x53) out.add(0x17f);
  if (cp === 0x6b || cp === 0x4b) out.add(0x212a);
  return [...out].sort((a, b) => a - b);
}

function escCp(cp: number, e: Emit, inClass: boolean): string {
  if (isAlnum(cp) || cp === 0x5f) return String.fromCharCode(cp);
  if (cp < 0x80 && cp > 0x20 && JS_SYNTAX.has(cp)) {
    // `-` is only a syntax character inside classes; outside, `\-` is invalid under 'u'.
    if (cp === 0x2d && !inClass) return '-';
    return '\\' + String.fromCharCode(cp);
  }
  if (cp > 0x20 && cp < 0x7f) return String.fromCharCode(cp);
  if (cp <= 0xffff) return '\\u' + cp.toString(16).padStart(4, '0');
  return e.unicode ? `\\u{${cp.toString(16)}}` : String.fromCodePoint(cp);
}

function mergeRanges(ranges: { lo: number; hi: number }[]): { lo: number; hi: number }[] {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo || b.hi - a.hi);
  const out: { lo: number; hi: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1) last.hi = Math.max(last.hi, r.hi);
    else out.push({ ...r });
  }
  return out;
}

function foldItems(items: ClassItem[]): ClassItem[] {
  const out: ClassItem[] = [];
  for (const it of items) {
    if ('prop' in it) {
      // Cased-letter subcategories fold into each other.
      out.push(['Lu', 'Ll', 'Lt'].includes(it.prop) && !it.negated ? { prop: 'LC', negated: false } : it);
      continue;
    }
    out.push(it);
    if (it.hi - it.lo > 0x3000) continue; // huge ranges already hold their folds in practice
    for (let c = it.lo; c <= it.hi; c++) {
      for (const v of caseVariants(c)) if (v < it.lo || v > it.hi) out.push({ lo: v, hi: v });
    }
  }
  return out;
}

function emitClass(n: Extract<Node, { t: 'class' }>, e: Emit): string {
  const items = n.fold ? foldItems(n.items) : n.items;
  const ranges = mergeRanges(items.filter((x): x is { lo: number; hi: number } => 'lo' in x));
  const props = items.filter((x): x is { prop: string; negated: boolean } => 'prop' in x);
  let body = '';
  for (const r of ranges) {
    body += escCp(r.lo, e, true);
    if (r.hi > r.lo) body += (r.hi > r.lo + 1 ? '-' : '') + escCp(r.hi, e, true);
  }
  for (const p of props) body += `\\${p.negated ? 'P' : 'p'}{${p.prop}}`;
  return `[${n.negated ? '^' : ''}${body}]`;
}

function emitNode(n: Node, e: Emit): string {
  switch (n.t) {
    case 'lit': {
      if (n.fold) {
        // Even under the 'i' flag, V8 without 'u' does not fold K (Kelvin) or ſ into ASCII as Go does.
        const vs = caseVariants(n.cp);
        if (vs.length > (e.globalFold ? 2 : 1)) return '[' + vs.map((v) => escCp(v, e, true)).join('') + ']';
      }
      return escCp(n.cp, e, false);
    }
    case 'class':
      return emitClass(n, e);
    case 'any':
      // JS `.` also stops at \r and U+2028/9; Go's stops only at \n.
      return n.dotNL ? '[\\s\\S]' : '[^\\n]';
    case 'assert':
      switch (n.kind) {
        case 'beginText': return '^';
        case 'endText': return '$';
        // Lines are matched one at a time, so (?m) anchors are the text anchors; a lookaround here would
        // also keep V8 from falling back to its linear-time engine.
        case 'beginLine': return '^';
        case 'endLine': return '$';
        case 'wordB': return '\\b';
        case 'notWordB': return '\\B';
      }
      break;
    case 'group':
      return '(?:' + n.alts.map((a) => a.map((x) => emitNode(x, e)).join('')).join('|') + ')';
    case 'repeat': {
      let sub = emitNode(n.sub, e);
      // JS cannot quantify assertions or quantifiers directly.
      if (n.sub.t === 'assert' || n.sub.t === 'repeat') sub = `(?:${sub})`;
      if (n.op === '{}' && (n.min > LINEAR_MAX_COUNT || n.max > LINEAR_MAX_COUNT || (n.max === -1 && n.min >= LINEAR_MAX_COUNT))) return splitCount(sub, n.min, n.max) + (n.lazy ? '?' : '');
      const q =
        n.op === '{}'
          ? n.max === -1
            ? `{${n.min},}`
            : n.max === n.min
              ? `{${n.min}}`
              : `{${n.min},${n.max}}`
          : n.op;
      return sub + q + (n.lazy ? '?' : '');
    }
  }
  return '';
}

/** V8's linear-time engine refuses a counted repetition above 16 (but accepts several in a row). */
const LINEAR_MAX_COUNT = 16;

/**
 * x{n,m} as a chain of counts the linear engine accepts: x{16}x{16}x{0,16}… matches the same lines
 * (lines are only tested, so greedy or lazy makes no difference).
 */
function splitCount(sub: string, min: number, max: number): string {
  const parts: string[] = [];
  let need = min;
  for (; need > LINEAR_MAX_COUNT; need -= LINEAR_MAX_COUNT) parts.push(`${sub}{${LINEAR_MAX_COUNT}}`);
  if (max === -1) {
    parts.push(need > 0 ? `${sub}{${need - 1}}${sub}+` : `${sub}*`);
    return parts.join('');
  }
  if (need > 0) parts.push(`${sub}{${need}}`);
  for (let extra = max - min; extra > 0; extra -= LINEAR_MAX_COUNT) parts.push(`${sub}{0,${Math.min(extra, LINEAR_MAX_COUNT)}}`);
  return parts.join('');
}

function walk(nodes: Node[][], fn: (n: Node) => void): void {
  for (const a of nodes) {
    for (const n of a) {
      fn(n);
      if (n.t === 'group') walk(n.alts, fn);
      if (n.t === 'repeat') walk([[n.sub]], fn);
    }
  }
}

/** journalctl's smart case: an ASCII capital anywhere in the pattern text makes it case-sensitive. */
export function isSmartCaseInsensitive(pattern: string): boolean {
  return !/[A-Z]/.test(pattern);
}

/**
 * Translate a Go pattern into an equivalent JavaScript RegExp for local line
 * filtering. Throws the Go parse error for patterns Go rejects (callers validate
 * first with checkGoRegexp). `smartCase`: case-insensitive when the pattern has
 * no uppercase letter, as journalctl --grep does for service queries.
 */
export function goRegexpToJs(pattern: string, opts: { smartCase: boolean }): RegExp {
  const parsed = parse(pattern, opts.smartCase && isSmartCaseInsensitive(pattern));
  let needsU = false;
  let anyCased = false;
  let allFold = true;
  walk(parsed.alts, (n) => {
    if (n.t === 'lit') {
      if (n.cp > 0xffff || (n.cp >= 0xd800 && n.cp <= 0xdfff)) needsU = true;
      if (caseVariants(n.cp).length > 1) {
        anyCased = true;
        if (!n.fold) allFold = false;
      }
    } else if (n.t === 'class') {
      if (n.items.some((x) => 'prop' in x || x.hi > 0xffff)) needsU = true;
      anyCased = true;
      if (!n.fold) allFold = false;
    }
  });
  // Case folding is spelled out as classes ([kK\u212a]) rather than the 'i' flag: V8's linear-time fallback
  // for runaway backtracking does not cover 'i' (nor 'u'), and a user pattern must never stall the process.
  void anyCased;
  void allFold;
  const e: Emit = { unicode: needsU, globalFold: false };
  const source = parsed.alts.map((a) => a.map((x) => emitNode(x, e)).join('')).join('|');
  return new RegExp(source === '' ? '(?:)' : source, needsU ? 'u' : '');
}

/**
 * The pattern as a RegExp for matching lines in this process, compiled for V8's linear-time engine (flag
 * `l`): a user pattern can never stall the event loop, whatever its shape. Throws LocalPatternError for
 * patterns that engine cannot run (counted repetitions above about 16, Unicode classes).
 */
export function compileLocalPattern(pattern: string): RegExp {
  const cost = repeatWeight(parse(pattern, false).alts);
  if (cost > MAX_LOCAL_REPEATS)
    throw new LocalPatternError(
      `it has ${cost > 10_000 ? 'over 10000' : cost} repetitions (*, +, ?, {n,m}, counted repetitions times their count); at most ${MAX_LOCAL_REPEATS} are run here, since each one adds to the time every line takes (a chain like ".*.*.*…" costs seconds per thousand lines)`,
    );
  const js = goRegexpToJs(pattern, { smartCase: true });
  try {
    return new RegExp(js.source, `${js.flags}l`);
  } catch {
    throw new LocalPatternError(
      js.unicode
        ? 'it needs Unicode property classes (\\p{…}) or characters outside the Basic Multilingual Plane, which local matching cannot run in linear time'
        : 'it cannot be run in linear time here (counted repetitions such as {17} or {0,20} are limited to about 16; write them out or use + / *)',
    );
  }
}

export class LocalPatternError extends Error {}

/**
 * Repetitions that stay alive in V8's linear-time engine (a Pike VM): its time per character grows with the
 * number of threads a pattern can keep running, i.e. with its repetitions, and a counted repetition is
 * unrolled. `'.*'` × 300 costs milliseconds per line; 32 keeps the worst pattern to a few seconds per megabyte,
 * and the filter's time budget and slicing (local-filter.ts) bound the rest.
 */
export const MAX_LOCAL_REPEATS = 32;

function repeatWeight(alts: Node[][]): number {
  let w = 0;
  for (const a of alts) {
    for (const n of a) {
      if (n.t === 'group') w += repeatWeight(n.alts);
      else if (n.t === 'repeat') {
        // A counted repetition is unrolled: x{40} is 40 states, up to 40 threads alive on a long run of x.
        const copies = n.op === '{}' ? Math.max(1, n.max >= 0 ? n.max : n.min + 1) : 1;
        w += copies * (1 + repeatWeight([[n.sub]]));
      }
      if (w > 10_000) return w;
    }
  }
  return w;
}

/** Why a pattern cannot be matched locally (file queries), if it cannot; undefined when it can. */
export function localPatternProblem(pattern: string): string | undefined {
  try {
    compileLocalPattern(pattern);
    return undefined;
  } catch (err) {
    return err instanceof LocalPatternError ? err.message : undefined; // invalid patterns are reported by checkGoRegexp
  }
}

import { describe, expect, it } from 'vitest';
import { checkGoRegexp, compileLocalPattern, goRegexpToJs, localPatternProblem } from '../src/query/go-regexp.js';

// Expected texts are Go's: syntax.Error.Error() = "error parsing regexp: " + code + ": `" + expr + "`"
// (golang/go src/regexp/syntax/parse.go; cases from parse_test.go invalidRegexps plus Perl-only syntax Go lacks).
const rejected: [string, string][] = [
  ['foo\\', 'trailing backslash at end of expression: ``'],
  ['(', 'missing closing ): `(`'],
  [')', 'unexpected ): `)`'],
  ['(a', 'missing closing ): `(a`'],
  ['a)', 'unexpected ): `a)`'],
  ['(a))', 'unexpected ): `(a))`'],
  ['(a|b|', 'missing closing ): `(a|b|`'],
  ['a|b|)', 'unexpected ): `a|b|)`'],
  ['[a-z', 'missing closing ]: `[a-z`'],
  ['([a-z)', 'missing closing ]: `[a-z)`'],
  ['x{1001}', 'invalid repeat count: `{1001}`'],
  ['x{9876543210}', 'invalid repeat count: `{9876543210}`'],
  ['x{2,1}', 'invalid repeat count: `{2,1}`'],
  ['(?P<name>a', 'missing closing ): `(?P<name>a`'],
  ['(?P<name', 'invalid named capture: `(?P<name`'],
  ['(?P<x y>a)', 'invalid named capture: `(?P<x y>`'],
  ['(?P<>a)', 'invalid named capture: `(?P<>`'],
  ['(?<>a)', 'invalid named capture: `(?<>`'],
  ['[a-Z]', 'invalid character class range: `a-Z`'],
  ['(?i)[a-Z]', 'invalid character class range: `a-Z`'],
  ['\\Q\\E*', 'missing argument to repetition operator: `*`'],
  ['a{100000}', 'invalid repeat count: `{100000}`'],
  ['((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})', 'invalid repeat count: `{2}`'],
  // Perl/PCRE features Go does not have
  ['(a)\\1', 'invalid escape sequence: `\\1`'],
  ['a(?=b)', 'invalid or unsupported Perl syntax: `(?=`'],
  ['a(?!b)', 'invalid or unsupported Perl syntax: `(?!`'],
  ['(?<=a)b', 'invalid named capture: `(?<=a)b`'],
  ['(?<!a)b', 'invalid named capture: `(?<!a)b`'],
  ['(?>ab)', 'invalid or unsupported Perl syntax: `(?>`'],
  ['a++', 'invalid nested repetition operator: `++`'],
  ['a*+', 'invalid nested repetition operator: `*+`'],
  ['a**', 'invalid nested repetition operator: `**`'],
  ['a*??', 'invalid nested repetition operator: `*??`'],
  ['x{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
  ['end\\Z', 'invalid escape sequence: `\\Z`'],
  ['\\C', 'invalid escape sequence: `\\C`'],
  ['\\G', 'invalid escape sequence: `\\G`'],
  ['\\e', 'invalid escape sequence: `\\e`'],
  ['\\8', 'invalid escape sequence: `\\8`'],
  ['[\\b]', 'invalid escape sequence: `\\b`'],
  ['\\x', 'invalid escape sequence: `\\x`'],
  ['\\x{}', 'invalid escape sequence: `\\x{}`'],
  ['\\x{110000}', 'invalid escape sequence: `\\x{110000`'],
  ['\\xZ1', 'invalid escape sequence: `\\xZ1`'],
  ['\\p{Foo}', 'invalid character class range: `\\p{Foo}`'],
  ['\\pX', 'invalid character class range: `\\pX`'],
  ['\\p{Greek', 'invalid character class range: `\\p{Greek`'],
  ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
  ['[z-a]', 'invalid character class range: `z-a`'],
  ['*', 'missing argument to repetition operator: `*`'],
  ['+x', 'missing argument to repetition operator: `+`'],
  ['(?i)*', 'missing argument to repetition operator: `*`'],
  ['a|*', 'missing argument to repetition operator: `*`'],
  ['(*)', 'missing argument to repetition operator: `*`'],
  ['{2}?', 'missing argument to repetition operator: `{2}?`'],
  ['(?#comment)', 'invalid or unsupported Perl syntax: `(?#`'],
  ['(?P=name)', 'invalid or unsupported Perl syntax: `(?P`'],
  ['(?', 'invalid or unsupported Perl syntax: `(?`'],
  ['(?i', 'invalid or unsupported Perl syntax: `(?i`'],
  ['(?-)', 'invalid or unsupported Perl syntax: `(?-)`'],
  ['(?i-:a)', 'invalid or unsupported Perl syntax: `(?i-:`'],
  ['(?x)a', 'invalid or unsupported Perl syntax: `(?x`'],
  ['a\ud800', 'invalid UTF-8: `\ud800`'],
  ['('.repeat(1000) + ')'.repeat(1000), 'expression nests too deeply: `' + '('.repeat(1000) + ')'.repeat(1000) + '`'],
  ['(xx?){1000}'.repeat(1000), 'expression too large: `' + '(xx?){1000}'.repeat(1000) + '`'],
];

const accepted = [
  '', 'kubelet', 'error|warn', '(?i)error', '(?i:err)or', '(?s).', '(?m)^a$', '(?U)a+', '(?i-s:a.)', '(?)',
  '\\Qa.b*\\E', '\\Qunterminated', 'a(?i)*', '^*', '\\b*', '\\A\\z', 'a{,2}', 'a{01}', 'a{', 'x{1000}', 'x{2}y{1000}',
  '(?P<name>a)', '(?<name>a)', '[]a]', '[^]a]', '[a-b-c]', '[[:alpha:][:^digit:]]', '[\\d\\s\\w\\D]', '\\pL', '\\p{Greek}',
  '\\p{^Greek}', '\\PL', '\\p{Any}', '\\p{Lu}', '\\x41', '\\x{1F600}', '\\101', '\\0', '\\_', '\\-', '\\ ', '()', '(|a)', 'a||b',
  'é+', '日本', 'E0[0-9]{3}', 'level=(error|warn)', '\\[ERROR\\]', '(a*)*', 'a*?', 'a+?', 'a??', 'x{2,3}?',
];

describe('checkGoRegexp', () => {
  it.each(rejected)('rejects %j like Go', (pattern, expected) => {
    expect(checkGoRegexp(pattern)).toEqual({ ok: false, message: `error parsing regexp: ${expected}` });
  });
  it.each(accepted)('accepts %j like Go', (pattern) => {
    expect(checkGoRegexp(pattern)).toEqual({ ok: true });
  });
});

describe('goRegexpToJs: same matches as Go on sample lines', () => {
  // [pattern, smartCase, lines that match, lines that do not]
  const cases: [string, boolean, string[], string[]][] = [
    ['error', false, ['an error here'], ['an ERROR here', 'err']],
    ['error', true, ['an error here', 'an ERROR here', 'Error'], ['err']],
    ['Error', true, ['Error'], ['error', 'ERROR']],
    ['(?i)error', false, ['ERROR', 'eRrOr'], ['err']],
    ['a(?i)b', false, ['ab', 'aB'], ['Ab', 'AB']],
    ['(?i:a)b', false, ['ab', 'Ab'], ['aB']],
    ['(?i)a(?-i)b', false, ['Ab', 'ab'], ['aB', 'AB']],
    ['x.y', false, ['xzy', 'x\ry'], ['x\ny', 'xy']],
    ['(?s)x.y', false, ['x\ny'], ['xy']],
    ['^a$', false, ['a'], ['ba', 'a\nb', 'b\na']],
    // Lines are matched one at a time: (?m) anchors behave as the line's own start and end.
    ['(?m)^a$', false, ['a'], ['ba', 'ab']],
    ['\\Aab\\z', false, ['ab'], ['ab\n', 'xab']],
    ['\\s', false, [' ', '\t', '\r'], ['\v', '\u00a0', 'x']],
    ['\\S+', false, ['x'], ['  ']],
    ['\\d{3}', false, ['E123'], ['E12', 'E١٢٣']],
    ['\\w+$', false, ['abc_1'], ['abc-']],
    ['[[:upper:]][[:digit:]]', false, ['A1'], ['a1', 'AA']],
    ['[[:^alpha:]]', false, ['1'], ['abc']],
    ['\\Qa.b*\\E', false, ['xa.b*y'], ['aab', 'a.bbb']],
    ['\\pL+\\d', false, ['été1'], ['1']],
    ['\\p{Greek}', false, ['αβ'], ['ab']],
    ['\\PL', false, ['1'], ['abc']],
    ['[^a]', false, ['b', '\n'], ['a', 'aaa']],
    ['(?i)[^a]', false, ['b'], ['a', 'A', 'aA']],
    ['(?i)k', false, ['K', 'k', '\u212a'], ['x']],
    ['(?i)[a-z]+', false, ['\u017f', 'ABC'], ['123']],
    ['(?P<lvl>warn|error)=\\d+', false, ['error=12'], ['error=']],
    ['a{2,3}?b', false, ['aab'], ['ab']],
    ['(?U)a+', false, ['a'], ['b']],
    ['\\x{1F600}', false, ['smile 😀'], ['smile']],
    ['😀+', false, ['😀😀'], ['x']],
    ['a\\-b\\/c', false, ['a-b/c'], ['abc']],
    ['\\bword\\b', false, ['a word here'], ['swordfish']],
    ['^*x', false, ['x'], ['y']],
    ['\\101\\x42', false, ['AB'], ['ab']],
    ['', false, ['anything', ''], []],
    ['[\\d\\-]+', false, ['1-2'], ['ab']],
    ['\\p{Any}', false, ['x'], ['']],
  ];
  it.each(cases)('%j (smartCase %s)', (pattern, smartCase, yes, no) => {
    const re = goRegexpToJs(pattern, { smartCase });
    for (const line of yes) expect(re.test(line), `${re} should match ${JSON.stringify(line)}`).toBe(true);
    for (const line of no) expect(re.test(line), `${re} should not match ${JSON.stringify(line)}`).toBe(false);
  });

  it("never uses the 'i' flag and keeps 'u' off unless needed (both defeat V8's linear-time fallback)", () => {
    expect(goRegexpToJs('error.*timeout', { smartCase: false }).flags).toBe('');
    const folded = goRegexpToJs('error', { smartCase: true });
    expect(folded.flags).toBe('');
    expect(folded.test('ERROR')).toBe(true);
    expect(folded.test('eRrOr')).toBe(true);
    expect(goRegexpToJs('(?i)kelvin', { smartCase: false }).test('\u212aELVIN')).toBe(true);
    expect(goRegexpToJs('\\pL', { smartCase: false }).flags).toBe('u');
    expect(goRegexpToJs('😀', { smartCase: false }).flags).toBe('u');
  });

  it('stays fast on patterns built to backtrack, case-folded or not', async () => {
    await import('../src/v8-flags.js');
    const line = 'a'.repeat(40) + '!';
    for (const p of ['(a+)+$', '(a|aa)+$', '(?i)(a+)+$', '(?m)^(a+)+$']) {
      const re = goRegexpToJs(p, { smartCase: true });
      // Without the linear-time fallback each of these takes minutes on a 41-character line.
      expect(re.test(line)).toBe(false);
    }
  });

  it('compiles local patterns for the linear-time engine, case-folded', () => {
    const re = compileLocalPattern('error|fail');
    expect(re.flags).toContain('l');
    expect(re.test('ERROR here')).toBe(true);
    expect(compileLocalPattern('(a+)+$').test('a'.repeat(5000) + '!')).toBe(false);
  });

  it('names the patterns that cannot run locally', () => {
    expect(localPatternProblem('\\pL+')).toMatch(/Unicode property/);
    expect(localPatternProblem('error|fail')).toBeUndefined();
    // Shapes the backtracking fallback does not catch: refused rather than run.
    for (const p of ['(?:a+){2,30}$', '(?:(?:a|b)+){20}']) expect(localPatternProblem(p), p).toMatch(/linear time|repetitions/);
    // Counted repetitions above V8's limit of 16 are split into a chain it accepts (same lines match).
    for (const p of ['(a+)+b{0,20}$', '(a*)*c{17}', '^[A-Za-z0-9+/=]{16,}$', 'x{20}']) expect(localPatternProblem(p), p).toBeUndefined();
    expect(localPatternProblem('^I\\d{4} ')).toBeUndefined();
  });

  it('bounds the repetitions a local pattern may hold: the stall pattern is refused, everyday ones are not', () => {
    // '.*' × 300 + 'zzz' cost seconds per thousand lines in V8's linear engine (issue 17).
    expect(localPatternProblem('.*'.repeat(300) + 'zzz')).toMatch(/300 repetitions.*at most 32/);
    expect(localPatternProblem('.*'.repeat(33))).toMatch(/33 repetitions/);
    expect(localPatternProblem('(?:[a-z]+){17}')).toMatch(/repetitions/);
    expect(localPatternProblem('[a-z]{40}')).toMatch(/40 repetitions/);
    for (const p of ['.*'.repeat(32), 'x509.*expired', '(?:\\d{1,3}\\.){3}\\d{1,3}', '\\d{4}-\\d{2}-\\d{2}T', 'error|fail(ed)?|panic', 'E\\d{4} .*(timeout|refused)'])
      expect(localPatternProblem(p), p).toBeUndefined();
  });

  it('throws the Go error for patterns Go rejects', () => {
    expect(() => goRegexpToJs('(?=x)', { smartCase: true })).toThrow(/invalid or unsupported Perl syntax/);
  });
});

describe('counted repetitions above 16 (split for the linear engine)', () => {
  it('match exactly the lines the plain count matches', async () => {
    const { compileLocalPattern } = await import('../src/query/go-regexp.js');
    const cases: [string, RegExp][] = [
      ['x{20}', /x{20}/],
      ['^x{16,}$', /^x{16,}$/],
      ['^x{17,}$', /^x{17,}$/],
      ['^x{3,30}$', /^x{3,30}$/],
      ['^(?:ab){0,18}c$', /^(?:ab){0,18}c$/],
      ['^x{31}$', /^x{31}$/],
    ];
    for (const [go, js] of cases) {
      const re = compileLocalPattern(go);
      for (let n = 0; n <= 45; n++) {
        for (const line of ['x'.repeat(n), `${'ab'.repeat(n)}c`]) expect(re.test(line), `${go} on ${line}`).toBe(js.test(line));
      }
    }
  });
});

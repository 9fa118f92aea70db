/**
 * journalctl --grep compiles its pattern with PCRE2 and matches it against MESSAGE. Patterns reaching
 * it have passed the kubelet's Go regexp check, so they are RE2/Perl syntax; this turns the parts of
 * that syntax JavaScript spells differently into JS and applies journalctl's smart case.
 */
export type CompiledPattern = { ok: true; regex: RegExp } | { ok: false; error: string };

const POSIX: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: '0-9A-Za-z', upper: 'A-Z', lower: 'a-z', space: '\\t\\n\\v\\f\\r ',
  blank: '\\t ', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};

function escapeLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function translate(src: string): { source: string; flags: string } {
  let flags = '';
  let p = src;
  // Leading inline flags, e.g. "(?i)" or "(?is)"; JS (Node 20) has no inline modifiers.
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) if (f !== 'U' && !flags.includes(f)) flags += f;
    p = p.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '\\') {
      const nx = p[i + 1];
      if (nx === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = end < 0 ? p.slice(i + 2) : p.slice(i + 2, end);
        out += escapeLiteral(lit);
        i = end < 0 ? p.length : end + 1;
        continue;
      }
      if (!inClass && nx === 'A') { out += '^'; i++; continue; }
      if (!inClass && (nx === 'z' || nx === 'Z')) { out += '$'; i++; continue; }
      out += ch + (nx ?? '');
      i++;
      continue;
    }
    if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (posix && POSIX[posix[2]!] !== undefined) {
        out += posix[1] ? '' : POSIX[posix[2]!];
        i += posix[0].length - 1;
        continue;
      }
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      // A ']' right after '[' or '[^' is literal in PCRE and RE2.
      if (p[i + 1] === '^') { out += '^'; i++; }
      if (p[i + 1] === ']') { out += '\\]'; i++; }
      continue;
    }
    if (ch === '(' && p.startsWith('(?P<', i)) { out += '(?<'; i += 3; continue; }
    out += ch;
  }
  return { source: out, flags };
}

const PCRE_MESSAGES: [RegExp, string][] = [
  [/Unterminated group/i, 'missing closing parenthesis'],
  [/Unmatched '\)'/i, 'unmatched closing parenthesis'],
  [/Unterminated character class/i, 'missing terminating ] for character class'],
  [/Nothing to repeat/i, 'quantifier does not follow a repeatable item'],
  [/\\ at end of pattern/i, '\\ at end of pattern'],
  [/numbers out of order/i, 'numbers out of order in {} quantifier'],
  [/Range out of order/i, 'range out of order in character class'],
];

/**
 * Smart case as in journalctl: caseless unless the pattern text contains an uppercase letter
 * anywhere (so "\S" or "\W" also make it case-sensitive, exactly like PCRE2's [[:upper:]] probe).
 */
export function compileGrep(pattern: string): CompiledPattern {
  const { source, flags } = translate(pattern);
  const caseless = !/[A-Z]/.test(pattern);
  try {
    return { ok: true, regex: new RegExp(source, flags.includes('i') || !caseless ? flags : flags + 'i') };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const mapped = PCRE_MESSAGES.find(([re]) => re.test(msg));
    return { ok: false, error: `Bad pattern "${pattern}": ${mapped ? mapped[1] : 'syntax error'}` };
  }
}

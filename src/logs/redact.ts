/**
 * Secret redaction for node log lines (log-summarization.md §4). Runs before anything is kept.
 * Most lines carry no secret, so a case-insensitive literal prefilter decides whether the rule set runs
 * at all. No entropy detectors: every containerd id is 64 hex characters and must stay readable.
 */

import { canonicalText } from './canonical.js';
import { PREFILTER_PARTS } from './secret-hints.js';

export interface Redactor {
  redactLine(line: string): string;
  /** Redactions so far, by kind. */
  counts: Record<string, number>;
  /** Takes the last line's redactions back out of `counts` (a line dropped after redaction). */
  forgetLastLine(): void;
  /** The last line held something redacted (or hidden characters removed): it is not the line as read. */
  lastLineChanged: boolean;
  /**
   * For a line in which the secret-hint automaton found nothing (secretHints: no prefilter keyword, no
   * hidden character, no "curl"): makes the checks the automaton leaves out (a PEM block in progress, an
   * orphan key line, a URL with '@', the bootstrap-token shape). True means redactLine would return the
   * line unchanged and count nothing; the redactor's state is then as if it had run.
   */
  passesUnchanged(line: string): boolean;
}

// Literal keywords of every rule (src/logs/secret-hints.ts); a line without any of them skips the rule set
// (except the bootstrap token shape, which has no keyword and gets its own cheap test).
const PREFILTER = new RegExp(PREFILTER_PARTS.join('|'));

const BOOTSTRAP = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;

function isLowerAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

/** Cheap scan for the bootstrap-token shape around each '.', so the regex only runs on candidates. */
function mayHaveBootstrapToken(s: string): boolean {
  let dot = s.indexOf('.', 6);
  while (dot !== -1 && dot + 16 < s.length) {
    if (
      isLowerAlnum(s.charCodeAt(dot - 1)) && isLowerAlnum(s.charCodeAt(dot - 6)) &&
      !isLowerAlnum(s.charCodeAt(dot - 7)) && isLowerAlnum(s.charCodeAt(dot + 16)) &&
      !isLowerAlnum(s.charCodeAt(dot + 17))
    ) {
      return true;
    }
    dot = s.indexOf('.', dot + 1);
  }
  return false;
}

/** A URL with user info (scheme://user:pass@host) has no keyword: the rules run on any '@' with a "://". */
function mayHoldUrlCredentials(s: string): boolean {
  return s.indexOf('@') >= 0 && s.includes('://');
}

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;
const PEM_END = /-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/;
const PEM_INLINE = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g;
// A line inside a PEM body: base64 (or an RFC 1421 header) after an optional journal header.
const PEM_BODY = /^(?:[A-Za-z0-9+/=]{1,}|(?:Proc-Type|DEK-Info):.*)$/;
// The journal prefix is kept on masked PEM body lines so the line stays attributable.
const JOURNAL_PREFIX = /^[A-Z][a-z]{2} [ \d]?\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ [^\s:[]+(?:\[\d+\])?: ?/;
// A key body line seen without its BEGIN line: an answer cut by tailLines or sinceTime can start inside
// a dumped key. Whole lines only, at the widths PEM (64) and OpenSSH (70) wrap at, or a final padded line.
const PEM_ORPHAN = /^(?:[A-Za-z0-9+/]{64}|[A-Za-z0-9+/]{70}|[A-Za-z0-9+/]{16,76}={1,2})$/;
function looksLikeOrphanPemLine(body: string): boolean {
  // Mixed case and a digit or +/: hex ids and words never qualify.
  return PEM_ORPHAN.test(body) && /[A-Z]/.test(body) && /[a-z]/.test(body) && /[0-9+/]/.test(body);
}
/** Cheap first: only a line whose last word is key-body shaped can be one (the rest must then be a prefix). */
function mayBeOrphanPemLine(line: string): boolean {
  // From the end: most lines end in a character no key body has, and stop there.
  let i = line.length - 1;
  while (i >= 0 && BASE64_CHAR[line.charCodeAt(i)] === 1) i--;
  if (i >= 0 && line.charCodeAt(i) !== 32) return false;
  const last = line.length - i - 1;
  return last >= 16 && last <= 76 && looksLikeOrphanPemLine(line.slice(i + 1));
}
const BASE64_CHAR = new Uint8Array(65536);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=') BASE64_CHAR[ch.charCodeAt(0)] = 1;
// A PEM block whose END never arrives must not swallow the rest of the log.
const PEM_MAX_LINES = 200;

const AUTH_HEADER = /\b((?:proxy-)?authorization)(\\?["']?\s*[:=]\s*\[?\\?["']?)(bearer|basic|digest|negotiate|token)?(\s*)([^\s"'\],}\\]+)/gi;
// The same header percent-encoded in a URL or form body: Authorization%3A%20Bearer%20<token>.
const AUTH_HEADER_PCT = /\b((?:proxy-)?authorization)(%3a(?:%20|\+)*)(bearer|basic|token)?((?:%20|\+)*)((?:[A-Za-z0-9\-._~+/=]|%(?!26)[0-9a-f]{2})+)/gi;
// A secret key=value percent-encoded (password%3D…, ?q=token%3D…): the value runs to the next encoded or
// literal separator.
const KEY_VALUE_PCT =
  /(password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|client[_-]?secret|credentials?)([\w.-]{0,40})(%3d|%3a(?:%20)*)((?:[^\s&"'%]|%(?!26|20)[0-9a-f]{2})+)/gi;
// Provider tokens with a fixed prefix (GitHub, Slack, Stripe, GitLab, Google API keys), keyword or not.
const PROVIDER_TOKEN =
  /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{50,240}|xox[abprs]-[A-Za-z0-9-]{10,250}|[rs]k_live_[A-Za-z0-9]{20,247}|glpat-[A-Za-z0-9_-]{20,50}|AIza[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])/g;
// mysql -pPASSWORD (the password glued to -p): only after the client is invoked, up to the end of the command.
const MYSQL_INVOKED = /(?:^|[\s/'"=])(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb|mariadb-dump)\s/;
const MYSQL_P = /(\s-p)([^\s"'|;&][^\s"'|;&]*)/g;
// "passwd: correct horse battery staple": after an explicit password key and a colon, the value is the rest
// of the line (a YAML or prose value may hold spaces), up to a separator or the next key. The end is found by
// VALUE_END from the value's start; it only tries a key at the start of a whitespace run, so a long run of
// spaces costs linear time, not quadratic.
const PASSWORD_COLON = /(?:password|passwd|pwd)([\w.-]{0,40}["']?)(\s*:[ \t]*)(?=[^\s"',;&}\]])/gi;
const VALUE_END = /(?<=\S)\s+[\w.-]+\s*[:=]|[,;&}\]"']/g;
const BEARER = /\b(bearer)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)/gi;
const BASIC = /\b(basic)(\s+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/gi;
const JWT = /\bey[A-Za-z0-9_-]{15,}\.ey[A-Za-z0-9_-]{15,}\.[A-Za-z0-9_-]*/g;
const AWS_KEY_ID = /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g;
// The password may itself contain '@' or ':' (unencoded): greedy up to the last '@' of the authority.
// Scheme names are short: an unbounded [a-z0-9+.-]* restarted at every word of a long hyphenated line is quadratic.
// The user may be empty (redis://:password@host).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]{0,30}:\/\/)([^/\s:@"']*):([^/\s"'\\]+)@/gi;
// curl -u user:password / --user user:password (gitleaks curl-auth-user); the user name stays readable.
const CURL_USER = /(\s(?:-u|--user)(?:\s+|=))(["']?)([^\s:"']+):([^\s"']+)\2/g;
// Plain JSON, or JSON quoted inside a klog value (err="body: {\"auth\":\"…\"}").
const DOCKER_AUTH = /(\\?"(?:auth|identitytoken|registrytoken)\\?"\s*:\s*\\?")([^"\\]+)(\\?")/gi;
// key=value, key: value, "key": "value", --flag=value where the key names a secret.
// key=value, key: value, "key": "value", --flag=value where the key names a secret. Matched keyword-first,
// the rest of the key name is found by looking back in code (keyStart): a leading lazy [\w.-]*? retried after
// every separator made long hyphenated lines cost quadratic time.
const KEY_VALUE =
  /(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|creds|client[_-]?secret|session[_-]?key|cookie|[_.-]key(?:[_-]?data)?|key[_-]data|(?<=["'\s])key(?=\\?["']?\s*[:=]))([\w.-]{0,40}\\?["']?)(\s*[:=]\s*|\s+)(\\"(?:[^"\\]|\\[^"])*\\"|"(?:[^"\\]|\\.)*"|'[^']*'|(?:[^\s,;&}\]"'\\]|\\(?!"))+)/gi;
// A backslash: the key of JSON quoted inside a klog value (\"token\":\"…\").
const KEY_BOUNDARY = new Set([...' \t{,;(&?"\'-\\']);
const KEY_NAME_CHAR = /[\w.-]/;

/** Where the key name that ends with a keyword at `at` starts, or -1 when it does not start at a boundary. */
function keyStart(s: string, at: number): number {
  let i = at;
  let sawDash = false;
  while (i > 0 && at - i < 40 && KEY_NAME_CHAR.test(s[i - 1]!)) {
    i--;
    if (s[i] === '-') sawDash = true;
  }
  if (i > 0 && (s[i - 1] === '"' || s[i - 1] === "'")) i--;
  if (i === 0 || KEY_BOUNDARY.has(s[i - 1]!)) return i;
  // Longer than the look-back: a '-' inside it is a boundary, as in "--some-long-flag-password=…".
  return sawDash ? at - 40 : -1;
}

// Base64 of "-----BEGIN" (kubeconfig client-key-data, certificate-authority-data, Secrets dumped as YAML).
const PEM_BASE64 = /LS0tLS1CRUdJTi[A-Za-z0-9+/=]*/g;

// Values that are obviously not secrets (placeholders, flags, references to Kubernetes objects).
const NOT_SECRET = /^(?:<nil>|nil|null|none|true|false|\*+|x+|redacted|\[redacted.*|<redacted>|""|''|-|\d{1,3})$/i;
const KUBE_REF = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(?:\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$/;

function marker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

function stripQuotes(v: string): string {
  if (v.length >= 4 && v.startsWith('\\"') && v.endsWith('\\"')) return v.slice(2, -2);
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")) ? v.slice(1, -1) : v;
}

/** A base64 value that decodes to "user:password". */
function looksLikeBasicCredentials(v: string): boolean {
  try {
    const decoded = Buffer.from(v, 'base64').toString('latin1');
    return /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded);
  } catch {
    return false;
  }
}

export function createRedactor(): Redactor {
  const counts: Record<string, number> = {};
  let inPem = false;
  let pemLines = 0;
  const lineHits: string[] = [];
  const hit = (kind: string): string => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    lineHits.push(kind);
    return marker(kind);
  };

  const keyValueAt = (whole: string, suffix: string, sep: string, rawValue: string, offset: number, str: string): string => {
    const from = keyStart(str, offset);
    if (from < 0) return whole;
    const keyword = whole.slice(0, whole.length - suffix.length - sep.length - rawValue.length);
    const replaced = keyValue(str.slice(from, offset) + keyword + suffix, sep, rawValue);
    return replaced === undefined ? whole : keyword + suffix + sep + replaced;
  };

  /** The value's replacement (quotes kept), or undefined to leave the match as it was. */
  const keyValue = (key: string, sep: string, rawValue: string): string | undefined => {
    const value = stripQuotes(rawValue);
    if (value.startsWith('[REDACTED:') || NOT_SECRET.test(value)) return undefined;
    // sudo's "PWD=/home/x ;" is the working directory.
    if (key === 'PWD' && value.startsWith('/')) return undefined;
    const k = key.toLowerCase();
    // A secret's name ("secret=kube-system/bootstrap-token-abcdef", "tokenFile=/var/…") is diagnostic, not a secret.
    if (/(?:name|ref|file|path|dir|ttl|count|expir|type|source|mount)\\?["']?$/i.test(k)) return undefined;
    const explicitPassword = /pass|pwd/.test(k);
    if (value === '') return undefined;
    if (sep.trim() === '') {
      // Prose, not an assignment: sshd's "Failed password for root", "passwd file updated", and
      // Kubernetes' `secret "default-token-x7k2p" not found` (an object name) carry no credential.
      if (/^[a-z]+$/i.test(value)) return undefined;
      if (/secret|token/.test(k) && rawValue !== value && KUBE_REF.test(value)) return undefined;
    }
    if (!explicitPassword && sep.trim() === '' ) {
      // "token refreshed" style prose: only redact when the next word looks like a credential.
      if (!/[0-9]/.test(value) || value.length < 12) return undefined;
    }
    if (!explicitPassword && /^[a-z]+$/.test(value) && value.length < 16) return undefined; // "token: expired"
    if (!explicitPassword && /secret/.test(k) && KUBE_REF.test(value) && value.includes('/')) return undefined;
    const quote = rawValue.startsWith('\\"') ? '\\"' : rawValue.startsWith('"') ? '"' : rawValue.startsWith("'") ? "'" : '';
    return `${quote}${hit('key-value')}${quote}`;
  };

  const redactPasswordColon = (s: string): string => {
    let out = '';
    let from = 0;
    PASSWORD_COLON.lastIndex = 0;
    for (let m = PASSWORD_COLON.exec(s); m; m = PASSWORD_COLON.exec(s)) {
      const start = m.index + m[0].length;
      VALUE_END.lastIndex = start;
      let end = VALUE_END.exec(s)?.index ?? s.length;
      while (end > start && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--;
      const value = s.slice(start, end);
      const first = value.split(/\s/, 1)[0]!;
      PASSWORD_COLON.lastIndex = Math.max(end, start + 1);
      if (keyStart(s, m.index) < 0 || first.startsWith('[REDACTED:') || NOT_SECRET.test(first) || /(?:name|ref|file|path|dir|ttl|count|expir|type|source|mount)["']?$/i.test(m[1]!)) continue;
      out += s.slice(from, start) + hit('key-value');
      from = end;
    }
    return from === 0 ? s : out + s.slice(from);
  };

  const rules = (s: string): string => {
    if (s.includes('-----BEGIN')) {
      s = s.replace(PEM_INLINE, (m) => {
        if (!PEM_END.test(m)) {
          inPem = true;
          pemLines = 0;
        }
        return hit('private-key');
      });
    }
    s = s.replace(AUTH_HEADER, (whole, name: string, sep: string, scheme: string | undefined, sp: string, value: string) => {
      if (value.startsWith('[REDACTED:')) return whole;
      const kind = scheme ? scheme.toLowerCase() : 'authorization';
      return `${name}${sep}${scheme ?? ''}${sp}${hit(kind === 'token' ? 'bearer' : kind)}`;
    });
    if (s.includes('%')) {
      s = s.replace(AUTH_HEADER_PCT, (whole, name: string, sep: string, scheme: string | undefined, sp: string, value: string) => {
        const kind = scheme ? scheme.toLowerCase() : 'authorization';
        return value.length < 4 ? whole : `${name}${sep}${scheme ?? ''}${sp}${hit(kind === 'token' ? 'bearer' : kind)}`;
      });
      s = s.replace(KEY_VALUE_PCT, (whole, key: string, suffix: string, sep: string, value: string, offset: number, str: string) => {
        if (keyStart(str, offset) < 0 && str[offset - 1] !== '=' && !/%[0-9a-f]{2}$/i.test(str.slice(Math.max(0, offset - 3), offset))) return whole;
        if (/(?:name|ref|file|path|dir|ttl|count|expir|type|source|mount)$/i.test(suffix) || NOT_SECRET.test(value)) return whole;
        return `${key}${suffix}${sep}${hit('key-value')}`;
      });
    }
    s = s.replace(BEARER, (whole, word: string, sp: string, value: string) =>
      value.startsWith('[REDACTED') ? whole : `${word}${sp}${hit('bearer')}`,
    );
    s = s.replace(BASIC, (whole, word: string, sp: string, value: string) =>
      looksLikeBasicCredentials(value) ? `${word}${sp}${hit('basic')}` : whole,
    );
    s = s.replace(JWT, () => hit('jwt'));
    s = s.replace(AWS_KEY_ID, (m) => (m.endsWith('EXAMPLE') ? m : hit('aws-key-id')));
    if (s.includes('://')) s = s.replace(URL_USERINFO, (_w, scheme: string) => `${scheme}${hit('url-credentials')}@`);
    s = s.replace(DOCKER_AUTH, (whole, pre: string, value: string, post: string) =>
      value.startsWith('[REDACTED') ? whole : `${pre}${hit('docker-auth')}${post}`,
    );
    if (s.includes('LS0tLS1CRUdJTi')) s = s.replace(PEM_BASE64, () => hit('private-key'));
    s = s.replace(PROVIDER_TOKEN, () => hit('provider-token'));
    if (s.includes(' -p')) {
      const invoked = MYSQL_INVOKED.exec(s);
      if (invoked)
        s = s.slice(0, invoked.index) + s.slice(invoked.index).replace(MYSQL_P, (whole, flag: string, pass: string) => (pass.startsWith('[REDACTED') ? whole : `${flag}${hit('mysql-password')}`));
    }
    if (/pass|pwd/i.test(s)) s = redactPasswordColon(s);
    s = s.replace(KEY_VALUE, keyValueAt);
    return s;
  };

  const redactLine = (raw: string): string => {
    const line = canonicalText(raw);
    if (inPem) {
      pemLines++;
      const prefix = JOURNAL_PREFIX.exec(line)?.[0] ?? '';
      const body = prefix ? line.slice(prefix.length) : line;
      const end = PEM_END.exec(body);
      if (end) {
        inPem = false;
        const after = body.slice(end.index + end[0].length);
        return prefix + hit('private-key') + (after ? redactLine(after) : '');
      }
      if (PEM_BODY.test(body.trim())) return prefix + hit('private-key');
      if (pemLines > PEM_MAX_LINES) inPem = false;
      // An interleaved line from another writer: not part of the key, but still goes through the rules.
    }
    if (mayBeOrphanPemLine(line)) {
      const sp = line.lastIndexOf(' ');
      const prefix = sp === -1 ? '' : JOURNAL_PREFIX.exec(line)?.[0];
      if (prefix !== undefined && prefix.length === sp + 1) return prefix + hit('private-key');
    }
    let s = line;
    if (s.includes('curl') && (s.includes('-u') || s.includes('--user')))
      s = s.replace(CURL_USER, (whole, flag: string, q: string, user: string, pass: string) =>
        pass.startsWith('[REDACTED') ? whole : `${flag}${q}${user}:${hit('curl-user')}${q}`,
      );
    // Before the key=value rule, so "--token abcdef.0123456789abcdef" is reported as what it is.
    if (mayHaveBootstrapToken(s)) s = s.replace(BOOTSTRAP, (m) => (/\d/.test(m) ? hit('bootstrap-token') : m));
    if (PREFILTER.test(s) || mayHoldUrlCredentials(s)) s = rules(s);
    return s;
  };

  const redactor: Redactor = {
    counts,
    lastLineChanged: false,
    redactLine(raw: string): string {
      lineHits.length = 0;
      const out = redactLine(raw);
      redactor.lastLineChanged = out !== raw;
      return out;
    },
    passesUnchanged(line: string): boolean {
      if (inPem || mayBeOrphanPemLine(line) || mayHoldUrlCredentials(line) || mayHaveBootstrapToken(line)) return false;
      lineHits.length = 0;
      redactor.lastLineChanged = false;
      return true;
    },
    forgetLastLine(): void {
      for (const k of lineHits) {
        if (counts[k]! > 1) counts[k]!--;
        else delete counts[k];
      }
      lineHits.length = 0;
    },
  };
  return redactor;
}

/**
 * net/url behavior the kubelet inherits: query parsing (url.ParseQuery, as req.URL.Query() uses it),
 * path unescaping, path escaping (url.URL{Path: p}.String()) and ServeMux path cleaning.
 */
import path from 'node:path';

/** Go's net/url rejects queries with more parameters than this (GODEBUG urlmaxqueryparams default). */
const MAX_QUERY_PARAMS = 10000;

/** Go's unescape; null on a malformed escape. Bytes are decoded as UTF-8 (Go keeps raw bytes). */
function unescape(s: string, plusIsSpace: boolean): string | null {
  if (!s.includes('%') && !(plusIsSpace && s.includes('+'))) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x25) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (b === 0x2b && plusIsSpace) bytes.push(0x20);
    else bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

export type QueryValues = Map<string, string[]>;

/** url.ParseQuery with errors ignored (req.URL.Query()): bad pairs are dropped. */
export function parseQuery(rawQuery: string): QueryValues {
  const m: QueryValues = new Map();
  if (rawQuery === '') return m;
  if (rawQuery.split('&').length > MAX_QUERY_PARAMS) return m;
  for (const pair of rawQuery.split('&')) {
    if (pair.includes(';') || pair === '') continue;
    const eq = pair.indexOf('=');
    const k = unescape(eq < 0 ? pair : pair.slice(0, eq), true);
    const v = unescape(eq < 0 ? '' : pair.slice(eq + 1), true);
    if (k === null || v === null) continue;
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  }
  return m;
}

/** Values.Get: the first value or "". */
export function queryGet(q: QueryValues, key: string): string {
  return q.get(key)?.[0] ?? '';
}

export function unescapePath(raw: string): string | null {
  return unescape(raw, false);
}

/** url.URL{Path: p}.String(): encodePath escaping plus the "./" guard for a colon in the first segment. */
export function escapePath(p: string): string {
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c)) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  if (!out.startsWith('/')) {
    const slash = out.indexOf('/');
    const first = slash < 0 ? out : out.slice(0, slash);
    if (first.includes(':')) out = './' + out;
  }
  return out;
}

/** ServeMux cleanPath: path.Clean with a leading slash, keeping a trailing slash. */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = '/' + p;
  let np = path.posix.normalize(p);
  if (np.length > 1 && np.endsWith('/')) np = np.slice(0, -1);
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** path.Clean for an absolute slash path. */
export function goPathClean(p: string): string {
  let np = path.posix.normalize(p);
  if (np.length > 1 && np.endsWith('/')) np = np.slice(0, -1);
  return np;
}

/** path.Base. */
export function goPathBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** template.HTMLEscapeString / the FileServer's htmlReplacer. */
export function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!);
}

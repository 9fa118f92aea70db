/**
 * newNodeLogQuery and nodeLogQuery.validate from kubelet_server_journal.go: the rules, messages and
 * their order. Messages are built with the same apimachinery field.Error rendering as upstream.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  aggregateString, goQuote, goStringSliceGoSyntax, goStringSliceV, invalid, required, tooMany, type FieldError,
} from './goFormat.js';
import { goRegexpSyntaxError } from './goRegexpSyntax.js';
import { goAfter, goTimeString, parseRFC3339, type GoTime } from './goTime.js';
import { queryGet, type QueryValues } from './goUrl.js';
import { secureJoin, SecureJoinError } from './secureJoin.js';

export const MAX_TAIL_LINES = 100000;
export const MAX_SERVICE_LENGTH = 256;
export const MAX_SERVICES = 4;
const UNSAFE_SERVICE_CHARS = /[^a-zA-Z\-_.:0-9@]/;

export interface NodeLogQuery {
  services: string[];
  files: string[];
  sinceTime?: GoTime;
  untilTime?: GoTime;
  tailLines?: number;
  boot?: number;
  /** Go's %d of the parsed ints (exact even past 2^53). */
  tailLinesText?: string;
  bootText?: string;
  pattern: string;
}

export function hasOptions(q: NodeLogQuery): boolean {
  return q.sinceTime !== undefined || q.untilTime !== undefined || q.tailLines !== undefined || q.boot !== undefined || q.pattern !== '';
}

/** strconv.Atoi; the error text is Go's. */
function atoi(v: string): { value: number; text: string } | { error: string } {
  const syntax = { error: `strconv.Atoi: parsing ${goQuote(v)}: invalid syntax` };
  if (!/^[+-]?\d+$/.test(v)) return syntax;
  const n = BigInt(v);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return { error: `strconv.Atoi: parsing ${goQuote(v)}: value out of range` };
  // Beyond 2^53 the exact value no longer matters: it fails validation either way.
  return { value: Number(n), text: n.toString() };
}

export type ParseResult = { errors: FieldError[] } | { query: NodeLogQuery | null };

/** newNodeLogQuery: parse errors (HTTP 400), or null when no recognized option was present. */
export function parseNodeLogQuery(values: QueryValues): ParseResult {
  const errs: FieldError[] = [];
  const q: NodeLogQuery = { services: [], files: [], pattern: '' };
  const queries = values.get('query');
  for (const v of queries ?? []) {
    if (/[/\\]/.test(v)) q.files.push(v);
    else if (v.trim() !== '') q.services.push(v);
  }
  if (queries !== undefined && q.files.length === 0 && q.services.length === 0) {
    errs.push(invalid('query', goStringSliceGoSyntax(queries), 'query cannot be empty'));
  }
  for (const key of ['sinceTime', 'untilTime'] as const) {
    const v = queryGet(values, key);
    if (v.length === 0) continue;
    const t = parseRFC3339(v);
    if (t) q[key] = t;
    else errs.push(invalid(key, goQuote(v), 'invalid time format'));
  }
  for (const key of ['boot', 'tailLines'] as const) {
    const v = queryGet(values, key);
    if (v.length === 0) continue;
    const r = atoi(v);
    if ('value' in r) {
      q[key] = r.value;
      q[`${key}Text`] = r.text;
    }
    else errs.push(invalid(key, goQuote(v), r.error));
  }
  q.pattern = queryGet(values, 'pattern');
  if (errs.length) return { errors: errs };
  if (q.services.length === 0 && q.files.length === 0 && !hasOptions(q)) return { query: null };
  return { query: q };
}

function safeServiceName(s: string): string | null {
  if (Buffer.byteLength(s, 'utf8') > MAX_SERVICE_LENGTH) return 'length must be less than 100';
  if (UNSAFE_SERVICE_CHARS.test(s)) return 'input contains unsupported characters';
  return null;
}

export interface ValidateEnv {
  os: 'linux' | 'windows';
  varLogDir: string;
}

/** The error os.Stat / securejoin would report for the node path, as text. */
async function statFileError(env: ValidateEnv, file: string): Promise<string | null> {
  const windows = env.os === 'windows';
  let resolved: string;
  try {
    resolved = await secureJoin(env.varLogDir, file, windows);
  } catch (e) {
    const err = e as SecureJoinError;
    return `lstat ${path.posix.join('/var/log/', file)}: ${err.message}`;
  }
  const nodePath = windows ? ('\\var\\log' + resolved).replace(/\//g, '\\') : path.posix.join('/var/log', resolved);
  try {
    await fs.stat(path.join(env.varLogDir, resolved));
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (windows) {
      const parentExists = await fs.stat(path.dirname(path.join(env.varLogDir, resolved))).then((s) => s.isDirectory(), () => false);
      return `CreateFile ${nodePath}: The system cannot find the ${parentExists ? 'file' : 'path'} specified.`;
    }
    const text: Record<string, string> = {
      ENOENT: 'no such file or directory',
      ENOTDIR: 'not a directory',
      EACCES: 'permission denied',
      ELOOP: 'too many levels of symbolic links',
    };
    return `stat ${nodePath}: ${text[code ?? ''] ?? (e as Error).message}`;
  }
}

/** nodeLogQuery.validate (HTTP 406): every error, in upstream order. */
export async function validateNodeLogQuery(q: NodeLogQuery, env: ValidateEnv): Promise<FieldError[]> {
  const errs: FieldError[] = [];
  for (const s of q.services) {
    const problem = safeServiceName(s);
    if (problem) errs.push(invalid('query', goQuote(s), problem));
  }
  if (q.services.length > MAX_SERVICES) errs.push(tooMany('query', q.services.length, MAX_SERVICES));

  const files = goStringSliceGoSyntax(q.files);
  if (q.files.length === 0 && q.services.length === 0) {
    errs.push(required('query', 'cannot be empty with options'));
  } else if (q.files.length > 0 && q.services.length > 0) {
    errs.push(invalid('query', goQuote(`${goStringSliceV(q.files)}, ${goStringSliceV(q.services)}`), 'cannot specify a file and service'));
  } else if (q.files.length > 1) {
    errs.push(invalid('query', files, 'cannot specify more than one file'));
  } else if (q.files.length === 1 && hasOptions(q)) {
    errs.push(invalid('query', files, 'cannot specify file with options'));
  } else if (q.files.length === 1) {
    const problem = await statFileError(env, q.files[0]!);
    if (problem) errs.push(invalid('query', files, problem));
  }

  if (q.sinceTime && q.untilTime && goAfter(q.sinceTime, q.untilTime)) {
    errs.push(invalid('untilTime', goTimeString(q.untilTime), 'must be after `sinceTime`'));
  }
  if (q.boot !== undefined && env.os === 'windows') errs.push(invalid('boot', q.bootText!, 'boot is not supported on Windows'));
  if (q.boot !== undefined && q.boot > 0) errs.push(invalid('boot', q.bootText!, 'must be less than 1'));
  if (q.tailLines !== undefined && (q.tailLines < 0 || q.tailLines > MAX_TAIL_LINES)) {
    errs.push(invalid('tailLines', q.tailLinesText!, `must be between 0 and ${MAX_TAIL_LINES}, inclusive`));
  }
  const rx = goRegexpSyntaxError(q.pattern);
  if (rx) errs.push(invalid('pattern', goQuote(q.pattern), rx));
  return errs;
}

export { aggregateString };

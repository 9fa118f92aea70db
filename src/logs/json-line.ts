/**
 * JSON log lines (zap/etcd, klog JSON, logrus, pino, bunyan, Docker json-file, Kubernetes audit):
 * template on the message field, take level and time from their fields. A JSON line without a message
 * field is templated on its fields as key=value, nested objects flattened one level.
 */

export interface JsonFields {
  message: string;
  level?: string;
  /** A string time to parse, or epoch seconds/milliseconds. */
  time?: string | number;
  ident?: string;
  /** Docker json-file: 1 stdout, 2 stderr. */
  stream: number;
  /** Docker json-file splits long lines; a part without the trailing newline continues on the next line. */
  partial: boolean;
  /** Lines with different groups never share a template (audit: the API operation). */
  group?: string;
}

const MESSAGE_KEYS = ['msg', 'message', 'log', 'MESSAGE', 'Message', 'short_message'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'levelname', 'loglevel', 'log.level', 'Level', 'PRIORITY'];
const TIME_KEYS = ['time', 'ts', 'timestamp', '@timestamp', 't', 'date', 'requestReceivedTimestamp', 'stageTimestamp', '__REALTIME_TIMESTAMP'];
const IDENT_KEYS = ['logger', 'logger_name', 'name', 'component', 'SYSLOG_IDENTIFIER'];
// Fields that only vary per line (times, ids) or are already taken out: left out of a synthesized message.
const SKIP_IN_FIELDS = new Set([...LEVEL_KEYS, ...TIME_KEYS, 'auditID', 'requestReceivedTimestamp', 'stageTimestamp', 'annotations']);

// pino/bunyan numeric levels.
const NUMERIC_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
// journald PRIORITY (journalctl -o json).
const PRIORITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const MAX_FIELDS = 40;

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return undefined;
}

function compact(v: unknown): string {
  const s = JSON.stringify(v) ?? '';
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}

/** "key=value …" of the object's fields, nested objects one level deep, arrays as compact JSON. */
function fieldsText(o: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const k of Object.keys(o)) {
    if (parts.length >= MAX_FIELDS) break;
    if (SKIP_IN_FIELDS.has(k)) continue;
    const v = o[k];
    const s = scalar(v);
    if (s !== undefined) parts.push(`${k}=${s}`);
    else if (Array.isArray(v)) parts.push(`${k}=${compact(v)}`);
    else if (v && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        if (parts.length >= MAX_FIELDS) break;
        const s2 = scalar(v2);
        parts.push(`${k}.${k2}=${s2 ?? compact(v2)}`);
      }
    }
  }
  return parts.join(' ');
}

/**
 * A Kubernetes audit event (audit.k8s.io): what was done to what, by whom, with which outcome; the verb
 * and resource lead so that template mining routes on them.
 */
function auditText(o: Record<string, unknown>): string {
  const ref = (o.objectRef ?? {}) as Record<string, unknown>;
  const user = (o.user ?? {}) as Record<string, unknown>;
  const status = (o.responseStatus ?? {}) as Record<string, unknown>;
  const out = [String(o.verb ?? '?'), auditWhat(o), `code=${String(status.code ?? '?')}`, `stage=${String(o.stage ?? '?')}`, `user=${String(user.username ?? '?')}`];
  if (typeof ref.namespace === 'string') out.push(`namespace=${ref.namespace}`);
  if (typeof ref.name === 'string') out.push(`name=${ref.name}`);
  if (typeof status.reason === 'string' && status.reason) out.push(`reason=${status.reason}`);
  return out.join(' ');
}

function auditWhat(o: Record<string, unknown>): string {
  const ref = (o.objectRef ?? {}) as Record<string, unknown>;
  return [ref.resource, ref.subresource].filter((x) => typeof x === 'string' && x).join('/') || String(o.requestURI ?? '?').split('?')[0]!;
}

/** Parses a JSON object line; undefined when it is not one. */
export function jsonFields(line: string): JsonFields | undefined {
  let end = line.length - 1;
  while (end > 0 && line.charCodeAt(end) <= 32) end--;
  if (line.charCodeAt(end) !== 125) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
  const obj = o as Record<string, unknown>;
  let message: string | undefined;
  for (const k of MESSAGE_KEYS) {
    const v = obj[k];
    if (typeof v === 'string') {
      message = v;
      break;
    }
  }
  let partial = false;
  let stream = 0;
  if (typeof obj.stream === 'string') stream = obj.stream === 'stderr' ? 2 : obj.stream === 'stdout' ? 1 : 0;
  if (message !== undefined && typeof obj.log === 'string' && message === obj.log && stream) {
    partial = !message.endsWith('\n');
    message = message.replace(/\r?\n$/, '');
  }
  let group: string | undefined;
  if (message === undefined) {
    if (obj.kind === 'Event' && typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('audit.k8s.io')) {
      message = auditText(obj);
      group = `${String(obj.verb)} ${auditWhat(obj)}`;
    } else message = fieldsText(obj);
  }
  let level: string | undefined;
  for (const k of LEVEL_KEYS) {
    const v = obj[k];
    if (typeof v === 'string') level = k === 'PRIORITY' ? PRIORITIES[Number(v)] : v;
    else if (typeof v === 'number') level = k === 'PRIORITY' ? PRIORITIES[v] : NUMERIC_LEVELS[v];
    if (level !== undefined) break;
  }
  let time: string | number | undefined;
  for (const k of TIME_KEYS) {
    const v = obj[k];
    if (typeof v === 'string' || typeof v === 'number') {
      time = k === '__REALTIME_TIMESTAMP' ? Number(v) / 1000 : v;
      break;
    }
  }
  let ident: string | undefined;
  for (const k of IDENT_KEYS) {
    const v = obj[k];
    if (typeof v === 'string' && v.length > 0 && v.length <= 60 && !v.includes(' ')) {
      ident = v;
      break;
    }
  }
  return { message, level, time, ident, stream, partial, group };
}

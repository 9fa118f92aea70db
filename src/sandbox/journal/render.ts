import type { JournalEntry } from './types.js';
import { shortPreciseStamp } from './timestamp.js';

/**
 * What journalctl's strip_tab_ansi() does to MESSAGE before printing (without --all): TABs become
 * 8 spaces and ANSI color sequences (ESC '[' digits/';'/':' ... 'm') disappear. Other escape
 * sequences and truncated ones are left as they are.
 */
export function stripTabAnsi(msg: string): string {
  if (!msg.includes('\t') && !msg.includes('\x1b')) return msg;
  let out = '';
  for (let i = 0; i < msg.length; i++) {
    const ch = msg[i]!;
    if (ch === '\t') { out += '        '; continue; }
    if (ch === '\x1b' && msg[i + 1] === '[') {
      let j = i + 2;
      while (j < msg.length && /[0-9;:]/.test(msg[j]!)) j++;
      if (msg[j] === 'm') { i = j; continue; }
    }
    out += ch;
  }
  return out;
}

/** utf8_is_printable(): no C0 controls except TAB/LF, no DEL or C1 controls. */
function printable(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(s) && !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
}

/** format_bytes() as used for "[… blob data]". */
function formatBytes(n: number): string {
  const units: [number, string][] = [[1024 ** 6, 'E'], [1024 ** 5, 'P'], [1024 ** 4, 'T'], [1024 ** 3, 'G'], [1024 ** 2, 'M'], [1024, 'K']];
  for (const [f, u] of units) {
    if (n >= f) return `${Math.floor(n / f)}.${Math.floor((n * 10) / f) % 10}${u}`;
  }
  return `${n}B`;
}

/** One entry in `--output=short-precise --utc` form, newline-terminated. */
export function renderShortPrecise(e: JournalEntry): string {
  let prefix = `${shortPreciseStamp(e.realtimeUsec)} ${e.hostname} ${e.identifier}`;
  if (e.pid !== undefined) prefix += `[${e.pid}]`;
  prefix += ': ';
  const msg = stripTabAnsi(e.message);
  if (!printable(msg)) return `${prefix}[${formatBytes(Buffer.byteLength(e.message))} blob data]\n`;
  if (!msg.includes('\n')) return `${prefix}${msg}\n`;
  // Continuation lines are indented to the message column, as print_multiline() does.
  const pad = ' '.repeat(prefix.length);
  return prefix + msg.replace(/\n+$/, '').split('\n').join(`\n${pad}`) + '\n';
}

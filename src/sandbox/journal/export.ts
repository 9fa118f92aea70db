import type { JournalEntry } from './types.js';

/**
 * Journal Export Format (systemd.io/JOURNAL_EXPORT_FORMATS), the input systemd-journal-remote converts
 * into a real journal file. Values with control characters use the binary length-prefixed form, since
 * the text form cannot carry a newline and journal-remote treats the line as ending there.
 */
function field(name: string, value: string): Buffer {
  if (!/[\x00-\x1f\x7f]/.test(value)) return Buffer.from(`${name}=${value}\n`);
  const data = Buffer.from(value);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(data.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, data, Buffer.from('\n')]);
}

export function entryToExport(e: JournalEntry): Buffer {
  const parts: Buffer[] = [
    field('__REALTIME_TIMESTAMP', e.realtimeUsec.toString()),
    field('__MONOTONIC_TIMESTAMP', e.monotonicUsec.toString()),
    field('_BOOT_ID', e.bootId),
    field('_TRANSPORT', e.unit === undefined ? 'kernel' : 'stdout'),
  ];
  if (e.unit !== undefined) parts.push(field('_SYSTEMD_UNIT', e.unit));
  if (e.unitField !== undefined) parts.push(field('UNIT', e.unitField));
  parts.push(field('SYSLOG_IDENTIFIER', e.identifier));
  if (e.pid !== undefined) parts.push(field('_PID', String(e.pid)));
  parts.push(field('_HOSTNAME', e.hostname), field('PRIORITY', String(e.priority)), field('MESSAGE', e.message), Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** The whole journal as export text, in entry order (journal-remote keeps the order it is given). */
export function* exportChunks(entries: readonly JournalEntry[], chunkBytes = 1 << 20): Generator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for (const e of entries) {
    const b = entryToExport(e);
    pending.push(b);
    size += b.length;
    if (size >= chunkBytes) {
      yield Buffer.concat(pending);
      pending = [];
      size = 0;
    }
  }
  if (pending.length) yield Buffer.concat(pending);
}

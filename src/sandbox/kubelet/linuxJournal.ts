/**
 * kubelet_server_journal_linux.go: the journalctl argv, the native-logger probe, and the journal sources
 * the sandbox profiles substitute for a real journalctl ('slow' drip, 'huge' synthetic stream).
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JournalBackend } from '../journal/types.js';
import { formatDateLayout } from './goTime.js';
import type { NodeLogQuery } from './nodeLogQuery.js';
import type { KubeletVersion } from './version.js';

/** getLoggingCmd's argv, in upstream order. Before v1.30 `--until` was (wrongly) built from sinceTime. */
export function buildJournalArgs(q: NodeLogQuery, services: readonly string[], version: KubeletVersion): string[] | 'nil-since-panic' {
  const args = ['--utc', '--no-pager', '--output=short-precise'];
  if (q.sinceTime) args.push(`--since=${formatDateLayout(q.sinceTime)}`);
  if (q.untilTime) {
    const source = version.minor < 30 ? q.sinceTime : q.untilTime;
    // Old kubelets dereference a nil sinceTime here and the handler panics.
    if (!source) return 'nil-since-panic';
    args.push(`--until=${formatDateLayout(source)}`);
  }
  if (q.tailLines !== undefined) args.push('--pager-end', `--lines=${q.tailLinesText}`);
  for (const s of services) if (s.length > 0) args.push(`--unit=${s}`);
  if (q.pattern.length > 0) args.push(`--grep=${q.pattern}`);
  if (q.boot !== undefined) args.push('--boot', q.bootText!);
  return args;
}

/** `journalctl --field _SYSTEMD_UNIT`: a substring test in every released kubelet; exact only as a future profile. */
export async function probeNativeLogger(
  journal: JournalBackend, service: string, signal: AbortSignal, exactMatch: boolean,
): Promise<boolean> {
  let output = '';
  try {
    const run = journal.run(['--field', '_SYSTEMD_UNIT'], signal);
    const chunks: Buffer[] = [];
    for await (const chunk of run.output) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    const code = await run.exited;
    if (code !== 0) return false;
    output = Buffer.concat(chunks).toString('utf8');
  } catch {
    return false;
  }
  const unit = `${service}.service`;
  if (!exactMatch) return output.includes(unit);
  return output.split('\n').some((line) => line.replace(/\r$/, '') === unit);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** One short-precise kubelet line stamped `now` (microsecond precision, UTC). */
export function shortPreciseLine(now: Date, host: string, seq: number): string {
  const us = `${p2(now.getUTCHours())}:${p2(now.getUTCMinutes())}:${p2(now.getUTCSeconds())}.${String(now.getUTCMilliseconds()).padStart(3, '0')}${String(seq % 1000).padStart(3, '0')}`;
  const klog = `I${p2(now.getUTCMonth() + 1)}${p2(now.getUTCDate())} ${us}`;
  return `${MONTHS[now.getUTCMonth()]} ${p2(now.getUTCDate())} ${us} ${host} kubelet[2291]: ${klog}    2291 kubelet.go:2471] "SyncLoop (PLEG): event for pod" seq=${seq}\n`;
}

/** The 'slow' profile: one journal line per interval until the signal (deadline or client) stops it. */
export function dripJournalStream(host: string, intervalMs: number, signal: AbortSignal): Readable {
  async function* drip() {
    for (let seq = 1; !signal.aborted; seq++) {
      yield Buffer.from(shortPreciseLine(new Date(), host, seq));
      try {
        await sleep(intervalMs, undefined, { signal });
      } catch {
        return;
      }
    }
  }
  return Readable.from(drip(), { objectMode: false });
}

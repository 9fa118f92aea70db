import { Readable } from 'node:stream';
import type { JournalBackend, JournalEntry } from './types.js';
import { parseJournalctlArgs, type JournalQuery } from './argv.js';
import { parseJournalTimestamp } from './timestamp.js';
import { compileGrep } from './pattern.js';
import { renderShortPrecise } from './render.js';

const UNIT_SUFFIXES = ['service', 'socket', 'target', 'device', 'mount', 'automount', 'swap', 'timer', 'path', 'slice', 'scope'];

/**
 * unit_name_mangle(): a bare name gets ".service"; globs are matched against the units present.
 * add_matches_for_unit(): the unit's own messages (_SYSTEMD_UNIT=) or PID 1's about it (_PID=1 + UNIT=).
 */
function unitMatcher(units: string[]): ((e: JournalEntry) => boolean) | undefined {
  const test = unitNameTest(units);
  if (!test) return undefined;
  return (e) => test(e.unit) || (e.pid === 1 && test(e.unitField));
}

function unitNameTest(units: string[]): ((u: string | undefined) => boolean) | undefined {
  if (units.length === 0) return undefined;
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const u of units) {
    if (/[*?[]/.test(u)) {
      globs.push(new RegExp(`^${u.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
      continue;
    }
    const dot = u.lastIndexOf('.');
    exact.add(dot > 0 && UNIT_SUFFIXES.includes(u.slice(dot + 1)) ? u : `${u}.service`);
  }
  return (u) => u !== undefined && (exact.has(u) || globs.some((g) => g.test(u)));
}

const CHUNK = 64 * 1024;

/** One run's output: lines produced lazily, the exit code known once they are all out. */
interface RunPlan {
  lines: Generator<string, number>;
}

function errorPlan(message: string, code = 1): RunPlan {
  return { lines: (function* () { yield `${message}\n`; return code; })() };
}

/**
 * Answers journalctl invocations from memory, reproducing systemd 252's journalctl output byte for
 * byte for the options the kubelet uses (see test/journal-conformance.test.ts). Notable behaviors
 * carried over: --pager-end implies the current boot; --grep together with --lines walks backwards
 * and so prints newest first; "-- Boot … --" separators are printed for every boot change among
 * the entries visited, matched or not; --until with --lines but no --grep starts N entries from the
 * end and may therefore find nothing.
 */
export class InProcessJournal {
  private readonly entries: JournalEntry[];
  /** Boot ids, oldest first. */
  private readonly boots: string[];

  /**
   * @param systemdVersion whose journalctl to imitate. 252 (Debian 12, RHEL 9) is verified against the
   *   real binary; from 254 on, --lines counts back from --until/the tail even with --since, which is
   *   modelled from the upstream source but not verified here.
   */
  constructor(
    entries: readonly JournalEntry[],
    private readonly systemdVersion = 252,
    private readonly now: () => bigint = () => BigInt(Date.now()) * 1000n,
    /** The node's zone: journalctl reads --since/--until wall-clock times in it. */
    private readonly timeZone = 'UTC',
  ) {
    this.entries = [...entries].sort((a, b) => (a.realtimeUsec < b.realtimeUsec ? -1 : a.realtimeUsec > b.realtimeUsec ? 1 : 0));
    const seen = new Set<string>();
    this.boots = [];
    for (const e of this.entries) if (!seen.has(e.bootId)) { seen.add(e.bootId); this.boots.push(e.bootId); }
  }

  plan(args: string[]): RunPlan {
    const parsed = parseJournalctlArgs(args);
    if (!parsed.ok) return errorPlan(parsed.error);
    const q = parsed.q;
    if (q.field !== undefined) return this.fieldPlan(q.field);
    if (q.output !== 'short-precise') return errorPlan(`in-process journal supports only --output=short-precise, got '${q.output}'`);

    let since: bigint | undefined;
    let until: bigint | undefined;
    if (q.since !== undefined) {
      since = parseJournalTimestamp(q.since, this.now(), this.timeZone);
      if (since === undefined) return errorPlan(`Failed to parse timestamp: ${q.since}`);
    }
    if (q.until !== undefined) {
      until = parseJournalTimestamp(q.until, this.now(), this.timeZone);
      if (until === undefined) return errorPlan(`Failed to parse timestamp: ${q.until}`);
    }
    if (since !== undefined && until !== undefined && since > until) return errorPlan('--since= must be before --until=.');
    let regex: RegExp | undefined;
    if (q.grep !== undefined) {
      const c = compileGrep(q.grep);
      if (!c.ok) return errorPlan(c.error);
      regex = c.regex;
    }
    let bootId: string | undefined;
    if (q.boot) {
      const off = q.boot.offset;
      const idx = off > 0 ? off - 1 : this.boots.length - 1 + off;
      bootId = this.boots[idx];
      if (bootId === undefined) {
        const o = `${off >= 0 ? '+' : ''}${off}`;
        const v = this.systemdVersion;
        return errorPlan(v < 255 ? `Data from the specified boot (${o}) is not available: No such boot ID in journal`
          : v < 257 ? `No journal boot entry found from the specified boot offset (${o}).`
            : `No journal boot entry found for the specified boot (${o}).`);
      }
    }
    const unitOk = unitMatcher(q.units);
    const matched = this.entries.filter((e) => (bootId === undefined || e.bootId === bootId) && (!unitOk || unitOk(e)));
    return { lines: this.systemdVersion >= 254 ? this.walkModern(matched, q, since, until, regex) : this.walk(matched, q, since, until, regex) };
  }

  /** systemd ≥ 254 (PRs #26669/#26727): --lines always means the newest N, counted back from --until. */
  private *walkModern(m: JournalEntry[], q: JournalQuery, since: bigint | undefined, until: bigint | undefined, regex: RegExp | undefined): Generator<string, number> {
    const lines = q.lines;
    const reverse = regex !== undefined && lines !== undefined;
    const firstAtOrAfter = (t: bigint): number => { const k = m.findIndex((e) => e.realtimeUsec >= t); return k < 0 ? m.length : k; };
    let i: number;
    let sinceSeeked = false;
    if (reverse || lines !== undefined) {
      // Position just past the last entry <= until (or at the tail), then step back.
      const p = until !== undefined ? firstAtOrAfter(until + 1n) : m.length;
      if (reverse) i = p - 1;
      else i = p === 0 ? 0 : Math.max(0, p - lines!);
    } else if (since !== undefined) {
      i = firstAtOrAfter(since);
      sinceSeeked = true;
    } else {
      i = 0;
    }
    const step = reverse ? -1 : 1;
    let shown = 0;
    let prevBoot: string | undefined;
    for (; lines === undefined || shown < lines; i += step) {
      const e = m[i];
      if (!e) break;
      if (until !== undefined && !reverse && (lines === undefined || since !== undefined) && e.realtimeUsec > until) break;
      if (since !== undefined && (reverse || !sinceSeeked)) {
        if (e.realtimeUsec < since) {
          if (reverse) break;
          // Jumped back too far: re-seek to --since without printing anything for the skipped part.
          i = firstAtOrAfter(since) - step;
          sinceSeeked = true;
          continue;
        }
        sinceSeeked = true;
      }
      if (prevBoot !== undefined && e.bootId !== prevBoot) yield `-- Boot ${e.bootId} --\n`;
      prevBoot = e.bootId;
      if (regex && !regex.test(e.message)) continue;
      yield renderShortPrecise(e);
      shown++;
    }
    if (shown === 0) yield '-- No entries --\n';
    return regex && shown === 0 ? 1 : 0;
  }

  private *walk(m: JournalEntry[], q: JournalQuery, since: bigint | undefined, until: bigint | undefined, regex: RegExp | undefined): Generator<string, number> {
    const lines = q.lines;
    const reverse = regex !== undefined && lines !== undefined;
    let i: number;
    if (since !== undefined && !reverse) {
      i = m.findIndex((e) => e.realtimeUsec >= since);
      if (i < 0) i = m.length;
    } else if (until !== undefined && reverse) {
      i = m.length - 1;
      while (i >= 0 && m[i]!.realtimeUsec > until) i--;
    } else if (reverse) {
      i = m.length - 1;
    } else if (lines !== undefined) {
      i = Math.max(0, m.length - lines);
    } else {
      i = 0;
    }
    const step = reverse ? -1 : 1;
    let shown = 0;
    let prevBoot: string | undefined;
    for (; lines === undefined || shown < lines; i += step) {
      const e = m[i];
      if (!e) break;
      if (until !== undefined && !reverse && e.realtimeUsec > until) break;
      if (since !== undefined && reverse && e.realtimeUsec < since) break;
      if (prevBoot !== undefined && e.bootId !== prevBoot) yield `-- Boot ${e.bootId} --\n`;
      prevBoot = e.bootId;
      if (regex && !regex.test(e.message)) continue;
      yield renderShortPrecise(e);
      shown++;
    }
    if (shown === 0) yield '-- No entries --\n';
    return regex && shown === 0 ? 1 : 0;
  }

  private fieldPlan(field: string): RunPlan {
    const entries = this.entries;
    return {
      lines: (function* () {
        const seen = new Set<string>();
        for (const e of entries) {
          const v = field === '_SYSTEMD_UNIT' ? e.unit : field === 'SYSLOG_IDENTIFIER' ? e.identifier : field === '_BOOT_ID' ? e.bootId
            : field === '_HOSTNAME' ? e.hostname : field === 'PRIORITY' ? String(e.priority) : field === '_PID' ? (e.pid === undefined ? undefined : String(e.pid)) : undefined;
          if (v === undefined || seen.has(v)) continue;
          seen.add(v);
          yield `${v}\n`;
        }
        return 0;
      })(),
    };
  }
}

export function createInProcessJournalBackend(entries: readonly JournalEntry[], systemdVersion = 252, timeZone = 'UTC'): JournalBackend {
  const journal = new InProcessJournal(entries, systemdVersion, undefined, timeZone);
  const live = new Set<Readable>();
  return {
    kind: 'inprocess',
    run(args, signal) {
      const { lines } = journal.plan(args);
      let resolveExit!: (code: number | null) => void;
      const exited = new Promise<number | null>((r) => (resolveExit = r));
      let finished = false;
      const output = new Readable({
        highWaterMark: CHUNK,
        read() {
          // Batch lines into chunks so 100k entries do not mean 100k tiny pushes.
          let buf = '';
          for (;;) {
            const r = lines.next();
            if (r.done) {
              if (buf) this.push(buf);
              finished = true;
              this.push(null);
              resolveExit(r.value);
              return;
            }
            buf += r.value;
            if (buf.length >= CHUNK) {
              if (!this.push(buf)) return;
              buf = '';
            }
          }
        },
        destroy(err, cb) {
          live.delete(output);
          if (!finished) resolveExit(null);
          cb(err);
        },
      });
      output.once('end', () => live.delete(output));
      live.add(output);
      const abort = (): void => { output.destroy(); };
      if (signal.aborted) queueMicrotask(abort);
      else signal.addEventListener('abort', abort, { once: true });
      void exited.then(() => signal.removeEventListener('abort', abort));
      return { output, exited };
    },
    async close() {
      for (const r of live) r.destroy();
      live.clear();
    },
  };
}

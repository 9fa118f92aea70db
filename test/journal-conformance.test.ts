import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { generateNodeLogs } from '../src/sandbox/generate/node-logs.js';
import { createJournalBackend, realJournalAvailable, installedSystemdVersion } from '../src/sandbox/journal/index.js';
import type { JournalBackend, JournalEntry } from '../src/sandbox/journal/types.js';

const NOW = new Date('2026-11-27T03:44:00Z');
/** Node zones east and west of UTC (no DST change near NOW). */
const ZONES = ['Asia/Kolkata', 'America/New_York'];
const BASE = ['--utc', '--no-pager', '--output=short-precise'];

/** The kubelet's dateLayout "2006-1-2 15:4:5": no zero padding. */
function kubeletTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${d.getUTCMonth() + 1}-${d.getUTCDate()} ${d.getUTCHours()}:${d.getUTCMinutes()}:${d.getUTCSeconds()}`;
}

async function collect(out: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of out) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

async function runOn(b: JournalBackend, args: string[]): Promise<{ out: string; code: number | null }> {
  const r = b.run(args, new AbortController().signal);
  const [out, code] = await Promise.all([collect(r.output), r.exited]);
  return { out, code };
}

const hasReal = await realJournalAvailable();
/** The emulation imitates the installed version; 252 is the one verified byte for byte. */
const systemdVersion = (await installedSystemdVersion()) ?? 252;
if (!hasReal && process.env.REQUIRE_REAL_JOURNAL) {
  // CI installs them: there, a missing binary must fail the run, not skip the comparison.
  throw new Error('REQUIRE_REAL_JOURNAL is set but journalctl/systemd-journal-remote are not installed (apt-get install systemd-journal-remote).');
}
if (!hasReal) {
  console.warn('[journal-conformance] journalctl/systemd-journal-remote not installed: skipping the real-journalctl comparison (CI installs them).');
}

/** A small hand-made journal that puts entries exactly on second boundaries and exercises rendering. */
function edgeJournal(): JournalEntry[] {
  const b1 = '1'.repeat(32);
  const b2 = 'a'.repeat(32);
  const t0 = 1795000000n * 1_000_000n;
  const mk = (dt: bigint, boot: string, unit: string | undefined, ident: string, pid: number | undefined, message: string): JournalEntry => ({
    realtimeUsec: t0 + dt, monotonicUsec: 1_000_000n + dt, bootId: boot, ...(unit ? { unit } : {}), identifier: ident, ...(pid ? { pid } : {}), hostname: 'edge-1', priority: 6, message,
  });
  return [
    mk(0n, b1, 'kubelet.service', 'kubelet', 100, 'first Kubelet line at an exact second'),
    mk(10n, b1, undefined, 'kernel', undefined, 'kernel: tab\there and \x1b[1;31mcolor\x1b[0m done'),
    mk(20n, b1, 'containerd.service', 'containerd', 200, 'bidi \u202e zw \u200b end; stray \x1b[2J clear'),
    mk(1_000_000n, b1, 'kubelet.service', 'kubelet', 100, 'second kubelet line'),
    mk(3_600_000_000n, b2, 'kubelet.service', 'kubelet', 101, 'after reboot kubelet'),
    mk(3_600_000_005n, b2, 'ssh.service', 'sshd', 300, 'after reboot sshd'),
    // PID 1 about the kubelet (UNIT=): `--unit=kubelet` returns these; a non-PID-1 UNIT= line must not match.
    { ...mk(3_600_100_000n, b2, 'init.scope', 'systemd', 1, 'kubelet.service: Main process exited, code=exited, status=1/FAILURE'), unitField: 'kubelet.service' },
    { ...mk(3_600_100_010n, b2, 'init.scope', 'systemd', 1, "kubelet.service: Failed with result 'exit-code'."), unitField: 'kubelet.service' },
    { ...mk(3_610_200_000n, b2, 'init.scope', 'systemd', 1, 'kubelet.service: Scheduled restart job, restart counter is at 1.'), unitField: 'kubelet.service' },
    { ...mk(3_610_300_000n, b2, 'node-agent.service', 'node-agent', 400, 'claims to be about the kubelet'), unitField: 'kubelet.service' },
  ];
}

describe.skipIf(!hasReal)('journal backends agree with real journalctl', () => {
  let work: string;
  let real: JournalBackend;
  let mem: JournalBackend;
  let realEdge: JournalBackend;
  let memEdge: JournalBackend;
  let nowMs: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'journal-conf-'));
    const g = generateNodeLogs({ nodeName: 'conf-node', seed: 7, now: NOW, role: 'worker' });
    nowMs = NOW.getTime();
    real = await createJournalBackend(g.journal, { prefer: 'journalctl', workDir: work });
    mem = await createJournalBackend(g.journal, { prefer: 'inprocess', workDir: work, systemdVersion });
    const edge = edgeJournal();
    realEdge = await createJournalBackend(edge, { prefer: 'journalctl', workDir: work });
    memEdge = await createJournalBackend(edge, { prefer: 'inprocess', workDir: work, systemdVersion });
    expect(real.kind).toBe('journalctl');
    expect(mem.kind).toBe('inprocess');
  });

  afterAll(async () => {
    await Promise.all([real?.close(), mem?.close(), realEdge?.close(), memEdge?.close()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const m = (min: number): string => kubeletTime(nowMs - min * 60_000);
  const cases: [string, () => string[]][] = [
    ['everything', () => BASE],
    ['one unit, bare name', () => [...BASE, '--unit=kubelet']],
    ['two units', () => [...BASE, '--unit=kubelet', '--unit=containerd']],
    ['unit with suffix', () => [...BASE, '--unit=containerd.service']],
    ['unknown unit', () => [...BASE, '--unit=nosuch']],
    ['tail', () => [...BASE, '--pager-end', '--lines=25', '--unit=kubelet']],
    ['tail larger than the current boot', () => [...BASE, '--pager-end', '--lines=100000', '--unit=kube-proxy']],
    ['tail, all units', () => [...BASE, '--pager-end', '--lines=40']],
    ['since', () => [...BASE, `--since=${m(30)}`, '--unit=kubelet']],
    ['since and until', () => [...BASE, `--since=${m(75)}`, `--until=${m(60)}`, '--unit=kubelet', '--unit=containerd']],
    ['window with no entries', () => [...BASE, `--since=${kubeletTime(nowMs + 3_600_000)}`, `--until=${kubeletTime(nowMs + 7_200_000)}`]],
    ['until only, spanning boots', () => [...BASE, `--until=${m(200)}`, '--unit=kubelet']],
    ['grep lower case (smart case insensitive)', () => [...BASE, '--unit=kubelet', '--grep=pleg is not healthy']],
    ['grep mixed case (case sensitive)', () => [...BASE, '--unit=kubelet', '--grep=PLEG is not Healthy']],
    ['grep with \\S (uppercase escape)', () => [...BASE, '--grep=x509:\\S+']],
    ['grep regex alternation', () => [...BASE, '--grep=oom|out of memory']],
    ['grep with inline flag', () => [...BASE, '--grep=(?i)BACK-OFF RESTARTING']],
    ['grep no match', () => [...BASE, '--grep=zzz-no-such-text']],
    ['grep invalid', () => [...BASE, '--grep=(unclosed']],
    ['boot 0', () => [...BASE, '--unit=kubelet', '--boot', '0']],
    ['boot -1', () => [...BASE, '--unit=kubelet', '--boot', '-1']],
    ['boot -2', () => [...BASE, '--boot', '-2']],
    ['boot 1 (oldest)', () => [...BASE, '--unit=containerd', '--boot', '1']],
    ['boot that does not exist', () => [...BASE, '--boot', '-7']],
    ['positive boot that does not exist', () => [...BASE, '--boot', '9']],
    ['kubelet: tail + grep (newest first)', () => [...BASE, '--pager-end', '--lines=10', '--unit=kubelet', '--grep=error']],
    ['kubelet: since + tail', () => [...BASE, `--since=${m(90)}`, '--pager-end', '--lines=15', '--unit=kubelet']],
    ['kubelet: since + until + tail + grep + boot', () => [...BASE, `--since=${m(120)}`, `--until=${m(20)}`, '--pager-end', '--lines=5', '--unit=kubelet', '--unit=containerd', '--grep=oom', '--boot', '0']],
    ['kubelet: until + tail without grep', () => [...BASE, `--until=${m(10)}`, '--pager-end', '--lines=5', '--unit=kubelet']],
    ['kubelet: tail + grep + previous boot', () => [...BASE, '--pager-end', '--lines=3', '--unit=kubelet', '--grep=e', '--boot', '-1']],
    ['kubelet: grep + boot over all units', () => [...BASE, '--grep=Killed process', '--boot', '0']],
    ['kubelet: tail + grep, no match', () => [...BASE, '--pager-end', '--lines=5', '--grep=nothing-matches-this']],
    ['hostile and long lines', () => [...BASE, '--grep=IGNORE ALL|untrusted-node-log|\u202e|Receiving a new pod|ERROR']],
    ['secret-bearing lines', () => [...BASE, '--grep=BEGIN RSA|Bearer|password|token']],
    ['since after until', () => [...BASE, `--since=${m(10)}`, `--until=${m(20)}`]],
    // What the kubelet sends for "the last N lines" in a window (kubelet-node-log-query.md §3).
    ['until + tail, the last entries after until: no entries', () => [...BASE, `--until=${m(30)}`, '--pager-end', '--lines=20', '--unit=kubelet']],
    ['until + tail + grep ^: newest first inside the window', () => [...BASE, `--until=${m(30)}`, '--pager-end', '--lines=20', '--unit=kubelet', '--grep=^']],
    ['since + tail: the FIRST entries of the window', () => [...BASE, `--since=${m(60)}`, '--pager-end', '--lines=20', '--unit=kubelet']],
    ['since + tail + grep ^: the last entries, newest first', () => [...BASE, `--since=${m(60)}`, '--pager-end', '--lines=20', '--unit=kubelet', '--grep=^']],
    ['since + until + tail + grep ^', () => [...BASE, `--since=${m(90)}`, `--until=${m(45)}`, '--pager-end', '--lines=30', '--unit=kubelet', '--unit=containerd', '--grep=^']],
    ['grep + tail ordering with a pattern', () => [...BASE, `--since=${m(120)}`, '--pager-end', '--lines=7', '--unit=kubelet', '--grep=Error syncing']],
    ['unit with PID-1 UNIT= lines', () => [...BASE, '--unit=kubelet', '--grep=kubelet.service']],
    ['substring-native unit (syslog beside rsyslog.service)', () => [...BASE, '--pager-end', '--lines=5', '--unit=syslog']],
    ['unparsable time', () => [...BASE, '--since=2026-13-1 0:0:0']],
  ];

  /** What real journalctl printed for some cases, so agreement cannot come from both sides being empty. */
  const stamps = (out: string): string[] => out.split('\n').filter((l) => /^Nov /.test(l)).map((l) => l.slice(0, 22));
  const sanity: Record<string, (out: string, code: number | null) => void> = {
    'everything': (o) => expect(o).toContain('-- Boot '),
    'tail': (o) => expect(o.trimEnd().split('\n')).toHaveLength(25),
    'until + tail, the last entries after until: no entries': (o) => expect(o).toBe('-- No entries --\n'),
    'until + tail + grep ^: newest first inside the window': (o) => { const s = stamps(o); expect(s).toHaveLength(20); expect([...s].sort().reverse()).toEqual(s); },
    'since + tail + grep ^: the last entries, newest first': (o) => { const s = stamps(o); expect(s).toHaveLength(20); expect([...s].sort().reverse()).toEqual(s); },
    'unit with PID-1 UNIT= lines': (o) => expect(o).toContain('systemd[1]: Started kubelet.service'),
    'substring-native unit (syslog beside rsyslog.service)': (o) => expect(o).toBe('-- No entries --\n'),
    'window with no entries': (o, c) => { expect(o).toBe('-- No entries --\n'); expect(c).toBe(0); },
    'grep lower case (smart case insensitive)': (o) => expect(o).toContain('PLEG is not healthy'),
    'grep mixed case (case sensitive)': (o, c) => { expect(o).toContain('-- No entries --'); expect(c).toBe(1); },
    'grep invalid': (o, c) => { expect(o).toMatch(/^Bad pattern "\(unclosed": /); expect(c).toBe(1); },
    'boot that does not exist': (o, c) => { expect(o).toMatch(/\(-7\)/); expect(c).toBe(1); },
    'kubelet: tail + grep (newest first)': (o) => { const s = stamps(o); expect(s).toHaveLength(10); expect([...s].sort().reverse()).toEqual(s); },
    'hostile and long lines': (o) => { expect(o).toContain('IGNORE ALL PREVIOUS INSTRUCTIONS'); expect(o).toContain('</untrusted-node-log>'); expect(o).not.toContain('\x1b['); expect(o.split('\n').some((l) => l.length > 19_000)).toBe(true); },
    'secret-bearing lines': (o) => expect(o).toContain('-----BEGIN RSA PRIVATE KEY-----'),
  };

  for (const [name, argv] of cases) {
    it(`generated journal: ${name}`, async () => {
      const args = argv();
      const [a, b] = await Promise.all([runOn(real, args), runOn(mem, args)]);
      expect(b.out).toBe(a.out);
      expect(b.code).toBe(a.code);
      sanity[name]?.(a.out, a.code);
    });
  }

  it('generated journal: --field _SYSTEMD_UNIT lists the same units', async () => {
    const [a, b] = await Promise.all([runOn(real, ['--field', '_SYSTEMD_UNIT']), runOn(mem, ['--field', '_SYSTEMD_UNIT'])]);
    const set = (s: string): string[] => s.split('\n').filter(Boolean).sort();
    expect(set(b.out)).toEqual(set(a.out));
    expect(set(a.out)).toContain('kubelet.service');
    expect(b.code).toBe(a.code);
  });

  const t = (s: number): string => kubeletTime(1795000000_000 + s * 1000);
  const edgeCases: [string, string[]][] = [
    ['rendering: tabs, ANSI, bidi, boot separator', BASE],
    ['since exactly on an entry', [...BASE, `--since=${t(1)}`]],
    ['until exactly on an entry', [...BASE, `--until=${t(0)}`]],
    ['since = until on an entry', [...BASE, `--since=${t(0)}`, `--until=${t(0)}`]],
    ['reverse walk: until on an entry with grep and lines', [...BASE, `--until=${t(1)}`, '--lines=3', '--grep=e']],
    ['reverse walk: since on an entry with grep and lines', [...BASE, `--since=${t(1)}`, '--lines=3', '--grep=e']],
    ['separator printed for a boot with no matches', [...BASE, '--grep=first']],
    ['separator in reverse walk', [...BASE, '--lines=10', '--grep=kubelet']],
    ['pager-end confines to current boot', [...BASE, '--pager-end', '--lines=10']],
    ['lines without pager-end spans boots', [...BASE, '--lines=4']],
    ['since + lines without pager-end takes the head', [...BASE, `--since=${t(0)}`, '--lines=2']],
    ['lines=0', [...BASE, '--lines=0']],
    ['unit glob', [...BASE, '--unit=kube*']],
    ['unit: PID-1 UNIT= lines, not other processes\' UNIT=', [...BASE, '--unit=kubelet']],
    ['unit: UNIT= lines in a tail with grep', [...BASE, '--pager-end', '--lines=2', '--unit=kubelet', '--grep=kubelet']],
  ];
  for (const [name, args] of edgeCases) {
    it(`edge journal: ${name}`, async () => {
      const [a, b] = await Promise.all([runOn(realEdge, args), runOn(memEdge, args)]);
      expect(b.out).toBe(a.out);
      expect(b.code).toBe(a.code);
    });
  }
});

describe.skipIf(!hasReal)('journal backends agree with real journalctl in a node-local time zone', () => {
  let work: string;
  const zoned: Record<string, { real: JournalBackend; mem: JournalBackend }> = {};
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'journal-tz-'));
    const g = generateNodeLogs({ nodeName: 'tz-node', seed: 11, now: NOW, role: 'worker' });
    for (const timeZone of ZONES) {
      zoned[timeZone] = {
        real: await createJournalBackend(g.journal, { prefer: 'journalctl', workDir: work, timeZone }),
        mem: await createJournalBackend(g.journal, { prefer: 'inprocess', workDir: work, systemdVersion, timeZone }),
      };
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(zoned).flatMap((z) => [z.real.close(), z.mem.close()]));
    if (work) await rm(work, { recursive: true, force: true });
  });
  const m = (min: number): string => kubeletTime(NOW.getTime() - min * 60_000);
  const cases: [string, string[]][] = [
    ['since/until read in the local zone', [...BASE, `--since=${m(75)}`, `--until=${m(60)}`, '--unit=kubelet']],
    ['since + tail + grep ^', [...BASE, `--since=${m(150)}`, '--pager-end', '--lines=10', '--unit=kubelet', '--grep=^']],
    ['until + tail + grep ^', [...BASE, `--until=${m(30)}`, '--pager-end', '--lines=10', '--unit=kubelet', '--grep=^']],
  ];
  for (const timeZone of ZONES) {
    for (const [name, args] of cases) {
      it(`${timeZone}: ${name}`, async () => {
        const [a, b] = await Promise.all([runOn(zoned[timeZone]!.real, args), runOn(zoned[timeZone]!.mem, args)]);
        expect(b.out).toBe(a.out);
        expect(b.code).toBe(a.code);
      });
    }
  }
  it('the same wall-clock window selects different entries per zone (and --utc output stays UTC)', async () => {
    const args = [...BASE, `--since=${m(75)}`, `--until=${m(60)}`, '--unit=kubelet'];
    const [k, ny] = await Promise.all([runOn(zoned['Asia/Kolkata']!.real, args), runOn(zoned['America/New_York']!.real, args)]);
    expect(k.out).not.toBe(ny.out);
    // Kolkata is UTC+5:30: "75 to 60 minutes ago" in its wall clock is 5.5 h earlier, before this boot's kubelet lines.
    const first = (o: string) => o.split('\n').find((l) => /^Nov /.test(l));
    if (first(k.out)) expect(Date.parse(`2026 ${first(k.out)!.slice(0, 15)} UTC`)).toBeLessThan(NOW.getTime() - 5 * 3600_000);
  });
});

describe('in-process journal on its own', () => {
  it('stops producing output when aborted', async () => {
    const g = generateNodeLogs({ nodeName: 'abort-node', seed: 3, now: NOW, entriesPerBoot: 8_000 });
    const b = await createJournalBackend(g.journal, { prefer: 'inprocess', workDir: tmpdir() });
    const ac = new AbortController();
    const r = b.run([...BASE], ac.signal);
    let bytes = 0;
    r.output.on('data', (c: Buffer | string) => {
      bytes += c.length;
      if (bytes > 100_000) ac.abort();
    });
    await new Promise<void>((res) => r.output.once('close', () => res()));
    expect(await r.exited).toBeNull();
    const full = await runOn(b, [...BASE]);
    expect(bytes).toBeLessThan(full.out.length);
    await b.close();
  });

  it('prints a tail in short-precise form with the kubelet argv', async () => {
    const g = generateNodeLogs({ nodeName: 'shape-node', seed: 5, now: NOW });
    const b = await createJournalBackend(g.journal, { prefer: 'inprocess', workDir: tmpdir() });
    const { out, code } = await runOn(b, [...BASE, '--pager-end', '--lines=5', '--unit=kubelet']);
    const lines = out.split('\n').filter(Boolean);
    expect(code).toBe(0);
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(/^Nov 27 \d\d:\d\d:\d\d\.\d{6} shape-node kubelet\[\d+\]: [IWE]1127 /);
    await b.close();
  });
});

describe('in-process journal: systemd ≥ 254 --lines semantics (modelled from upstream source)', () => {
  const boot = 'b'.repeat(32);
  const t0 = 1795000000n * 1_000_000n;
  const entries: JournalEntry[] = Array.from({ length: 10 }, (_, i) => ({
    realtimeUsec: t0 + BigInt(i) * 1_000_000n, monotonicUsec: BigInt(i + 1) * 1_000_000n, bootId: boot, unit: 'kubelet.service', identifier: 'kubelet', pid: 9, hostname: 'h', priority: 6, message: `line ${i}`,
  }));
  const at = (s: number): string => kubeletTime(1795000000_000 + s * 1000);
  const msgs = (out: string): string[] => out.split('\n').filter((l) => l.includes('line ')).map((l) => l.slice(l.indexOf('line ')));

  it('takes the newest N inside --since, and counts back from --until', async () => {
    const v252 = await createJournalBackend(entries, { prefer: 'inprocess', workDir: tmpdir(), systemdVersion: 252 });
    const v255 = await createJournalBackend(entries, { prefer: 'inprocess', workDir: tmpdir(), systemdVersion: 255 });
    const sinceLines = [...BASE, `--since=${at(2)}`, '--lines=3'];
    expect(msgs((await runOn(v252, sinceLines)).out)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(msgs((await runOn(v255, sinceLines)).out)).toEqual(['line 7', 'line 8', 'line 9']);
    const untilLines = [...BASE, `--until=${at(5)}`, '--lines=2'];
    expect((await runOn(v252, untilLines)).out).toBe('-- No entries --\n');
    expect(msgs((await runOn(v255, untilLines)).out)).toEqual(['line 4', 'line 5']);
    const narrow = [...BASE, `--since=${at(8)}`, `--until=${at(9)}`, '--lines=5'];
    expect(msgs((await runOn(v255, narrow)).out)).toEqual(['line 8', 'line 9']);
    expect((await runOn(v255, [...BASE, '--boot', '4'])).out).toBe('No journal boot entry found from the specified boot offset (+4).\n');
  });
});

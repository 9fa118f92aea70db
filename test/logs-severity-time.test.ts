import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLineTime, setNowForTests, splitLine } from '../src/logs/header.js';
import { detectSeverity } from '../src/logs/severity.js';

function sev(line: string) {
  const p = splitLine(line);
  return detectSeverity(p.message, p.level);
}

describe('severity', () => {
  it.each([
    ['Nov 27 03:44:01.123456 n kubelet[1]: E1127 03:44:01.123456    1 x.go:1] "Probe ok"', 'error'],
    ['Nov 27 03:44:01.123456 n kubelet[1]: W1127 03:44:01.123456    1 x.go:1] "x"', 'warning'],
    ['Nov 27 03:44:01.123456 n kubelet[1]: F1127 03:44:01.123456    1 x.go:1] "x"', 'fatal'],
    ['Nov 27 03:44:01.123456 n kubelet[1]: I1127 03:44:01.123456    1 x.go:1] "Probe failed" err="boom"', 'info'],
    ['I1127 03:44:01.123456    1 x.go:1] raw klog file line', 'info'],
    ['Nov 27 03:44:01.123456 n containerd[2]: time="2026-11-27T03:44:01Z" level=warning msg="x"', 'warning'],
    ['{"ts":"2026-11-27T03:44:01Z","level":"error","msg":"x"}', 'error'],
    ['Nov 27 03:44:01.123456 n kernel: Out of memory: Killed process 1 (java)', 'error'],
    ['Nov 27 03:44:01.123456 n kernel: Kernel panic - not syncing', 'fatal'],
    ['Nov 27 03:44:01.123456 n app[3]: [WARN] disk almost full', 'warning'],
    ['Nov 27 03:44:01.123456 n app[3]: dial tcp 10.0.0.1:443: i/o timeout', 'error'],
    ['Nov 27 03:44:01.123456 n kernel: eth0: link up', 'unknown'],
    ['11/27/2026 3:44:01 AM  1000 Error       kubelet failed to start', 'error'],
    ['11/27/2026 3:44:01 AM  1000 Information kubelet started', 'info'],
  ])('%s → %s', (line, expected) => {
    expect(sev(line)).toBe(expected);
  });
});

describe('parseLineTime', () => {
  // Yearless dates more than a day ahead of "now" roll back a year: pin now after every date below.
  beforeAll(() => setNowForTests(Date.UTC(2027, 5, 1)));
  afterAll(() => setNowForTests(undefined));
  const iso = (line: string, year?: number) => {
    const t = parseLineTime(line, year);
    return t === undefined ? undefined : new Date(t).toISOString();
  };
  it.each([
    ['Nov 27 03:44:01.123456 host kubelet[1]: x', 2026, '2026-11-27T03:44:01.123Z'],
    ['Nov  7 03:44:01 host sshd[1]: x', 2025, '2025-11-07T03:44:01.000Z'],
    ['I1127 03:44:01.123456    1 x.go:1] x', 2026, '2026-11-27T03:44:01.123Z'],
    ['E0101 00:00:00.000001    1 x.go:1] x', 2027, '2027-01-01T00:00:00.000Z'],
    ['2026-11-27T03:44:01.123456789Z stdout F hello', undefined, '2026-11-27T03:44:01.123Z'],
    ['2026-11-27T05:44:01+02:00 x', undefined, '2026-11-27T03:44:01.000Z'],
    ['time="2026-11-27T03:44:01.5Z" level=info msg=x', undefined, '2026-11-27T03:44:01.500Z'],
    ['{"level":"info","ts":"2026-11-27T03:44:01Z"}', undefined, '2026-11-27T03:44:01.000Z'],
    ['11/27/2026 3:44:01 AM  1 Information x', undefined, '2026-11-27T03:44:01.000Z'],
    ['11/27/2026 3:44:01 PM  1 Information x', undefined, '2026-11-27T15:44:01.000Z'],
    ['12/01/2026 12:05:00 AM x', undefined, '2026-12-01T00:05:00.000Z'],
  ])('%s', (line, year, expected) => {
    expect(iso(line, year)).toBe(expected);
  });

  it.each(['', '-- No entries --', 'hello world', 'Nov', 'Foo 27 03:44:01 x', 'I1327 03:44:01.1 x', '2026-13-01T00:00:00Z'])(
    'no time in %j',
    (line) => {
      expect(parseLineTime(line, 2026)).toBeUndefined();
    },
  );
});

describe('header split', () => {
  it('strips journal and klog headers and names the journal identifier', () => {
    const p = splitLine('Nov 27 03:44:01.123456 node-a kubelet[2291]: E1127 03:44:01.123456    2291 pod_workers.go:1301] "Error syncing pod"');
    expect(p).toMatchObject({ ident: 'kubelet', message: '"Error syncing pod"', level: 'error' });
    expect(splitLine('Nov 27 03:44:01.123456 node-a kernel: eth0: link up')).toMatchObject({ ident: 'kernel', message: 'eth0: link up' });
    expect(splitLine('2026-11-27T03:44:01.1Z stderr F boom').message).toBe('boom');
  });
});

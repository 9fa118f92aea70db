import { describe, expect, it } from 'vitest';
import { planLogRequest } from '../src/query/plan.js';
import type { LogRequestPlan, NodeLogQueryInput, NodeOs, QueryLimits } from '../src/query/types.js';
import { TEST_LIMITS } from './support/query-limits.js';

const limits: QueryLimits = TEST_LIMITS;
const now = new Date('2026-11-27T12:00:00.750Z');

function plan(input: NodeLogQueryInput, os: NodeOs = 'linux', node = 'worker-1'): LogRequestPlan {
  const r = planLogRequest(node, input, { os, limits, now });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.plan;
}
/** What Go's url.ParseQuery would see on the kubelet side (a file path has no query string at all). */
function wire(p: LogRequestPlan): [string, string][] {
  const q = p.path.indexOf('?');
  return q < 0 ? [] : [...new URLSearchParams(p.path.slice(q + 1))];
}

describe('journal plans: exact wire params', () => {
  it('repeats query= in order, keeps the trailing slash, encodes the node', () => {
    const p = plan({ query: ['kubelet', 'containerd', 'crio'], tailLines: 10 });
    expect(p.kind).toBe('journal');
    expect(p.path).toBe('/api/v1/nodes/worker-1/proxy/logs/?query=kubelet&query=containerd&query=crio&tailLines=10');
    expect(p.kind === 'journal' && [...p.params]).toEqual([['query', 'kubelet'], ['query', 'containerd'], ['query', 'crio'], ['tailLines', '10']]);
    expect(p.kind === 'journal' && p.services).toEqual(['kubelet', 'containerd', 'crio']);
  });

  it('orders params query, pattern, sinceTime, untilTime, tailLines, boot', () => {
    const p = plan({ query: 'kubelet', boot: -1, tailLines: 5, untilTime: '2026-11-27T11:00:00Z', sinceTime: '2026-11-27T10:00:00Z', pattern: 'x' });
    expect(wire(p).map(([k]) => k)).toEqual(['query', 'pattern', 'sinceTime', 'untilTime', 'tailLines', 'boot']);
    expect(p.path).toBe('/api/v1/nodes/worker-1/proxy/logs/?query=kubelet&pattern=x&sinceTime=2026-11-27T10%3A00%3A00Z&untilTime=2026-11-27T11%3A00%3A00Z&tailLines=5&boot=-1');
  });

  it.each([
    ['2026-11-27T03:44:01Z', '2026-11-27T03:44:01Z'],
    ['2026-11-27T04:44:01+01:00', '2026-11-27T03:44:01Z'],
    ['2026-11-26T22:14:01-05:30', '2026-11-27T03:44:01Z'],
    ['2026-11-27T00:30:00.5+01:00', '2026-11-26T23:30:00.5Z'],
    ['2026-01-01T00:59:59.123456789+01:00', '2025-12-31T23:59:59.123456789Z'],
    ['2024-03-01T00:00:00+00:01', '2024-02-29T23:59:00Z'],
  ])('sends %s as the UTC instant %s, in whole seconds (since down, until up), and cuts exactly here', (given, utc) => {
    // untilTime = sinceTime keeps the window inside the server max for old dates.
    const p = plan({ query: 'kubelet', sinceTime: given, untilTime: given, tailLines: 1 });
    const ms = Date.parse(utc);
    const sec = (t: number) => `${new Date(t).toISOString().slice(0, 19)}Z`;
    expect(p.kind === 'journal' && p.params.get('sinceTime')).toBe(sec(Math.floor(ms / 1000) * 1000));
    expect(p.kind === 'journal' && p.params.get('untilTime')).toBe(sec(Math.ceil(ms / 1000) * 1000));
    expect(p.effective.sinceTime).toBe(utc);
    expect(p.kind === 'journal' && p.wire.window).toEqual({ sinceMs: ms, untilMs: ms });
    // A window with tailLines always carries a pattern (journalctl < 254 gives the first N or nothing otherwise).
    expect(wire(p)).toContainEqual(['pattern', '^']);
  });

  it.each([
    ['a+b', 'a%2Bb'],
    ['x&tailLines=1', 'x%26tailLines%3D1'],
    ['error code', 'error%20code'],
    ['naïve 日本 😀', 'na%C3%AFve%20%E6%97%A5%E6%9C%AC%20%F0%9F%98%80'],
    ['#frag?q=1', '%23frag%3Fq%3D1'],
  ])('encodes pattern %j so the kubelet decodes it unchanged', (pattern, encoded) => {
    const p = plan({ query: 'kubelet', pattern, tailLines: 1 });
    expect(p.path).toContain(`&pattern=${encoded}&`);
    expect(wire(p)).toContainEqual(['pattern', pattern]);
    expect(wire(p).filter(([k]) => k === 'tailLines')).toEqual([['tailLines', '1']]);
  });

  it('encodes odd node names', () => {
    const r = planLogRequest('a.b-c', { query: 'kubelet', tailLines: 1 }, { os: 'linux', limits, now });
    expect(r.ok && r.plan.path.startsWith('/api/v1/nodes/a.b-c/proxy/logs/?')).toBe(true);
    const bad = planLogRequest('../x', { query: 'kubelet' }, { os: 'linux', limits, now });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues[0].field).toBe('node');
  });

  it('dedupes services with a notice', () => {
    const p = plan({ query: ['kubelet', 'containerd', 'kubelet'], tailLines: 3 });
    expect(wire(p).filter(([k]) => k === 'query')).toEqual([['query', 'kubelet'], ['query', 'containerd']]);
    expect(p.notices.join('\n')).toMatch(/Duplicate services.*kubelet/);
  });

  it('drops blank query values', () => {
    const p = plan({ query: ['', 'kubelet', '  '], tailLines: 3 });
    expect(wire(p)).toEqual([['query', 'kubelet'], ['tailLines', '3']]);
  });

  it('Windows providers: same wire shape, case-insensitive notice', () => {
    const p = plan({ query: 'Microsoft-Windows-Security-SPP', tailLines: 3, pattern: 'Health' }, 'windows');
    expect(p.path).toBe('/api/v1/nodes/worker-1/proxy/logs/?query=Microsoft-Windows-Security-SPP&pattern=Health&tailLines=3');
    expect(p.notices.join('\n')).toMatch(/case-insensitively.*PowerShell -Match/);
  });

  it('notes journalctl smart case only for lowercase patterns where case could matter', () => {
    // klog level letters before digits, letter ranges: matching any case can surprise.
    expect(plan({ query: 'kubelet', pattern: 'e[0-9]{4} ', tailLines: 1 }).notices.join()).toMatch(/case-insensitively/);
    expect(plan({ query: 'kubelet', pattern: 'w1127', tailLines: 1 }).notices.join()).toMatch(/case-insensitively/);
    expect(plan({ query: 'kubelet', pattern: 'pod-[a-z]+', tailLines: 1 }).notices.join()).toMatch(/case-insensitively/);
    // Plain words matching any case is what people expect.
    expect(plan({ query: 'kubelet', pattern: 'error|failed', tailLines: 1 }).notices.join()).not.toMatch(/case-insensitively/);
    expect(plan({ query: 'kubelet', pattern: 'x509', tailLines: 1 }).notices.join()).not.toMatch(/case-insensitively/);
    expect(plan({ query: 'kubelet', pattern: 'E[0-9]{4} ', tailLines: 1 }).notices.join()).not.toMatch(/case-insensitively/);
  });
});

describe('defaults and clamping', () => {
  it('neither tailLines nor a window: the default tail only, reported (no window: journalctl < 254 would take the first N of it)', () => {
    const p = plan({ query: 'kubelet' });
    expect(wire(p)).toEqual([['query', 'kubelet'], ['tailLines', '2000']]);
    expect(p.effective).toMatchObject({ tailLines: 2000, defaultsApplied: ['tailLines'] });
    expect(p.effective.sinceTime).toBeUndefined();
    // Said once, by the answer's scope line (from defaultsApplied), not by a notice as well.
    expect(p.notices).toEqual([]);
  });

  it('only untilTime: bounded by the default window before it, not by a tail', () => {
    const p = plan({ query: 'kubelet', untilTime: '2026-11-27T10:00:00Z' });
    expect(wire(p)).toEqual([['query', 'kubelet'], ['sinceTime', '2026-11-27T09:00:00Z'], ['untilTime', '2026-11-27T10:00:00Z']]);
    expect(p.effective.defaultsApplied).toEqual(['sinceTime']);
    expect(p.notices.join()).toMatch(/Only untilTime given: reading the 1 hour before it/);
  });

  it('tailLines alone: no default window', () => {
    const p = plan({ query: 'kubelet', tailLines: 50 });
    expect(wire(p)).toEqual([['query', 'kubelet'], ['tailLines', '50']]);
    expect(p.effective.defaultsApplied).toEqual([]);
    expect(p.notices).toEqual([]);
  });

  it('sinceTime alone within the max window: sent as given, no tail added', () => {
    const p = plan({ query: 'kubelet', sinceTime: '2026-11-27T00:00:00Z' });
    expect(wire(p)).toEqual([['query', 'kubelet'], ['sinceTime', '2026-11-27T00:00:00Z']]);
  });

  it('tailLines above the server max is clamped with a notice', () => {
    const p = plan({ query: 'kubelet', tailLines: 100000 });
    expect(p.kind === 'journal' && p.params.get('tailLines')).toBe('20000');
    expect(p.effective.tailLines).toBe(20000);
    expect(p.notices.join()).toMatch(/tailLines 100000 is above this server's limit of 20000/);
  });

  it('summary format scans up to maxSummaryTailLines; lines format keeps the lower cap and says where the higher one is', () => {
    const deep = { ...limits, maxSummaryTailLines: 100000 };
    const summary = planLogRequest('worker-1', { query: 'kubelet', tailLines: 100000 }, { os: 'linux', limits: deep, now, format: 'summary' });
    expect(summary.ok && summary.plan.effective.tailLines).toBe(100000);
    expect(summary.ok && summary.plan.notices).toEqual([]);
    const lines = planLogRequest('worker-1', { query: 'kubelet', tailLines: 100000 }, { os: 'linux', limits: deep, now, format: 'lines' });
    expect(lines.ok && lines.plan.effective.tailLines).toBe(20000);
    expect(lines.ok && lines.plan.notices.join()).toMatch(/limit of 20000 for format "lines" \(format "summary" reads up to 100000\)/);
  });

  it('a window wider than maxWindowMs moves sinceTime forward (until = now when absent)', () => {
    const p = plan({ query: 'kubelet', sinceTime: '2026-01-01T00:00:00Z' });
    // now 2026-11-27T12:00:00.750Z minus 7 days, rounded up to whole seconds
    expect(p.kind === 'journal' && p.params.get('sinceTime')).toBe('2026-11-20T12:00:01Z');
    expect(p.notices.join()).toMatch(/wider than this server's limit of 7 days; sinceTime was moved forward to 2026-11-20T12:00:01Z/);
  });

  it('a wide explicit window is clamped against untilTime', () => {
    const p = plan({ query: 'kubelet', sinceTime: '2025-01-01T00:00:00Z', untilTime: '2025-03-01T06:00:00+02:00', tailLines: 10 });
    expect(wire(p)).toEqual([['query', 'kubelet'], ['pattern', '^'], ['sinceTime', '2025-02-22T04:00:00Z'], ['untilTime', '2025-03-01T04:00:00Z'], ['tailLines', '10']]);
  });

  it('returns issues, not a plan, for invalid input', () => {
    const r = planLogRequest('worker-1', { query: 'kubelet', pattern: '(?<=x)' }, { os: 'linux', limits, now });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues[0].message).toMatch(/invalid named capture/);
  });
});

describe('file plans never carry options', () => {
  it('plain file: fetched by path with no query string, default tail with notice', () => {
    const p = plan({ query: '/kube-apiserver.log' });
    expect(p).toMatchObject({
      kind: 'file',
      file: '/kube-apiserver.log',
      path: '/api/v1/nodes/worker-1/proxy/logs/kube-apiserver.log',
      tail: { lines: 2000, initialBytes: 256 * 1024, maxBytes: 32 * 1024 * 1024 },
      localFilter: {},
      effective: { file: '/kube-apiserver.log', tailLines: 2000, defaultsApplied: ['tailLines'] },
    });
    expect(wire(p)).toEqual([]);
  });

  it('options become the local filter and the tail, not wire params', () => {
    const p = plan({ query: '\\pods\\ns_p_u\\c\\0.log', pattern: 'err+', tailLines: 300, sinceTime: '2026-11-27T10:00:00.250+01:00', untilTime: '2026-11-27T11:00:00Z' });
    expect(wire(p)).toEqual([]);
    expect(p.path).toBe('/api/v1/nodes/worker-1/proxy/logs/pods/ns_p_u/c/0.log');
    if (p.kind !== 'file') throw new Error('expected a file plan');
    expect(p.tail.lines).toBe(300);
    expect(p.localFilter).toEqual({ pattern: 'err+', sinceMs: Date.parse('2026-11-27T09:00:00.250Z'), untilMs: Date.parse('2026-11-27T11:00:00Z') });
    expect(p.effective).toMatchObject({ file: '/pods/ns_p_u/c/0.log', pattern: 'err+', sinceTime: '2026-11-27T09:00:00.250Z', untilTime: '2026-11-27T11:00:00Z', tailLines: 300, defaultsApplied: [] });
    expect(p.notices.join()).toMatch(/pattern, sinceTime, untilTime are applied by this server/);
  });

  it('file tail is clamped to the server max; initial bytes never exceed max bytes', () => {
    const r = planLogRequest('n1', { query: '/x.log', tailLines: 99999 }, { os: 'linux', limits: { ...limits, fileTailBytes: 1 << 30 }, now });
    expect(r.ok && r.plan.kind === 'file' && r.plan.tail).toEqual({ lines: 20000, initialBytes: 32 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 });
  });

  it('file names with URL-special characters are encoded', () => {
    const p = plan({ query: '/odd name+&#?.log' });
    expect(p.path).toBe('/api/v1/nodes/worker-1/proxy/logs/odd%20name%2B%26%23%3F.log');
    expect(wire(p)).toEqual([]);
  });

  it('Windows file queries are normalized the same way', () => {
    const p = plan({ query: '\\kubelet.log', tailLines: 5 }, 'windows');
    expect(p.path).toBe('/api/v1/nodes/worker-1/proxy/logs/kubelet.log');
    expect(wire(p)).toEqual([]);
  });
});

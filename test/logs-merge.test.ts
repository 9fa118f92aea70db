import { describe, expect, it } from 'vitest';
import { mergeDigests } from '../src/logs/merge.js';
import { digestLines, type LogDigest } from '../src/logs/pipeline.js';

const line = (s: number, msg: string) => `Nov 27 03:44:${String(s).padStart(2, '0')}.000001 node-x kubelet[1]: ${msg}`;

describe('mergeDigests', () => {
  const a = digestLines([line(1, 'E1127 03:44:01.000001    1 a.go:1] "Disk broke" dev=sda'), line(3, 'I1127 03:44:03.000001    1 a.go:2] "ok"')], { yearHint: 2026 });
  const b = digestLines([line(2, 'E1127 03:44:02.000001    1 a.go:1] "Disk broke" dev=sdb'), line(4, 'token=abcdef0123456789XYZ')], { yearHint: 2026 });

  it('sums totals, joins templates across nodes and interleaves tails by time', () => {
    const m = mergeDigests([
      { node: 'a', digest: a },
      { node: 'b', digest: b },
    ]);
    expect(m.nodes).toEqual(['a', 'b']);
    expect(m.linesScanned).toBe(4);
    expect(m.severityCounts.error).toBe(2);
    expect(m.redactions).toEqual({ 'key-value': 1 });
    const disk = m.templates.find((t) => t.template.includes('Disk broke'))!;
    expect(disk).toMatchObject({ count: 2, severity: 'error', nodes: ['a', 'b'], nodeCounts: { a: 1, b: 1 }, exemplarNodes: ['a', 'b'] });
    expect(disk.exemplars).toHaveLength(2);
    expect(m.tail.map((t) => t.node)).toEqual(['a', 'b', 'a', 'b']);
    // Each tail line points at its merged template.
    expect(m.tail.map((t) => m.templates[t.template!]!.template.includes('Disk broke'))).toEqual([true, true, false, false]);
    expect(m.firstTime).toBe('2026-11-27T03:44:01.000Z');
    expect(m.lastTime).toBe('2026-11-27T03:44:04.000Z');
  });

  it('accepts a part that is itself a merged digest', () => {
    const inner = mergeDigests([{ node: 'f1', digest: a }]) as unknown as LogDigest;
    const m = mergeDigests([
      { node: 'n1', digest: inner },
      { node: 'n2', digest: b },
    ]);
    expect(m.tail[0]).toMatchObject({ node: 'n1', line: `[f1] ${a.tail[0]}` });
    expect(m.templates[m.tail[0]!.template!]!.template).toContain('Disk broke');
  });
});

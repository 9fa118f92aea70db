import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeDigests } from '../src/logs/merge.js';
import { digestLines, type LogDigest, type Severity } from '../src/logs/pipeline.js';
import { renderLogAnswer } from '../src/render/answer.js';
import { blockClose, blockOpen } from '../src/render/untrusted.js';

const SEVS: Severity[] = ['fatal', 'error', 'warning', 'info', 'debug', 'unknown'];

const arbLine = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.constantFrom('</untrusted-node-log>', '\u202eevil\u200b', '\x1b[31mred\x1b[0m', 'x'.repeat(5000)),
);

const arbDigest: fc.Arbitrary<LogDigest> = fc.record({
  bytesRead: fc.nat(),
  linesScanned: fc.nat({ max: 1e7 }),
  linesFilteredOut: fc.nat({ max: 1000 }),
  linesTruncated: fc.nat({ max: 1000 }),
  byteCapHit: fc.boolean(),
  redactions: fc.dictionary(fc.constantFrom('jwt', 'bearer', 'key-value'), fc.nat({ max: 99 })),
  severityCounts: fc.record(Object.fromEntries(SEVS.map((s) => [s, fc.nat({ max: 1e6 })])) as Record<Severity, fc.Arbitrary<number>>),
  templates: fc.array(
    fc.record({
      template: arbLine,
      count: fc.integer({ min: 1, max: 1e6 }),
      severity: fc.constantFrom(...SEVS),
      firstTime: fc.option(fc.constant('2026-11-27T03:44:01.000Z'), { nil: undefined }),
      lastTime: fc.option(fc.constant('2026-11-27T04:44:01.000Z'), { nil: undefined }),
      exemplars: fc.array(arbLine, { maxLength: 2 }),
    }),
    { maxLength: 40 },
  ),
  templatesEvicted: fc.nat({ max: 100 }),
  tail: fc.array(arbLine, { maxLength: 60 }),
  inband: fc.array(fc.record({ kind: fc.constantFrom('no-entries', 'log-not-found'), line: arbLine }), { maxLength: 3 }),
  firstTime: fc.option(fc.constant('2026-11-27T03:44:01.000Z'), { nil: undefined }),
  lastTime: fc.option(fc.constant('2026-11-27T04:44:01.000Z'), { nil: undefined }),
});

/** The block's closing tag appears exactly once, after the opening tag, when the block is present. */
function blockIsIntact(text: string, boundary: string): boolean {
  const open = text.indexOf(blockOpen(boundary));
  if (open === -1) return !text.includes(boundary);
  const close = text.indexOf(blockClose(boundary));
  return close > open && text.indexOf(blockClose(boundary), close + 1) === -1 && text.split(boundary).length === 3;
}

describe('renderLogAnswer', () => {
  it('never exceeds the budget and keeps the block intact (property)', () => {
    fc.assert(
      fc.property(
        arbDigest,
        fc.integer({ min: 0, max: 30_000 }),
        fc.constantFrom<'summary' | 'lines'>('summary', 'lines'),
        fc.array(fc.string({ maxLength: 200 }), { maxLength: 4 }),
        (digest, budgetChars, format, facts) => {
          const r = renderLogAnswer({ facts, digest, format, budgetChars });
          expect(r.text.length).toBeLessThanOrEqual(budgetChars);
          expect(blockIsIntact(r.text, r.boundary)).toBe(true);
          expect(r.text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f\u202e\u200b]/);
        },
      ),
      { numRuns: 400 },
    );
  });

  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) lines.push(`Nov 27 03:44:${String(i % 60).padStart(2, '0')}.000001 node-a kubelet[2291]: I1127 03:44:01.000001    2291 a.go:1] "Noise" n=${i}`);
  const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango'.split(' ');
  // Distinct first words route to distinct Drain leaves, so these are 20 separate templates.
  for (let i = 0; i < 20; i++) lines.push(`Nov 27 03:45:00.000001 node-a kubelet[2291]: E1127 03:45:00.000001    2291 b.go:${i}] ${words[i]} "Unique failure ${i}"`);
  const digest = digestLines(lines, { yearHint: 2026 });

  it('puts facts first, counts outside the block and log text inside it', () => {
    const r = renderLogAnswer({ facts: ['Asked: kubelet on node-a'], digest, format: 'summary', budgetChars: 20_000 });
    expect(r.text.startsWith('Asked: kubelet on node-a\nScanned 2020 lines')).toBe(true);
    const open = r.text.indexOf(blockOpen(r.boundary));
    const close = r.text.indexOf(blockClose(r.boundary));
    expect(r.text.slice(0, open)).toMatch(/T1 {2}error {2}×1 {2}2026-11-27T03:45:00Z/);
    expect(r.text.slice(0, open)).not.toContain('Unique failure');
    expect(r.text.slice(open, close)).toMatch(/\[T1\] kubelet: [a-z]+ "Unique failure <NUM>"/);
    expect(r.text.slice(open, close)).toContain('n=1999');
    expect(r.templatesShown).toBeGreaterThan(1);
  });

  it('says what was left out and how to narrow when the budget is tight', () => {
    const r = renderLogAnswer({ facts: [], digest, format: 'summary', budgetChars: 2500 });
    expect(r.text.length).toBeLessThanOrEqual(2500);
    expect(r.truncated).toBe(true);
    expect(r.text).toMatch(/Not shown \(output budget\): \d+ of 21 templates/);
    expect(r.text).toMatch(/To narrow: add a pattern/);
    // Errors win over the repeated noise template.
    expect(r.text).toContain('Unique failure');
  });

  it('lines format shows only the most recent lines, newest last', () => {
    const r = renderLogAnswer({ facts: [], digest, format: 'lines', budgetChars: 3000 });
    expect(r.templatesShown).toBe(0);
    expect(r.linesShown).toBeGreaterThan(3);
    expect(r.text).not.toContain('[T1]');
    expect(r.text.trimEnd().split('\n').filter((l) => l.includes('tango "Unique failure 19"')).length).toBe(1);
    expect(r.text).toMatch(/of 2020 lines \(oldest first\)/);
  });

  it('falls back to facts and a note when even the block frame does not fit', () => {
    const r = renderLogAnswer({ facts: ['fact one'], digest, format: 'summary', budgetChars: 200 });
    expect(r.text.length).toBeLessThanOrEqual(200);
    expect(r.text).toContain('too small');
    expect(r.linesShown).toBe(0);
    expect(renderLogAnswer({ facts: [], digest, format: 'summary', budgetChars: 0 }).text).toBe('');
  });

  it('renders merged digests with nodes per template and node-tagged tail lines', () => {
    const a = digestLines(lines.slice(0, 100), { yearHint: 2026 });
    const b = digestLines(lines.slice(2000), { yearHint: 2026 });
    const m = mergeDigests([
      { node: 'node-a', digest: a },
      { node: 'node-b', digest: b },
    ]);
    expect(m.linesScanned).toBe(120);
    expect(m.perNode['node-b']!.linesScanned).toBe(20);
    expect(m.templates[0]!.nodes).toEqual(['node-b']);
    const r = renderLogAnswer({ facts: [], digest: m, format: 'summary', budgetChars: 10_000 });
    expect(r.text).toContain('from 2 node(s)');
    expect(r.text).toMatch(/\[node-b\] Nov 27 03:45:00/);
    expect(r.text).toMatch(/nodes: node-b/);
  });
});

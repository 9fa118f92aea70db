import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyInbandLine } from '../src/logs/inband.js';
import { LineSplitter } from '../src/logs/lines.js';
import { digestLines, digestLogStream } from '../src/logs/pipeline.js';

const enc = new TextEncoder();

function split(chunks: Uint8Array[], maxLineChars = 2000): string[] {
  const out: string[] = [];
  const s = new LineSplitter({ maxLineChars, onLine: (l) => out.push(l) });
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

function chunkAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

async function* source(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

const H = (s: number, ident = 'kubelet[2291]') => `Nov 27 03:44:${String(s).padStart(2, '0')}.000001 node-a ${ident}: `;

describe('line splitting', () => {
  it('gives the same lines for any chunking (multi-byte UTF-8, CRLF, empty lines, no final newline)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        (lines, cuts, crlf) => {
          const text = lines.join(crlf ? '\r\n' : '\n');
          const bytes = enc.encode(text);
          const whole = split([bytes]);
          expect(split(chunkAt(bytes, cuts))).toEqual(whole);
          // A final newline ends the last line rather than starting an empty one.
          const expected = text.split(crlf ? '\r\n' : '\n');
          if (expected[expected.length - 1] === '') expected.pop();
          expect(whole).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('turns invalid UTF-8 into U+FFFD per line without disturbing the next line', () => {
    const bytes = new Uint8Array([0x61, 0xff, 0x62, 0x0a, 0xe2, 0x82, 0x0a, 0x63]);
    expect(split([bytes])).toEqual(['a\ufffdb', '\ufffd', 'c']);
  });

  it('keeps a prefix of over-long lines with a marker giving the full length, also across chunks', () => {
    const long = 'x'.repeat(10_000);
    const bytes = enc.encode(`short\n${long}\nafter\n`);
    for (const chunks of [[bytes], chunkAt(bytes, [3, 100, 4000, 9000, 10_003])]) {
      const out = split(chunks, 50);
      expect(out[0]).toBe('short');
      expect(out[1]).toBe(`${'x'.repeat(50)} …[line truncated: 10000 bytes]`);
      expect(out[2]).toBe('after');
    }
  });
});

describe('digestLogStream', () => {
  const lines = Array.from({ length: 100 }, (_, i) => `${H(i % 60)}I1127 03:44:01.000001    2291 kubelet.go:1] "Line" n=${i}`);
  const body = enc.encode(lines.join('\n') + '\n');

  it('reads everything under the cap and reports the totals', async () => {
    const d = await digestLogStream(source(chunkAt(body, [7, 500, 1234])), { maxBytes: 1e9, yearHint: 2026 });
    expect(d.bytesRead).toBe(body.length);
    expect(d.byteCapHit).toBe(false);
    expect(d.linesScanned).toBe(100);
    expect(d.tail).toHaveLength(100);
    expect(d.tail[99]).toBe(lines[99]);
    expect(d.templates).toHaveLength(1);
    expect(d.templates[0]!.count).toBe(100);
    expect(d.firstTime).toBe('2026-11-27T03:44:00.000Z');
  });

  it('stops at maxBytes, drops the cut line and closes the source', async () => {
    let closed = false;
    let pulled = 0;
    async function* gen(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled++;
          yield body;
        }
      } finally {
        closed = true;
      }
    }
    const cap = body.length + 100;
    const d = await digestLogStream(gen(), { maxBytes: cap });
    expect(d.byteCapHit).toBe(true);
    expect(d.bytesRead).toBe(cap);
    expect(d.linesScanned).toBe(100 + Math.floor(100 / (lines[0]!.length + 1)));
    expect(closed).toBe(true);
    expect(pulled).toBe(2);
  });

  it('rejects promptly with the abort reason, even while the source is stalled', async () => {
    const ac = new AbortController();
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield body;
      await new Promise(() => {}); // never resolves
    }
    const p = digestLogStream(stalled(), { maxBytes: 1e9, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('client went away')), 10);
    await expect(p).rejects.toThrow('client went away');
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(digestLogStream(source([body]), { maxBytes: 1e9, signal: pre.signal })).rejects.toThrow('already');
  });

  it('keeps the tail bounded and ordered', async () => {
    const d = await digestLogStream(source([body]), { maxBytes: 1e9, keepTail: 7 });
    expect(d.tail).toEqual(lines.slice(-7));
  });
});

describe('digestLines', () => {
  it('collects in-band kubelet/journalctl messages apart from log lines', () => {
    const d = digestLines(['-- No entries --', '', 'log not found for foo', `${H(1)}hello`], {
      classifyInband: classifyInbandLine,
    });
    expect(d.inband).toEqual([
      { kind: 'no-entries', line: '-- No entries --' },
      { kind: 'log-not-found', line: 'log not found for foo' },
    ]);
    expect(d.linesScanned).toBe(1);
  });

  it('counts lines rejected by the local filter and nothing else about them', () => {
    const d = digestLines([`${H(1)}keep error here`, `${H(2)}drop me`, `${H(3)}keep too`], {
      lineFilter: (l) => l.includes('keep'),
    });
    expect(d.linesFilteredOut).toBe(1);
    expect(d.linesScanned).toBe(2);
    expect(d.tail.some((l) => l.includes('drop'))).toBe(false);
  });

  it('redacts before anything is kept: templates, exemplars and tail', () => {
    const d = digestLines([`${H(1)}login password=hunter2xyz ok`], {});
    const kept = JSON.stringify([d.templates, d.tail]);
    expect(kept).not.toContain('hunter2xyz');
    expect(d.redactions).toEqual({ 'key-value': 1 });
  });

  it('bounds templates with an LRU that keeps error templates longer and counts evictions', () => {
    const lines: string[] = [`${H(0)}E1127 03:44:00.000001    2291 x.go:1] "Disk failing badly"`];
    for (let i = 0; i < 50; i++) lines.push(`${H(1)}I1127 03:44:01.000001    2291 x.go:1] ${'abcdefghijklmnopqrstuvwxyz'.slice(0, 1 + (i % 26))} ${'w'.repeat(1 + i)}`);
    const d = digestLines(lines, { maxTemplates: 10 });
    expect(d.templates.length).toBeLessThanOrEqual(10);
    expect(d.templatesEvicted).toBeGreaterThan(0);
    expect(d.templates.length + d.templatesEvicted).toBe(51);
    expect(d.templates[0]!.severity).toBe('error');
    expect(d.templates[0]!.template).toContain('Disk failing');
  });

  it('ranks error templates first, then rare ones, then repeated noise', () => {
    const lines: string[] = [];
    for (let i = 0; i < 500; i++) lines.push(`${H(i % 60)}I1127 03:44:01.000001    2291 a.go:1] "Noise" n=${i}`);
    lines.push(`${H(5)}I1127 03:44:05.000001    2291 b.go:1] "Rare thing happened once"`);
    for (let i = 0; i < 3; i++) lines.push(`${H(6)}E1127 03:44:06.000001    2291 c.go:1] "Failed badly" attempt=${i}`);
    const d = digestLines(lines, { yearHint: 2026 });
    expect(d.templates.map((t) => t.severity)).toEqual(['error', 'info', 'info']);
    expect(d.templates[1]!.count).toBe(1);
    expect(d.templates[2]!.count).toBe(500);
    expect(d.templates[0]!.firstTime).toBe('2026-11-27T03:44:06.000Z');
    expect(d.templates[0]!.exemplars).toHaveLength(2);
  });
});

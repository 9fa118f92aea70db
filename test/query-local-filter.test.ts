import { describe, expect, it } from 'vitest';
import { makeLocalLineFilter, makeLocalTailFilter } from '../src/query/local-filter.js';

// Stand-in for src/logs/timestamp.ts parseLineTime: klog-ish "I1127 10:00:05" → ms of a fixed day.
const DAY = Date.parse('2026-11-27T00:00:00Z');
function timeOf(line: string): number | undefined {
  const m = /^[IWEF]\d{4} (\d{2}):(\d{2}):(\d{2})/.exec(line);
  return m ? DAY + ((+m[1] * 60 + +m[2]) * 60 + +m[3]) * 1000 : undefined;
}
const at = (hhmmss: string) => Date.parse(`2026-11-27T${hhmmss}Z`);
const run = { signal: new AbortController().signal };
/** Every matching line of `ls` (no tail limit). */
const filterAll = async (spec: Parameters<typeof makeLocalTailFilter>[0], ls: string[] = lines) => (await makeLocalTailFilter(spec, timeOf, run)(ls, Infinity)).kept;

const lines = [
  'orphan line before any timestamp',
  'I1127 09:59:59 starting',
  'E1127 10:00:00 panic: boom',
  '  goroutine 1 [running]:',
  '  main.main()',
  'I1127 10:00:30 Error resolved',
  'W1127 10:01:00 slow disk',
  '\tcontinuation of slow disk',
  'I1127 10:02:00 done',
];

describe('makeLocalLineFilter', () => {
  it('no filter keeps everything', async () => {
    expect(await filterAll({})).toEqual(lines);
  });

  it('time window is inclusive and continuation lines inherit the previous time', async () => {
    expect(await filterAll({ sinceMs: at('10:00:00'), untilMs: at('10:01:00') })).toEqual([
      'orphan line before any timestamp',
      'E1127 10:00:00 panic: boom',
      '  goroutine 1 [running]:',
      '  main.main()',
      'I1127 10:00:30 Error resolved',
      'W1127 10:01:00 slow disk',
      '\tcontinuation of slow disk',
    ]);
  });

  it('continuations of a line outside the window are dropped with it', async () => {
    expect(await filterAll({ untilMs: at('09:59:59') })).toEqual(['orphan line before any timestamp', 'I1127 09:59:59 starting']);
  });

  it('pattern uses smart case: lowercase matches case-insensitively', async () => {
    expect(await filterAll({ pattern: 'error|panic' })).toEqual(['E1127 10:00:00 panic: boom', 'I1127 10:00:30 Error resolved']);
  });

  it('pattern with an uppercase letter is case-sensitive', async () => {
    expect(await filterAll({ pattern: 'Error' })).toEqual(['I1127 10:00:30 Error resolved']);
    expect(await filterAll({ pattern: 'ERROR' })).toEqual([]);
  });

  it('pattern and window combine', async () => {
    expect(await filterAll({ pattern: '^\\s', sinceMs: at('10:00:45') })).toEqual(['\tcontinuation of slow disk']);
  });

  it('Go-only syntax works locally', async () => {
    expect(await filterAll({ pattern: '\\Q[running]\\E|[[:upper:]]\\d{4} 10:02' })).toEqual(['  goroutine 1 [running]:', 'I1127 10:02:00 done']);
  });

  it('each pass starts afresh: a continuation first in the pass is kept, then inherits its predecessor', async () => {
    const spec = { sinceMs: at('10:01:00') };
    const f = makeLocalTailFilter(spec, timeOf, run);
    expect((await f(['I1127 10:05:00 late'], Infinity)).kept).toEqual(['I1127 10:05:00 late']);
    expect((await f(['a continuation with no time seen yet', 'I1127 09:00:00 early', 'continuation of early'], Infinity)).kept).toEqual(['a continuation with no time seen yet']);
  });

  it('keeps only the newest `want` matches and stops looking once it has them', async () => {
    const r = await makeLocalTailFilter({ pattern: 'I1127' }, timeOf, run)(lines, 2);
    expect(r.kept).toEqual(['I1127 10:00:30 Error resolved', 'I1127 10:02:00 done']);
    expect(r.examined).toBe(4);
    expect(r.cut).toBe(false);
  });

  it('matches the redacted line: a pattern cannot probe a secret', async () => {
    const ls = ['I1127 10:00:00 Authorization: Bearer s3cr3tT0kenValue1234', 'I1127 10:00:01 password=hunter2X9 ok'];
    expect(await filterAll({ pattern: 's3cr3t' }, ls)).toEqual([]);
    expect(await filterAll({ pattern: 'Bearer s' }, ls)).toEqual([]);
    expect(await filterAll({ pattern: 'password=h' }, ls)).toEqual([]);
    expect(await filterAll({ pattern: 'Bearer' }, ls)).toEqual([ls[0]]);
    expect(await filterAll({ pattern: 'REDACTED' }, ls)).toEqual(ls);
  });

  it('a costly pattern is cut by the budget, newest lines first, and yields to the event loop meanwhile', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `I1127 10:00:00 GET /api/v1/nodes?limit=500 200 OK in ${i} ms from 10.0.0.${i % 255}`);
    // The event loop keeps turning: the longest gap between two timer ticks stays far below the run (which,
    // unsliced, would block for the whole 20000 lines, seconds).
    let last = Date.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      maxGap = Math.max(maxGap, Date.now() - last);
      last = Date.now();
    }, 5);
    const started = Date.now();
    const r = await makeLocalTailFilter({ pattern: '.*'.repeat(32) + 'zzz' }, timeOf, { ...run, budget: { deadline: Date.now() + 300 } })(many, 100);
    clearInterval(timer);
    expect(r.cut).toBe(true);
    expect(r.examined).toBeLessThan(many.length);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(maxGap).toBeLessThan(250);
  });

  it('stops with the signal\'s reason when the call is aborted', async () => {
    const many = Array.from({ length: 50_000 }, (_, i) => `I1127 10:00:00 line ${i} with some words to match against`);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new DOMException('deadline', 'TimeoutError')), 50);
    await expect(makeLocalTailFilter({ pattern: '.*'.repeat(32) + 'zzz' }, timeOf, { signal: ac.signal })(many, 100)).rejects.toThrow('deadline');
  });
});

describe('makeLocalLineFilter (streams: journal windows, .gz files)', () => {
  it('keeps the window rules and matches the redacted line', () => {
    const f = makeLocalLineFilter({ pattern: 's3cr3t|Bearer|panic', sinceMs: at('10:00:00') }, timeOf);
    const fed = ['I1127 09:59:59 panic early', 'I1127 10:00:01 Authorization: Bearer s3cr3tT0kenValue1234', 'E1127 10:00:02 panic: boom', '  continuation s3cr3t'];
    expect(fed.filter(f)).toEqual([fed[1], fed[2], fed[3]]); // text outside a secret still matches
    const g = makeLocalLineFilter({ pattern: 's3cr3tT0ken' }, timeOf);
    expect(g(fed[1]!)).toBe(false);
  });
});

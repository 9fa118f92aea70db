import { describe, expect, it } from 'vitest';
import { makeLocalLineFilter } from '../src/query/local-filter.js';

// Stand-in for src/logs/timestamp.ts parseLineTime: klog-ish "I1127 10:00:05" → ms of a fixed day.
const DAY = Date.parse('2026-11-27T00:00:00Z');
function timeOf(line: string): number | undefined {
  const m = /^[IWEF]\d{4} (\d{2}):(\d{2}):(\d{2})/.exec(line);
  return m ? DAY + ((+m[1] * 60 + +m[2]) * 60 + +m[3]) * 1000 : undefined;
}
const at = (hhmmss: string) => Date.parse(`2026-11-27T${hhmmss}Z`);

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
  it('no filter keeps everything', () => {
    const f = makeLocalLineFilter({}, timeOf);
    expect(lines.filter(f)).toEqual(lines);
  });

  it('time window is inclusive and continuation lines inherit the previous time', () => {
    const f = makeLocalLineFilter({ sinceMs: at('10:00:00'), untilMs: at('10:01:00') }, timeOf);
    expect(lines.filter(f)).toEqual([
      'orphan line before any timestamp',
      'E1127 10:00:00 panic: boom',
      '  goroutine 1 [running]:',
      '  main.main()',
      'I1127 10:00:30 Error resolved',
      'W1127 10:01:00 slow disk',
      '\tcontinuation of slow disk',
    ]);
  });

  it('continuations of a line outside the window are dropped with it', () => {
    const f = makeLocalLineFilter({ untilMs: at('09:59:59') }, timeOf);
    expect(lines.filter(f)).toEqual(['orphan line before any timestamp', 'I1127 09:59:59 starting']);
  });

  it('pattern uses smart case: lowercase matches case-insensitively', () => {
    const f = makeLocalLineFilter({ pattern: 'error|panic' }, timeOf);
    expect(lines.filter(f)).toEqual(['E1127 10:00:00 panic: boom', 'I1127 10:00:30 Error resolved']);
  });

  it('pattern with an uppercase letter is case-sensitive', () => {
    const f = makeLocalLineFilter({ pattern: 'Error' }, timeOf);
    expect(lines.filter(f)).toEqual(['I1127 10:00:30 Error resolved']);
    const g = makeLocalLineFilter({ pattern: 'ERROR' }, timeOf);
    expect(lines.filter(g)).toEqual([]);
  });

  it('pattern and window combine', () => {
    const f = makeLocalLineFilter({ pattern: '^\\s', sinceMs: at('10:00:45') }, timeOf);
    expect(lines.filter(f)).toEqual(['\tcontinuation of slow disk']);
  });

  it('Go-only syntax works locally', () => {
    const f = makeLocalLineFilter({ pattern: '\\Q[running]\\E|[[:upper:]]\\d{4} 10:02' }, timeOf);
    expect(lines.filter(f)).toEqual(['  goroutine 1 [running]:', 'I1127 10:02:00 done']);
  });

  it('is independent per filter instance', () => {
    const spec = { sinceMs: at('10:01:00') };
    const a = makeLocalLineFilter(spec, timeOf);
    a('I1127 10:05:00 late');
    const b = makeLocalLineFilter(spec, timeOf);
    expect(b('a continuation with no time seen yet')).toBe(true);
    expect(b('I1127 09:00:00 early')).toBe(false);
    expect(b('continuation of early')).toBe(false);
  });
});

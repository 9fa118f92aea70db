import { describe, expect, it } from 'vitest';
import { Semaphore } from '../src/limits/semaphore.js';
import { BusyError, CancelledError } from '../src/limits/scheduler.js';

describe('Semaphore (apiserver calls)', () => {
  it('keeps at most max in flight and hands slots over in order', async () => {
    const s = new Semaphore(2, 10);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        s.run(async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setTimeout(r, 10));
          order.push(i);
          inFlight--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order.slice(2).sort()).toEqual([2, 3, 4, 5]);
  });

  it('turns callers away past the waiting bound, and frees a slot when a job fails', async () => {
    const s = new Semaphore(1, 1);
    let release!: () => void;
    const held = s.run(() => new Promise<void>((r) => (release = r)));
    const waiting = s.run(async () => 'second');
    await expect(s.run(async () => 'third')).rejects.toBeInstanceOf(BusyError);
    release();
    await held;
    expect(await waiting).toBe('second');
    await expect(s.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await s.run(async () => 'after')).toBe('after');
  });

  it('a cancelled waiter leaves the queue at once', async () => {
    const s = new Semaphore(1, 5);
    let release!: () => void;
    const held = s.run(() => new Promise<void>((r) => (release = r)));
    const ctrl = new AbortController();
    let ran = false;
    const p = s.run(async () => {
      ran = true;
    }, ctrl.signal);
    ctrl.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    release();
    await held;
    expect(ran).toBe(false);
    expect(await s.run(async () => 1)).toBe(1);
  });
});

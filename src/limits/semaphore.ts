import { BusyError, CancelledError } from './scheduler.js';

/**
 * Bounds the apiserver calls that are not node log requests (node get/list, access reviews, /configz):
 * at most `max` in flight, at most `maxWaiting` waiting, the rest turned away at once as busy.
 */
export class Semaphore {
  private inFlight = 0;
  private readonly waiters: { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort: () => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new CancelledError(undefined, true, signal.reason));
    if (this.inFlight < this.max) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiters.length >= this.maxWaiting) return Promise.reject(new BusyError(1, this.waiters.length));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new CancelledError(undefined, true, signal?.reason));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      next.resolve(); // the slot passes straight to the next waiter
    } else this.inFlight--;
  }
}

import Bottleneck from 'bottleneck';

export interface SchedulerLimits {
  maxConcurrency: number;
  maxConcurrencyPerNode: number;
  requestsPerSecond: number;
  maxQueue: number;
}

export class BusyError extends Error {
  constructor(readonly retryAfterSeconds: number, waiting: number) {
    super(
      `The server is busy: ${waiting} node requests are already waiting for a slot. Retry in about ${retryAfterSeconds} s, or ask for fewer nodes at once (a narrower labelSelector or a smaller maxNodes).`,
    );
    this.name = 'BusyError';
  }
}

export class CancelledError extends Error {
  constructor(message = 'The call was cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * Limits what reaches the cluster: a per-node limiter (each kubelet query is a journalctl process on the
 * node) wrapped around a global one (apiserver load). The per-node wait happens first, so a job stuck behind
 * a busy node never holds a global slot. bottleneck cannot cancel queued jobs, so a cancelled job is
 * settled for its caller at once and skipped when its turn comes.
 */
export class RequestScheduler {
  private readonly global: Bottleneck;
  private readonly perNode: Bottleneck.Group;
  private waiting = 0;
  private running = 0;
  /** Smoothed job duration, for the "retry in N s" estimate. */
  private avgJobMs = 2000;

  constructor(private readonly limits: SchedulerLimits) {
    this.global = new Bottleneck({
      maxConcurrent: limits.maxConcurrency,
      reservoir: limits.requestsPerSecond,
      reservoirRefreshAmount: limits.requestsPerSecond,
      reservoirRefreshInterval: 1000,
    });
    this.perNode = new Bottleneck.Group({ maxConcurrent: limits.maxConcurrencyPerNode, timeout: 60_000 });
  }

  get stats(): { waiting: number; running: number } {
    return { waiting: this.waiting, running: this.running };
  }

  /** Runs fn under the limits. Rejects at once with BusyError past the queue bound, CancelledError on abort. */
  run<T>(node: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(new CancelledError());
    const busySlots = this.limits.maxConcurrency;
    if (this.running >= busySlots && this.waiting >= this.limits.maxQueue) {
      const retry = Math.max(1, Math.ceil(((this.waiting + 1) / busySlots) * (this.avgJobMs / 1000)));
      return Promise.reject(new BusyError(retry, this.waiting));
    }
    this.waiting++;
    let queued = true;
    const leaveQueue = () => {
      if (queued) {
        queued = false;
        this.waiting--;
      }
    };
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        leaveQueue();
        if (!settled) {
          settled = true;
          reject(new CancelledError());
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const job = async (): Promise<void> => {
        leaveQueue();
        if (signal.aborted || settled) return; // cancelled while queued: give the slot back at once
        this.running++;
        const started = Date.now();
        try {
          const value = await fn(signal);
          if (!settled) {
            settled = true;
            resolve(value);
          }
        } catch (err) {
          if (!settled) {
            settled = true;
            reject(err);
          }
        } finally {
          this.running--;
          this.avgJobMs = this.avgJobMs * 0.8 + (Date.now() - started) * 0.2;
          signal.removeEventListener('abort', onAbort);
        }
      };
      this.perNode
        .key(node)
        .schedule(() => (signal.aborted ? Promise.resolve() : this.global.schedule(job)))
        .catch((err: unknown) => {
          leaveQueue();
          if (!settled) {
            settled = true;
            reject(err);
          }
        });
    });
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.global.stop({ dropWaitingJobs: true }).catch(() => undefined),
      ...this.perNode.limiters().map(({ limiter }) => limiter.stop({ dropWaitingJobs: true }).catch(() => undefined)),
    ]);
  }
}

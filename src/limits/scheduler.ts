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
  constructor(
    message = 'The call was cancelled.',
    /** Still waiting for a slot when the signal fired (nothing was sent). */
    readonly whileQueued = false,
    /** The signal's reason: a TimeoutError DOMException when the call's deadline fired. */
    readonly reason?: unknown,
  ) {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * Limits what reaches the cluster: a per-node limiter (each kubelet query is a journalctl process on the
 * node) wrapped around a global one (apiserver load). The per-node wait happens first, so a job stuck behind
 * a busy node never holds a global slot. bottleneck cannot cancel queued jobs, so a cancelled job is
 * settled for its caller at once and skipped when its turn comes.
 *
 * The queue bound counts jobs that had to wait when they arrived, whichever limit held them: a pile-up
 * behind one busy node is bounded too, while jobs that find a free slot never count against it.
 */
export class RequestScheduler {
  private readonly global: Bottleneck;
  private readonly perNode: Bottleneck.Group;
  /** Admitted, not started yet (whether they had to queue or not). */
  private pending = 0;
  /** Admitted because no slot was free: what the queue bound limits. */
  private queued = 0;
  /**
   * Not started, but past the node's limiter (or admitted with a free slot): these take the next global
   * slots. Jobs still waiting on a busy node do not, so they never make another node look busy.
   */
  private claimingGlobal = 0;
  private running = 0;
  /** Pending + running per node, to tell whether a new job for that node could start at once. */
  private readonly activePerNode = new Map<string, number>();
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

  /** waiting: admitted, not started yet; running: in flight. */
  get stats(): { waiting: number; running: number } {
    return { waiting: this.pending, running: this.running };
  }

  /** Runs fn under the limits. Rejects at once with BusyError past the queue bound, CancelledError on abort. */
  /**
   * Runs fn under the global and per-node limits. fn may call holdNode(p) to keep the node's slot (not the
   * global one) until p settles after fn itself is done: a cancelled journal query keeps running on the
   * node until the kubelet's deadline, and the slot stands for that process.
   */
  run<T>(node: string, signal: AbortSignal, fn: (signal: AbortSignal, holdNode: (until: Promise<unknown>) => void) => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(new CancelledError(undefined, true, signal.reason));
    const nodeActive = this.activePerNode.get(node) ?? 0;
    const slotFree = nodeActive < this.limits.maxConcurrencyPerNode && this.running + this.claimingGlobal < this.limits.maxConcurrency;
    if (!slotFree && this.queued >= this.limits.maxQueue) {
      // Drain rate: the global slots, or the node's own slots when that node is the bottleneck.
      const lanes = nodeActive >= this.limits.maxConcurrencyPerNode ? this.limits.maxConcurrencyPerNode : this.limits.maxConcurrency;
      const ahead = nodeActive >= this.limits.maxConcurrencyPerNode ? nodeActive : this.queued;
      const retry = Math.max(1, Math.ceil(((ahead + 1) / lanes) * (this.avgJobMs / 1000)));
      return Promise.reject(new BusyError(retry, this.queued));
    }
    this.pending++;
    if (!slotFree) this.queued++;
    this.activePerNode.set(node, nodeActive + 1);
    let inQueue = true;
    let countedQueued = !slotFree;
    let claiming = slotFree;
    if (claiming) this.claimingGlobal++;
    const claimGlobal = () => {
      if (claiming || !inQueue) return;
      claiming = true;
      this.claimingGlobal++;
    };
    const leaveQueue = () => {
      if (!inQueue) return;
      inQueue = false;
      this.pending--;
      if (claiming) {
        claiming = false;
        this.claimingGlobal--;
      }
      if (countedQueued) {
        countedQueued = false;
        this.queued--;
      }
    };
    let active = true;
    const leaveNode = () => {
      if (!active) return;
      active = false;
      const n = (this.activePerNode.get(node) ?? 1) - 1;
      if (n <= 0) this.activePerNode.delete(node);
      else this.activePerNode.set(node, n);
    };
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let started = false;
      const onAbort = () => {
        if (!started) {
          leaveQueue();
          leaveNode();
        }
        if (!settled) {
          settled = true;
          reject(new CancelledError(undefined, !started, signal.reason));
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let hold: Promise<unknown> | undefined;
      const job = async (): Promise<void> => {
        if (signal.aborted || settled) return; // cancelled while queued: give the slot back at once
        leaveQueue();
        started = true;
        this.running++;
        const startedAt = Date.now();
        try {
          const value = await fn(signal, (until) => {
            hold = until.catch(() => undefined);
          });
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
          if (hold) void hold.then(leaveNode);
          else leaveNode();
          this.avgJobMs = this.avgJobMs * 0.8 + (Date.now() - startedAt) * 0.2;
          signal.removeEventListener('abort', onAbort);
        }
      };
      this.perNode
        .key(node)
        .schedule(async () => {
          if (signal.aborted || settled) return;
          claimGlobal();
          await this.global.schedule(job);
          // The node's limiter slot stays taken while the node still works on this request.
          if (hold) await hold;
        })
        .catch((err: unknown) => {
          if (!started) {
            leaveQueue();
            leaveNode();
          }
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

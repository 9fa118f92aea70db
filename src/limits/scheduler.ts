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

/** The shared limit store (Redis) cannot be reached: the call is refused before anything is sent. */
export class LimitStoreUnavailableError extends Error {
  constructor(readonly retryAfterSeconds: number, detail?: string) {
    super(
      `Node log queries are paused: the shared limit store (Redis) is unreachable from this replica${detail ? ` (${detail})` : ''}; nothing was sent to the node. Retry in about ${retryAfterSeconds} s.`,
    );
    this.name = 'LimitStoreUnavailableError';
  }
}

/** What the tools need from a scheduler: the local one, or the Redis-backed one of several replicas. */
export interface NodeScheduler {
  run<T>(node: string, signal: AbortSignal, fn: (signal: AbortSignal, holdNode: (until: Promise<unknown>) => void) => Promise<T>): Promise<T>;
  readonly stats: { waiting: number; running: number };
  stop(): Promise<void>;
}

/**
 * Cluster mode: the limiters keep their state in Redis (bottleneck's own clustering), so every replica
 * sharing `id` shares the limits.
 */
export interface ClusterLimiterOptions {
  connection: Bottleneck.IORedisConnection;
  /** Key prefix: one per cluster and per limit settings (the first limiter to create a key fixes its settings). */
  id: string;
  /** A crashed replica's global slot is given back this long after its job started. */
  globalExpirationMs: number;
  /** Same for a node slot; it covers the wait for a global slot too. */
  nodeExpirationMs: number;
  /** Turns a bottleneck/Redis failure of a job that never started into the caller's error. */
  storeError: (err: unknown) => Error;
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
export class RequestScheduler implements NodeScheduler {
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

  /** Each job's bottleneck promise, until both its slots are freed. */
  private readonly inBottleneck = new Set<Promise<void>>();
  /** Fails a job that has not started yet (cluster mode: the limit store went away). */
  private readonly notStarted = new Set<(err: Error) => void>();

  constructor(
    private readonly limits: SchedulerLimits,
    private readonly cluster?: ClusterLimiterOptions,
  ) {
    const globalSettings = {
      maxConcurrent: limits.maxConcurrency,
      reservoir: limits.requestsPerSecond,
      reservoirRefreshAmount: limits.requestsPerSecond,
      reservoirRefreshInterval: 1000,
    };
    const nodeSettings = { maxConcurrent: limits.maxConcurrencyPerNode, timeout: 60_000 };
    if (!cluster) {
      this.global = new Bottleneck(globalSettings);
      this.perNode = new Bottleneck.Group(nodeSettings);
      return;
    }
    // Never clearDatastore: a starting replica would wipe the running counts of the others. The 1 s
    // heartbeat makes the reservoir refill every second (a refill is noticed only when a script runs).
    // The {…} hash tags keep each limiter's keys in one slot, should Redis Cluster ever be used.
    const store = { datastore: 'ioredis' as const, connection: cluster.connection, clearDatastore: false };
    this.global = new Bottleneck({ ...globalSettings, ...store, id: `${cluster.id}-{global}`, heartbeatInterval: 1000 });
    this.perNode = new Bottleneck.Group({ ...nodeSettings, ...store, id: `${cluster.id}-node` });
    // bottleneck reports Redis trouble as 'error' events; the limit store's breaker handles it.
    this.global.on('error', () => undefined);
    this.perNode.on('error', () => undefined);
  }

  /** Resolves once the global limiter's state exists (cluster mode: in Redis). */
  ready(): Promise<unknown> {
    return this.global.ready();
  }

  /** Settles every call still waiting for a slot with err (the job is skipped when its turn comes). */
  failWaiting(err: Error): void {
    for (const fail of [...this.notStarted]) fail(err);
  }

  /** Aborts the requests running now (cluster mode: this replica lost its lease, others may reap its slots). */
  private fence = new AbortController();

  fenceRunning(reason: Error): void {
    const f = this.fence;
    this.fence = new AbortController();
    f.abort(reason);
  }

  /** Cluster mode: this replica's bottleneck client ids (global + every node limiter it holds). */
  clientIds(): string[] {
    const id = (l: Bottleneck) => (l as unknown as { _store: { clientId?: string } })._store.clientId;
    return [this.global, ...this.perNode.limiters().map((x) => x.limiter)].map(id).filter((x): x is string => typeof x === 'string');
  }

  /** Cluster mode: runs bottleneck's process_tick on limiter `id` if this replica holds it (frees due jobs, announces capacity). */
  tick(id: string): void {
    const cluster = this.cluster;
    if (!cluster) return;
    const limiter = id === `${cluster.id}-{global}` ? this.global : this.perNode.limiters().find((x) => `${cluster.id}-node-${x.key}` === id)?.limiter;
    void limiter?.running().catch(() => undefined);
  }

  /** Cluster mode: slots in use by all replicas together (the global limiter's count in Redis). */
  clusterRunning(): Promise<number> {
    return this.global.running();
  }

  private nodeKey(node: string): string {
    return this.cluster ? `{${node}}` : node;
  }

  /**
   * A node limiter created while Redis was going away never finishes its init and would fail every later
   * job with that error. Forget it locally (never Group.deleteKey: that deletes the keys the other replicas
   * count on), so the next call builds a fresh one. Relies on Group.instances (bottleneck pinned; tested).
   */
  private dropIfBroken(node: string): void {
    const key = this.nodeKey(node);
    const instances = (this.perNode as unknown as { instances: Record<string, Bottleneck> }).instances;
    const limiter = instances[key];
    limiter?.ready().catch(() => {
      if (instances[key] !== limiter) return;
      delete instances[key];
      // disconnect() returns nothing for a limiter on a shared connection, a promise otherwise.
      void Promise.resolve()
        .then(() => limiter.disconnect(false))
        .catch(() => undefined);
    });
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
        this.notStarted.delete(failWhileWaiting);
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
      const failWhileWaiting = (err: Error) => {
        this.notStarted.delete(failWhileWaiting);
        if (started || settled) return;
        leaveQueue();
        leaveNode();
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      this.notStarted.add(failWhileWaiting);
      const job = async (): Promise<void> => {
        this.notStarted.delete(failWhileWaiting);
        if (signal.aborted || settled) return; // cancelled while queued: give the slot back at once
        leaveQueue();
        started = true;
        this.running++;
        const startedAt = Date.now();
        const fence = this.fence.signal;
        try {
          const value = await fn(this.cluster ? AbortSignal.any([signal, fence]) : signal, (until) => {
            hold = until.catch(() => undefined);
          });
          if (!settled) {
            settled = true;
            resolve(value);
          }
        } catch (err) {
          if (!settled) {
            settled = true;
            reject(fence.aborted && !signal.aborted ? fence.reason : err);
          }
        } finally {
          this.running--;
          if (hold) void hold.then(leaveNode);
          else leaveNode();
          this.avgJobMs = this.avgJobMs * 0.8 + (Date.now() - startedAt) * 0.2;
          signal.removeEventListener('abort', onAbort);
        }
      };
      const nodeJob = { expiration: this.cluster?.nodeExpirationMs };
      const globalJob = { expiration: this.cluster?.globalExpirationMs };
      const inBottleneck = this.perNode
        .key(this.nodeKey(node))
        .schedule(nodeJob, async () => {
          if (signal.aborted || settled) return;
          claimGlobal();
          await this.global.schedule(globalJob, job);
          // The node's limiter slot stays taken while the node still works on this request.
          if (hold) await hold;
        })
        .catch((err: unknown) => {
          this.notStarted.delete(failWhileWaiting);
          if (!started) {
            leaveQueue();
            leaveNode();
          }
          if (this.cluster) this.dropIfBroken(node);
          if (!settled) {
            settled = true;
            signal.removeEventListener('abort', onAbort);
            reject(this.cluster && !started ? this.cluster.storeError(err) : err);
          }
        });
      // Settles only once bottleneck has freed both slots (in cluster mode: in Redis), which its stop() does not wait for.
      this.inBottleneck.add(inBottleneck);
      void inBottleneck.finally(() => this.inBottleneck.delete(inBottleneck));
    });
  }

  /**
   * Drops waiting jobs and waits for running ones, and for their slots to be given back: bottleneck's
   * stop() resolves when a job is done but before its `free` has reached Redis, and a replica that exits
   * then leaves its slots booked until they expire.
   */
  async stop(): Promise<void> {
    // Cluster mode: bottleneck's dropWaitingJobs also drops jobs that have just booked a slot in Redis
    // (registered, not yet executing) without freeing it, so the slot stays booked until it expires.
    // Instead the waiting callers are settled here, and their jobs run as no-ops that give their slot
    // straight back; bottleneck only refuses new jobs.
    const dropWaitingJobs = !this.cluster;
    if (this.cluster) this.failWaiting(new CancelledError('The server is shutting down.', true));
    await Promise.all([
      this.global.stop({ dropWaitingJobs }).catch(() => undefined),
      ...this.perNode.limiters().map(({ limiter }) => limiter.stop({ dropWaitingJobs }).catch(() => undefined)),
    ]);
    await Promise.all([...this.inBottleneck]);
  }
}

import { createHash } from 'node:crypto';
import type { LimitStore } from './limit-store.js';
import { withTimeout } from './deadline.js';
import { LeaseReaper, type LimiterRef } from './lease-reaper.js';
import { LimitStoreUnavailableError, RequestScheduler, type NodeScheduler, type SchedulerLimits } from './scheduler.js';

export interface ClusterSchedulerOptions {
  limits: SchedulerLimits;
  store: LimitStore;
  /** Key prefix (already specific to the cluster); the limit settings' hash is appended. */
  prefix: string;
  /** 'local': per-replica limits while Redis is unreachable (they do NOT hold across replicas). */
  fallback: 'reject' | 'local';
  globalExpirationMs: number;
  nodeExpirationMs: number;
  /** A node slot outlives its request by up to this (the kubelet's deadline: journalctl runs on). */
  nodeHoldMs: number;
  /** Lease for the reaper of dead replicas' slots; 0: expirations only. */
  leaseMs: number;
  onReaped?: (count: number) => void;
  log?: (line: string) => void;
}

/** Retry hint in the tool error: about the time the breaker needs to notice Redis is back. */
const RETRY_AFTER_S = 10;

/**
 * Several replicas share one set of limits through Redis (bottleneck's clustering). The Redis-backed
 * limiters are built once the store first answers, and rebuilt if building them failed. While the store
 * is down, calls are refused at once (or, with fallback 'local', run under this replica's own limits) and
 * calls still waiting for a slot are settled with the same error: nothing waits on a dead Redis.
 */
export class ClusterScheduler implements NodeScheduler {
  private shared?: RequestScheduler;
  private building?: Promise<void>;
  private readonly local: RequestScheduler;
  readonly keyPrefix: string;
  private stopped = false;
  private readonly offChange: () => void;
  private reaper?: LeaseReaper;
  private fenceTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ClusterSchedulerOptions) {
    this.local = new RequestScheduler(opts.limits);
    this.keyPrefix = `${opts.prefix}-${limitsHash(opts.limits)}`;
    this.offChange = opts.store.onChange((up) => {
      if (up) void this.build();
      else this.shared?.failWaiting(this.unavailable());
    });
    if (opts.store.up) void this.build();
  }

  /** True once the shared limiters exist in Redis. */
  get ready(): boolean {
    return this.shared !== undefined;
  }

  get stats(): { waiting: number; running: number } {
    const a = this.shared?.stats ?? { waiting: 0, running: 0 };
    const b = this.local.stats;
    return { waiting: a.waiting + b.waiting, running: a.running + b.running };
  }

  /** Slots in use by all replicas together, or undefined when Redis does not answer. */
  async clusterRunning(): Promise<number | undefined> {
    if (!this.shared || !this.opts.store.up) return undefined;
    return this.shared.clusterRunning().catch(() => undefined);
  }

  run<T>(node: string, signal: AbortSignal, fn: (signal: AbortSignal, holdNode: (until: Promise<unknown>) => void) => Promise<T>): Promise<T> {
    if (this.opts.store.up && this.shared) return this.shared.run(node, signal, fn);
    if (this.opts.fallback === 'local') return this.local.run(node, signal, fn);
    return Promise.reject(this.unavailable());
  }

  private unavailable(detail?: string): LimitStoreUnavailableError {
    return new LimitStoreUnavailableError(RETRY_AFTER_S, detail ?? (this.opts.store.reason || undefined));
  }

  private build(): Promise<void> {
    if (this.shared || this.stopped) return Promise.resolve();
    this.building ??= (async () => {
      const s = new RequestScheduler(this.opts.limits, {
        connection: this.opts.store.connection,
        id: this.keyPrefix,
        globalExpirationMs: this.opts.globalExpirationMs,
        nodeExpirationMs: this.opts.nodeExpirationMs,
        storeError: (err) => (err instanceof LimitStoreUnavailableError ? err : this.unavailable(shortMessage(err))),
      });
      try {
        await withTimeout(s.ready(), 5000, 'the shared limiters did not initialize in Redis within 5 s');
        if (this.stopped) return void (await s.stop());
        this.shared = s;
        if (this.opts.leaseMs > 0) this.startReaper(s);
        this.opts.log?.(`limits shared through Redis (key prefix ${this.keyPrefix})`);
      } catch (err) {
        // A limiter whose init failed stays broken: drop it and build a new one when Redis is next up.
        await s.stop().catch(() => undefined);
        this.opts.log?.(`shared limiters not ready: ${shortMessage(err)}`);
      } finally {
        this.building = undefined;
      }
    })();
    return this.building;
  }

  private startReaper(s: RequestScheduler): void {
    const lease = this.opts.leaseMs;
    const client = this.opts.store.client;
    const globalRef: LimiterRef = { id: `${this.keyPrefix}-{global}`, expirationMs: this.opts.globalExpirationMs, holdMs: 0 };
    const nodePrefix = `b_${this.keyPrefix}-node-`;
    this.reaper = new LeaseReaper({
      client,
      prefix: this.keyPrefix,
      leaseMs: lease,
      ownClientIds: () => s.clientIds(),
      limiters: async () => {
        if (!this.opts.store.up) return [];
        const refs = [globalRef];
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${nodePrefix}*_settings`, 'COUNT', 1000);
          cursor = next;
          for (const k of keys) refs.push({ id: k.slice(2, -'_settings'.length), expirationMs: this.opts.nodeExpirationMs, holdMs: this.opts.nodeHoldMs });
        } while (cursor !== '0');
        return refs;
      },
      onReaped: (id, n) => {
        s.tick(id);
        this.opts.onReaped?.(n);
        this.opts.log?.(`gave back ${n} slot(s) of a replica that stopped renewing its lease (${id})`);
      },
    });
    // Fencing: before others may reap this replica's slots (its leases expire `lease` after the last
    // renewal), it stops its own running requests, so a reaped slot's request has really ended.
    this.fenceTimer = setInterval(() => {
      if (this.reaper && this.reaper.sinceRenewed() > lease - Math.floor(lease / 3))
        s.fenceRunning(new LimitStoreUnavailableError(RETRY_AFTER_S, 'lost mid-request; the request to the node was stopped so that the other replicas can reuse its slot'));
    }, Math.max(100, Math.floor(lease / 6)));
    this.fenceTimer.unref();
  }

  /** Waits for the shared limiters (start-up readiness); rejects after timeoutMs. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.shared) {
      if (Date.now() > deadline) throw new Error('shared limiters not ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.offChange();
    clearInterval(this.fenceTimer);
    await Promise.all([this.local.stop(), this.shared?.stop()]);
    await this.reaper?.close();
  }
}

/** The first limiter to create a key fixes its settings for all: changed limits must use other keys. */
export function limitsHash(l: SchedulerLimits): string {
  return createHash('sha256').update(`${l.maxConcurrency}/${l.maxConcurrencyPerNode}/${l.requestsPerSecond}`).digest('hex').slice(0, 8);
}

/** Default key prefix: one per cluster, so several clusters can share one Redis. */
export function clusterKeyPrefix(apiserverUrl: string): string {
  return `knl-${createHash('sha256').update(apiserverUrl).digest('hex').slice(0, 8)}`;
}

function shortMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 160);
}


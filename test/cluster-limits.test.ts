import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterScheduler } from '../src/limits/cluster-scheduler.js';
import { LimitStore } from '../src/limits/limit-store.js';
import { LimitStoreUnavailableError, RequestScheduler, type SchedulerLimits } from '../src/limits/scheduler.js';
import { haveRedis, RedisServer } from './support/redis-server.js';
import { until } from './support/replica.js';

/**
 * The Redis-backed limits, in one process but on separate connections: to Redis these are three replicas.
 * A counter in the job body (not bottleneck, not Redis) measures what actually runs at once.
 */
const LIMITS: SchedulerLimits = { maxConcurrency: 8, maxConcurrencyPerNode: 2, requestsPerSecond: 1000, maxQueue: 10_000 };

class Meter {
  perNode = new Map<string, number>();
  maxPerNode = new Map<string, number>();
  now = 0;
  max = 0;
  starts: number[] = [];
  job<T>(node: string, ms: number, value?: T) {
    return async () => {
      this.starts.push(Date.now());
      this.now++;
      this.max = Math.max(this.max, this.now);
      const n = (this.perNode.get(node) ?? 0) + 1;
      this.perNode.set(node, n);
      this.maxPerNode.set(node, Math.max(this.maxPerNode.get(node) ?? 0, n));
      await new Promise((r) => setTimeout(r, ms));
      this.perNode.set(node, this.perNode.get(node)! - 1);
      this.now--;
      return value as T;
    };
  }
  get worstNode(): number {
    return Math.max(0, ...this.maxPerNode.values());
  }
}

let redis: RedisServer;
const open: { sched: ClusterScheduler; store: LimitStore }[] = [];
let prefixN = 0;

async function replica(opts: { limits?: SchedulerLimits; prefix?: string; fallback?: 'reject' | 'local'; expirations?: number; leaseMs?: number } = {}) {
  const store = new LimitStore({ url: redis.url, pingIntervalMs: 200, commandTimeoutMs: 1000 });
  const sched = new ClusterScheduler({
    limits: opts.limits ?? LIMITS,
    store,
    prefix: opts.prefix ?? `t${process.pid}-${prefixN}`,
    fallback: opts.fallback ?? 'reject',
    globalExpirationMs: opts.expirations ?? 30_000,
    nodeExpirationMs: opts.expirations ?? 30_000,
    nodeHoldMs: 0,
    leaseMs: opts.leaseMs ?? 0,
  });
  open.push({ sched, store });
  await sched.waitReady(5000);
  return { sched, store };
}

async function closeAll() {
  for (const { sched, store } of open.splice(0)) {
    await sched.stop().catch(() => undefined);
    await store.close();
  }
}

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4'];

describe.skipIf(!haveRedis)('shared limits through a real redis-server', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await closeAll();
    await redis?.dispose();
  });
  afterEach(async () => {
    await closeAll();
    prefixN++;
    if (!(await redis.ping())) await redis.launch();
  });

  it('three replicas hold 2 per node and 8 overall together; three local schedulers do not', async () => {
    const ctrl = new AbortController();
    const shared = new Meter();
    const reps = await Promise.all([replica(), replica(), replica()]);
    const calls = reps.flatMap(({ sched }, r) => Array.from({ length: 40 }, (_, i) => sched.run(NODES[(i + r) % 5]!, ctrl.signal, shared.job(NODES[(i + r) % 5]!, 40, i))));
    expect((await Promise.all(calls)).length).toBe(120);
    expect(shared.worstNode).toBe(2);
    expect(shared.max).toBeLessThanOrEqual(8);
    expect(shared.max).toBeGreaterThanOrEqual(5); // the limits are reached, not merely respected

    const local = new Meter();
    const locals = [0, 1, 2].map(() => new RequestScheduler(LIMITS));
    await Promise.all(locals.flatMap((sched, r) => Array.from({ length: 40 }, (_, i) => sched.run(NODES[(i + r) % 5]!, ctrl.signal, local.job(NODES[(i + r) % 5]!, 100)))));
    await Promise.all(locals.map((s) => s.stop()));
    // Per-process limits multiply by the replica count (up to 6 per node, 24 overall): what the shared limits prevent.
    expect(local.worstNode).toBeGreaterThan(2);
    expect(local.max).toBeGreaterThan(8);
    console.log(`3 schedulers x 40 jobs on 5 nodes: shared max ${shared.worstNode}/node, ${shared.max} overall; local max ${local.worstNode}/node, ${local.max} overall (limits 2/8)`);
  });

  it('the reservoir refills every second across replicas (not only at the 5 s heartbeat)', async () => {
    const limits = { ...LIMITS, maxConcurrency: 100, maxConcurrencyPerNode: 100, requestsPerSecond: 20 };
    const reps = await Promise.all([replica({ limits }), replica({ limits }), replica({ limits })]);
    const m = new Meter();
    const ctrl = new AbortController();
    const t0 = Date.now();
    await Promise.all(reps.flatMap(({ sched }) => Array.from({ length: 20 }, (_, i) => sched.run(NODES[i % 5]!, ctrl.signal, m.job(NODES[i % 5]!, 1)))));
    const took = Date.now() - t0;
    // 60 jobs at 20/s: three refills after the first 20. With bottleneck's default 5 s heartbeat it takes 15 s.
    expect(took).toBeGreaterThan(1900);
    expect(took).toBeLessThan(6000);
    // No sliding 1 s window saw much more than the rate (a refill can fall inside a window once).
    const starts = m.starts.sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[i]! - starts[j]! >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(40);
  });

  it('Redis stopped: calls fail at once with the clear error, waiting calls are settled, and calls work again after a restart that lost every key', async () => {
    const a = await replica();
    const b = await replica();
    const ctrl = new AbortController();
    // Hold node n0's two slots, so two more calls wait.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    const hold = (): Promise<void> => {
      held++;
      return gate;
    };
    const holding = [a.sched.run('n0', ctrl.signal, hold), b.sched.run('n0', ctrl.signal, hold)];
    // Both slots taken before the next two are queued: otherwise, on a loaded machine, a's second call can
    // take the slot b's first call was meant to hold, and run.
    await until('both holding calls to run', () => held === 2, 10_000);
    const waiting = [a.sched.run('n0', ctrl.signal, async () => 'ran'), b.sched.run('n0', ctrl.signal, async () => 'ran')];
    const waitingOutcome = waiting.map((p) => p.then((v) => ({ v }), (e: unknown) => ({ e, at: Date.now() })));
    await new Promise((r) => setTimeout(r, 300));
    const stoppedAt = Date.now();
    await redis.stop();
    await until('the breaker to open', () => !a.store.up && !b.store.up, 3000);
    const outcomes = await Promise.all(waitingOutcome);
    for (const o of outcomes) {
      expect((o as { e: unknown }).e).toBeInstanceOf(LimitStoreUnavailableError);
      expect((o as { at: number }).at - stoppedAt).toBeLessThan(2000);
    }
    const t = Date.now();
    const err = await a.sched.run('n1', ctrl.signal, async () => 'never').catch((e: unknown) => e);
    expect(Date.now() - t).toBeLessThan(50);
    expect(err).toBeInstanceOf(LimitStoreUnavailableError);
    expect((err as Error).message).toMatch(/Node log queries are paused: the shared limit store \(Redis\) is unreachable .* nothing was sent to the node\. Retry in about \d+ s\./);
    // Running calls keep their slots and finish.
    release();
    await Promise.all(holding);

    const restartedAt = Date.now();
    await redis.launch(); // same port, empty
    const recovered = await until('calls to succeed again', async () => {
      const r = await Promise.all([a.sched.run('n0', ctrl.signal, async () => 'ok'), b.sched.run('n2', ctrl.signal, async () => 'ok')]).catch(() => undefined);
      return r && Date.now();
    }, 8000);
    expect(recovered - restartedAt).toBeLessThan(3000);
    // And the limits hold again after the recovery (the keys were re-created by the shim's path).
    const m = new Meter();
    await Promise.all([a, b].flatMap(({ sched }) => Array.from({ length: 12 }, () => sched.run('n3', ctrl.signal, m.job('n3', 30)))));
    expect(m.worstNode).toBe(2);
    console.log(`redis stop→errors ${Math.max(...outcomes.map((o) => (o as { at: number }).at)) - stoppedAt} ms; restart→first success ${recovered - restartedAt} ms`);
  });

  it('Redis paused (SIGSTOP): the breaker opens within 2 s and calls fail fast; after SIGCONT calls work', async () => {
    const a = await replica();
    const ctrl = new AbortController();
    await a.sched.run('n0', ctrl.signal, async () => 'warm');
    const pausedAt = Date.now();
    redis.pause();
    const pending = a.sched.run('n1', ctrl.signal, async () => 'x').then(() => 'ok', (e: unknown) => e);
    await until('the breaker to open', () => !a.store.up, 3000);
    const openedMs = Date.now() - pausedAt;
    expect(openedMs).toBeLessThan(2000);
    expect(await pending).toBeInstanceOf(LimitStoreUnavailableError);
    const t = Date.now();
    expect(await a.sched.run('n1', ctrl.signal, async () => 'x').catch((e: unknown) => e)).toBeInstanceOf(LimitStoreUnavailableError);
    expect(Date.now() - t).toBeLessThan(50);
    // Longer than bottleneck's clientTimeout would be needed for UNKNOWN_CLIENT; the shim covers that path in cluster-redis7.
    await new Promise((r) => setTimeout(r, 1000));
    const resumedAt = Date.now();
    redis.resume();
    const ok = await until('calls to succeed again', () => a.sched.run('n1', ctrl.signal, async () => 'ok').catch(() => undefined), 8000);
    expect(ok).toBe('ok');
    console.log(`redis paused: breaker open after ${openedMs} ms; resumed→first success ${Date.now() - resumedAt} ms`);
  });

  it('Redis absent at start: calls are refused (never hang) until it appears; fallback local runs them under per-replica limits', async () => {
    await redis.stop();
    const store = new LimitStore({ url: redis.url, pingIntervalMs: 200, commandTimeoutMs: 1000 });
    const sched = new ClusterScheduler({ limits: LIMITS, store, prefix: `absent${prefixN}`, fallback: 'reject', globalExpirationMs: 30_000, nodeExpirationMs: 30_000, nodeHoldMs: 0, leaseMs: 0 });
    const fallback = new ClusterScheduler({ limits: LIMITS, store, prefix: `absent${prefixN}`, fallback: 'local', globalExpirationMs: 30_000, nodeExpirationMs: 30_000, nodeHoldMs: 0, leaseMs: 0 });
    open.push({ sched, store }, { sched: fallback, store });
    const ctrl = new AbortController();
    expect(sched.ready).toBe(false);
    expect(await sched.run('n0', ctrl.signal, async () => 'x').catch((e: unknown) => e)).toBeInstanceOf(LimitStoreUnavailableError);
    expect(await fallback.run('n0', ctrl.signal, async () => 'local')).toBe('local');
    const startedAt = Date.now();
    await redis.launch();
    await sched.waitReady(5000);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(await sched.run('n0', ctrl.signal, async () => 'shared')).toBe('shared');
  });

  it('a replica cut off from Redis stops its own requests, and the others get its slots back after about a lease (not at the 60 s expiration)', async () => {
    const LEASE = 1500;
    const a = await replica({ leaseMs: LEASE, expirations: 60_000 });
    const b = await replica({ leaseMs: LEASE, expirations: 60_000 });
    const m = new Meter();
    const ctrl = new AbortController();
    // A holds both slots of n0 with requests that only end when their signal fires.
    const hold = (sig: AbortSignal) =>
      new Promise<never>((_, reject) => {
        m.now++;
        m.perNode.set('n0', (m.perNode.get('n0') ?? 0) + 1);
        m.maxPerNode.set('n0', Math.max(m.maxPerNode.get('n0') ?? 0, m.perNode.get('n0')!));
        sig.addEventListener('abort', () => {
          m.perNode.set('n0', m.perNode.get('n0')! - 1);
          m.now--;
          reject(sig.reason);
        });
      });
    const held = [a.sched.run('n0', ctrl.signal, hold), a.sched.run('n0', ctrl.signal, hold)].map((p) => p.catch((e: unknown) => e));
    await until('A to hold n0', () => m.perNode.get('n0') === 2, 3000);
    // A's connection goes away for good (as a crashed or partitioned replica's would).
    const cutAt = Date.now();
    a.store.client.disconnect();
    const bStarted = b.sched.run('n0', ctrl.signal, async () => {
      const n = (m.perNode.get('n0') ?? 0) + 1;
      m.maxPerNode.set('n0', Math.max(m.maxPerNode.get('n0') ?? 0, n));
      return Date.now();
    });
    const outcomes = await Promise.all(held);
    const fencedAt = Date.now();
    for (const o of outcomes) {
      expect(o).toBeInstanceOf(LimitStoreUnavailableError);
      expect((o as Error).message).toMatch(/lost mid-request/);
    }
    const startedAt = await bStarted;
    // Fenced before its slots could be reaped: never 3 on n0.
    expect(m.worstNode).toBe(2);
    expect(fencedAt).toBeLessThanOrEqual(startedAt);
    expect(startedAt - cutAt).toBeLessThan(LEASE + 2500);
    console.log(`replica cut off: its requests stopped after ${fencedAt - cutAt} ms, its slots reused by another replica after ${startedAt - cutAt} ms (lease ${LEASE} ms, expiration 60 s)`);
  });
});

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { planAdmission, SessionTable, type SessionEvent, type SessionPolicy } from './sessions.js';

/** A request running on this replica that a cancel (from any replica) can reach. */
export interface InflightHandle {
  cancel(reason: string | undefined): void;
}

type RequestId = string | number;

interface CancelMessage {
  sid: string;
  /** Absent: every request of the session (DELETE). */
  id?: RequestId;
  reason?: string;
}

export type Created = { ok: true; sid: string } | { ok: false; retryAfterSeconds: number; message: string };

// Both in one step, so a session and its places in the sets never disagree. Keys of older replicas
// (a string, not a hash) are touched and ended all the same.
const TOUCH = `
if redis.call('pexpire', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('zadd', KEYS[2], 'XX', ARGV[2], ARGV[3])
if redis.call('type', KEYS[1]).ok == 'hash' then
  local ck = redis.call('hget', KEYS[1], 'ck')
  if ck then
    redis.call('zadd', ck, 'XX', ARGV[2], ARGV[3])
    redis.call('pexpire', ck, ARGV[1])
  end
end
return 1`;

const END = `
local ck = false
if redis.call('type', KEYS[1]).ok == 'hash' then ck = redis.call('hget', KEYS[1], 'ck') end
local n = redis.call('del', KEYS[1])
redis.call('zrem', KEYS[2], ARGV[1])
if ck then redis.call('zrem', ck, ARGV[1]) end
return {n, redis.call('zcard', KEYS[2])}`;

/** A pipeline or MULTI reply's value, or its error thrown. */
function result(r: [Error | null, unknown]): unknown {
  if (r[0]) throw r[0];
  return r[1];
}

function clean(info: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(info)) if (v !== undefined) out[k] = String(v);
  return out;
}

/** How long a cancel that found no request here is remembered, in case it overtook its request. */
const TOMBSTONE_MS = 10_000;

/**
 * Sessions and cancellations shared by every replica behind one Service, kept in Redis:
 * - a session is a hash `<prefix>:session:<id>` with an idle expiry, minted by us at initialize, and a
 *   member of `<prefix>:sessions` and `<prefix>:sessions:client:<address>` (sorted by last use), so the
 *   session rules of single-replica mode (planAdmission: a cap, idle eviction at the cap, a bound per
 *   client) hold cluster-wide; admission reads, decides and writes under WATCH, so replicas admitting at
 *   the same moment cannot both take the last place;
 * - a notifications/cancelled or a DELETE reaching any replica is published on `<prefix>:cancel`, and the
 *   replica running the request aborts it (the kubelet request included) and closes its response stream.
 */
export class ClusterSessions {
  private readonly subscriber: Redis;
  private readonly inflight = new Map<string, Set<InflightHandle>>();
  private readonly tombstones = new Map<string, number>();
  private subscribed = false;
  private readonly channel: string;
  /**
   * Sessions minted while Redis could not store them (the client then learns from its tool calls what is
   * wrong): admitted on their next request here once Redis answers, else 404. The same rules bound them
   * here meanwhile, per replica.
   */
  private readonly unstored: SessionTable<null>;
  /** WATCH is per connection: admissions get their own, one at a time on this replica. */
  private txn?: Redis;
  private admitting: Promise<unknown> = Promise.resolve();
  private readonly allKey: string;

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    readonly policy: SessionPolicy,
    private readonly onError: (op: string, err: unknown) => void = () => undefined,
    /** The limit store's breaker: while it is open, nothing waits on Redis (a paused Redis would cost each request the command timeout). */
    private readonly storeUp: () => boolean = () => true,
    /** Session events (as in single-replica mode) and, when known, the sessions open cluster-wide. */
    private readonly onEvent: (e: SessionEvent, open?: number) => void = () => undefined,
    /** Bound on one admission, all its Redis round trips together. */
    private readonly admitTimeoutMs = 5000,
  ) {
    this.channel = `${prefix}:cancel`;
    this.allKey = `${prefix}:sessions`;
    this.unstored = new SessionTable<null>(policy, () => undefined);
    // Its own connection: a subscribed connection can run nothing else. Queued while offline, and ioredis
    // subscribes again by itself after a reconnect.
    this.subscriber = client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: 'kube-node-logs-mcp-cancel' });
    this.subscriber.on('error', (err: Error) => this.onError('cancel', err));
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.deliver(text);
    });
    this.subscriber.subscribe(this.channel).then(
      () => (this.subscribed = true),
      (err: unknown) => this.onError('cancel', err),
    );
  }

  /** The cancel channel is subscribed (readiness). */
  get ready(): boolean {
    return this.subscribed;
  }

  private key(sid: string): string {
    return `${this.prefix}:session:${sid}`;
  }

  private clientKey(client: string): string {
    return `${this.prefix}:sessions:client:${client}`;
  }

  /**
   * Mints a session for `client` (its address) under the session rules, evicting as they say, or says
   * why not and when to retry. When Redis is unreachable the id is still handed out (sessions hold no
   * state we need; tool calls say what is wrong), bounded by the same rules on this replica alone.
   */
  async create(info: { protocolVersion?: string; clientName?: string }, client: string): Promise<Created> {
    const sid = randomUUID();
    if (this.storeUp()) {
      const r = await this.admit(sid, client, info);
      if (r !== 'unavailable') return r;
    }
    this.unstored.sweep();
    const local = this.unstored.admit(client);
    if (!local.ok) return local;
    this.unstored.add(sid, client, null);
    return { ok: true, sid };
  }

  /** One admission at a time per replica (their WATCH shares a connection), each bounded in time. */
  private admit(sid: string, client: string, info: object): Promise<Created | 'unavailable'> {
    const run = this.admitting.then(() => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.admitTimeoutMs)));
      return Promise.race([this.admitOnce(sid, client, info), timeout]).then((r) => {
        clearTimeout(timer);
        if (r !== 'timeout') return r;
        this.onError('session', new Error(`session admission took over ${this.admitTimeoutMs} ms`));
        this.resetTxn();
        return 'unavailable' as const;
      });
    });
    this.admitting = run.catch(() => undefined);
    return run;
  }

  private resetTxn(): void {
    this.txn?.disconnect();
    this.txn = undefined;
  }

  private async admitOnce(sid: string, client: string, info: object): Promise<Created | 'unavailable'> {
    const all = this.allKey;
    const mine = this.clientKey(client);
    const idleMs = this.policy.idleMs;
    try {
      const txn = await this.connectedTxn();
      for (let attempt = 0; attempt < 10; attempt++) {
        const now = Date.now();
        // Ids of sessions whose key expired (idle past idleMs) stay in the sets: drop them first.
        const pruned = await txn.multi().zremrangebyscore(all, '-inf', now - idleMs).zremrangebyscore(mine, '-inf', now - idleMs).exec();
        const expired = Number(pruned?.[0]?.[1] ?? 0);
        for (let i = 0; i < expired; i++) this.onEvent('expired');
        await txn.watch(all, mine);
        const [total, count, myOldest, oldest] = (await txn.pipeline().zcard(all).zcard(mine).zrange(mine, 0, 0).zrange(all, 0, 1, 'WITHSCORES').exec())!.map(result);
        const flat = oldest as string[];
        const candidates = [0, 2].filter((i) => i < flat.length).map((i) => ({ id: flat[i]!, lastSeen: Number(flat[i + 1]) }));
        const plan = planAdmission(this.policy, { total: total as number, mine: count as number, myOldest: (myOldest as string[])[0], oldest: candidates }, now);
        if (!plan.ok) {
          await txn.unwatch();
          this.onEvent(plan.event, total as number);
          return { ok: false, retryAfterSeconds: plan.retryAfterSeconds, message: plan.message };
        }
        // An idle-evicted session belongs to some other client, whose set must forget it too.
        const owners = plan.evict.length ? ((await txn.pipeline(plan.evict.map((e) => ['hget', this.key(e.id), 'ck'])).exec())!.map(result) as (string | null)[]) : [];
        const m = txn.multi();
        plan.evict.forEach((e, i) => {
          m.del(this.key(e.id)).zrem(all, e.id);
          const owner = e.why === 'evicted-per-client' ? mine : owners[i];
          if (owner) m.zrem(owner, e.id);
        });
        m.hset(this.key(sid), { ...clean(info), address: client, ck: mine, created: new Date(now).toISOString() })
          .pexpire(this.key(sid), idleMs)
          .zadd(all, now, sid)
          .zadd(mine, now, sid)
          .pexpire(mine, idleMs)
          .zcard(all);
        const done = await m.exec();
        if (done === null) continue; // another replica changed the sets meanwhile: look again
        const open = Number(result(done[done.length - 1]!));
        for (const e of plan.evict) {
          this.onEvent(e.why, open);
          await this.publish({ sid: e.id, reason: `session ended: ${e.why === 'evicted-idle' ? 'evicted (idle) to make room' : 'the client opened too many sessions'}` });
        }
        this.onEvent('opened', open);
        return { ok: true, sid };
      }
      return { ok: false, retryAfterSeconds: 1, message: 'Too many sessions opening at once across replicas; retry in 1 s (Retry-After).' };
    } catch (err) {
      this.onError('session', err);
      this.resetTxn();
      return 'unavailable';
    }
  }

  /** The admission connection, once connected (commands are not queued offline; the admission's bound covers the wait). */
  private async connectedTxn(): Promise<Redis> {
    if (!this.txn) {
      this.txn = this.client.duplicate({ connectionName: 'kube-node-logs-mcp-sessions' });
      this.txn.on('error', (err: Error) => this.onError('session', err));
    }
    const txn = this.txn;
    if (txn.status !== 'ready')
      await new Promise((resolve) => {
        txn.once('ready', resolve);
        txn.once('end', resolve); // reset meanwhile: the next command fails, and says why
      });
    return txn;
  }

  /**
   * Marks a session used (every request on it) and refreshes its idle expiry: 'unknown' → 404;
   * 'unavailable' when Redis cannot tell (the request proceeds).
   */
  async touch(sid: string, client: string): Promise<'ok' | 'unknown' | 'unavailable'> {
    if (!this.storeUp()) {
      this.unstored.touch(sid);
      return 'unavailable';
    }
    try {
      const found = (await this.client.eval(TOUCH, 2, this.key(sid), this.allKey, this.policy.idleMs, Date.now(), sid)) as number;
      if (found === 1) return 'ok';
      if (this.unstored.get(sid) === undefined) return 'unknown';
      // Minted while Redis was away: it takes its place under the cluster-wide rules now, or goes.
      this.unstored.delete(sid);
      const r = await this.admit(sid, client, { note: 'minted while Redis was unreachable' });
      return r === 'unavailable' ? 'unavailable' : r.ok ? 'ok' : 'unknown';
    } catch (err) {
      this.onError('session', err);
      return 'unavailable';
    }
  }

  /** Ends a session and cancels its in-flight requests on every replica. */
  async end(sid: string): Promise<'ok' | 'unknown' | 'unavailable'> {
    const wasUnstored = this.unstored.delete(sid) !== undefined;
    if (!this.storeUp()) {
      this.deliver(JSON.stringify({ sid }));
      return 'unavailable';
    }
    try {
      const n = (await this.client.eval(END, 2, this.key(sid), this.allKey, sid)) as [number, number];
      await this.publish({ sid });
      if (n[0] === 1) this.onEvent('closed', n[1]);
      return n[0] === 1 || wasUnstored ? 'ok' : 'unknown';
    } catch (err) {
      this.onError('session', err);
      this.deliver(JSON.stringify({ sid }));
      return 'unavailable';
    }
  }

  /** Publishes a cancel; it is also handled here at once, in case Redis is not there to echo it. */
  async cancel(sid: string, id: RequestId, reason?: string): Promise<void> {
    const msg: CancelMessage = { sid, id, reason };
    this.deliver(JSON.stringify(msg), false);
    if (!this.storeUp()) return;
    await this.publish(msg).catch((err: unknown) => this.onError('cancel', err));
  }

  private async publish(msg: CancelMessage): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify(msg));
  }

  /** Registers a request running here; returns the function that forgets it. */
  register(sid: string, id: RequestId, handle: InflightHandle): () => void {
    const k = inflightKey(sid, id);
    let set = this.inflight.get(k);
    if (!set) this.inflight.set(k, (set = new Set()));
    set.add(handle);
    if (this.tombstones.has(k) || this.tombstones.has(inflightKey(sid))) queueMicrotask(() => handle.cancel('cancelled before it started here'));
    return () => {
      set.delete(handle);
      if (set.size === 0 && this.inflight.get(k) === set) this.inflight.delete(k);
    };
  }

  /** Requests in flight on this replica (for tests and metrics). */
  get inflightCount(): number {
    let n = 0;
    for (const s of this.inflight.values()) n += s.size;
    return n;
  }

  private deliver(text: string, remember = true): void {
    let msg: CancelMessage;
    try {
      msg = JSON.parse(text) as CancelMessage;
    } catch {
      return;
    }
    if (typeof msg?.sid !== 'string') return;
    const now = Date.now();
    for (const [k, until] of this.tombstones) if (until < now) this.tombstones.delete(k);
    if (msg.id === undefined) {
      const prefix = inflightKey(msg.sid, '');
      for (const [k, set] of this.inflight) if (k.startsWith(prefix)) for (const h of [...set]) h.cancel(msg.reason ?? 'session ended');
      if (remember) this.tombstones.set(inflightKey(msg.sid), now + TOMBSTONE_MS);
      return;
    }
    const k = inflightKey(msg.sid, msg.id);
    const set = this.inflight.get(k);
    if (set) for (const h of [...set]) h.cancel(msg.reason);
    else if (remember) this.tombstones.set(k, now + TOMBSTONE_MS);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
    this.resetTxn();
  }
}

function inflightKey(sid: string, id?: RequestId | ''): string {
  return id === undefined ? `${sid}\n*` : `${sid}\n${id === '' ? '' : JSON.stringify(id)}`;
}

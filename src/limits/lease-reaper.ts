import type { Redis } from 'ioredis';

/**
 * Gives a dead replica's slots back long before their job expiration (which must cover the longest call,
 * so ~2 minutes per node slot by default). Each replica keeps a lease key per bottleneck client id it
 * owns; any replica periodically marks as due (expiration score 0, what bottleneck's own free.lua does)
 * the booked jobs whose client has no lease and that were registered more than a lease ago (node slots
 * only once the kubelet deadline has passed since that was first seen: the node still runs the query),
 * and the next bottleneck script on that limiter frees them. Relies on bottleneck 2.19.5's key layout
 * (b_<id>_job_clients, b_<id>_job_expirations) and client ids: pinned, and tested.
 *
 * A replica that cannot renew its leases must stop its own running requests before others reap their
 * slots: see `sinceRenewed()`, used by the scheduler to fence itself.
 */
const SWEEP = `
local jobs = redis.call('hgetall', KEYS[1])
local now = tonumber(ARGV[2])
local expiration = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local hold = tonumber(ARGV[5])
local reaped = 0
for i = 1, #jobs, 2 do
  local index, client = jobs[i], jobs[i + 1]
  if redis.call('exists', ARGV[1] .. client) == 0 then
    local score = tonumber(redis.call('zscore', KEYS[2], index))
    if score and score > 0 and score - expiration < now - lease then
      local first = tonumber(redis.call('hget', KEYS[3], index))
      if not first then
        redis.call('hset', KEYS[3], index, now)
        first = now
      end
      if first + hold <= now then
        redis.call('zadd', KEYS[2], 0, index)
        redis.call('hdel', KEYS[3], index)
        reaped = reaped + 1
      end
    end
  end
end
local seen = redis.call('hkeys', KEYS[3])
for _, index in ipairs(seen) do
  if redis.call('hexists', KEYS[1], index) == 0 then redis.call('hdel', KEYS[3], index) end
end
if #seen > 0 then redis.call('pexpire', KEYS[3], expiration + lease) end
return reaped
`;

export interface LimiterRef {
  /** bottleneck limiter id (without the b_ prefix). */
  id: string;
  /** The job expiration that limiter's jobs get: registration time = score − expiration. */
  expirationMs: number;
  /**
   * How long after a dead replica's job is first seen without a lease its slot stays booked: a node slot
   * stands for the journalctl its request started, which runs on until the kubelet's deadline.
   */
  holdMs: number;
}

export interface LeaseReaperOptions {
  client: Redis;
  /** The limiters' key prefix (cluster + limit settings). */
  prefix: string;
  leaseMs: number;
  /** Client ids of this replica's limiters (they change as node limiters come and go). */
  ownClientIds: () => string[];
  /** Every limiter that may hold booked jobs, cluster-wide. */
  limiters: () => Promise<LimiterRef[]>;
  /** After slots of `id` were marked due: run a bottleneck script there so they are freed now. */
  onReaped: (id: string, count: number) => void;
  onError?: (err: unknown) => void;
}

export class LeaseReaper {
  private lastRenewed = Date.now();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  private sweeping = false;

  constructor(private readonly opts: LeaseReaperOptions) {
    opts.client.defineCommand('knlReapUnleased', { numberOfKeys: 3, lua: SWEEP });
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(opts.leaseMs / 3)));
    this.sweepTimer = setInterval(() => void this.sweep(), Math.max(200, Math.floor(opts.leaseMs / 2)));
    this.renewTimer.unref();
    this.sweepTimer.unref();
    void this.renew();
  }

  private leaseKey(clientId: string): string {
    return `${this.opts.prefix}:lease:${clientId}`;
  }

  /** Time since this replica last renewed its leases (they expire leaseMs after that). */
  sinceRenewed(): number {
    return Date.now() - this.lastRenewed;
  }

  async renew(): Promise<void> {
    const ids = this.opts.ownClientIds();
    if (ids.length === 0) return;
    const started = Date.now();
    try {
      const p = this.opts.client.pipeline();
      for (const id of ids) p.set(this.leaseKey(id), '1', 'PX', this.opts.leaseMs);
      const results = await p.exec();
      if (results?.some(([err]) => err)) throw results.find(([err]) => err)![0];
      this.lastRenewed = started;
    } catch (err) {
      this.opts.onError?.(err);
    }
  }

  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let total = 0;
    try {
      const reap = (this.opts.client as unknown as { knlReapUnleased: (...a: (string | number)[]) => Promise<number> }).knlReapUnleased.bind(this.opts.client);
      for (const l of await this.opts.limiters()) {
        const n = await reap(`b_${l.id}_job_clients`, `b_${l.id}_job_expirations`, `${this.opts.prefix}:unleased:${l.id}`, `${this.opts.prefix}:lease:`, Date.now(), l.expirationMs, this.opts.leaseMs, l.holdMs);
        if (n > 0) {
          total += n;
          this.opts.onReaped(l.id, n);
        }
      }
    } catch (err) {
      this.opts.onError?.(err);
    } finally {
      this.sweeping = false;
    }
    return total;
  }

  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    clearInterval(this.sweepTimer);
    // A replica that leaves on purpose has freed its slots; dropping its leases changes nothing then.
    const ids = this.opts.ownClientIds();
    if (ids.length) await this.opts.client.del(...ids.map((id) => this.leaseKey(id))).catch(() => undefined);
  }
}

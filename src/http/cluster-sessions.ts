import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

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

/** How long a cancel that found no request here is remembered, in case it overtook its request. */
const TOMBSTONE_MS = 10_000;

/**
 * Sessions and cancellations shared by every replica behind one Service, kept in Redis:
 * - a session is a key `<prefix>:session:<id>` with an idle expiry, minted by us at initialize;
 * - a notifications/cancelled or a DELETE reaching any replica is published on `<prefix>:cancel`, and the
 *   replica running the request aborts it (the kubelet request included) and closes its response stream.
 */
export class ClusterSessions {
  private readonly subscriber: Redis;
  private readonly inflight = new Map<string, Set<InflightHandle>>();
  private readonly tombstones = new Map<string, number>();
  private subscribed = false;
  private readonly channel: string;
  /** Sessions minted while Redis could not store them: stored on their next request here instead of 404. */
  private readonly unstored = new Map<string, number>();

  constructor(
    private readonly client: Redis,
    private readonly prefix: string,
    private readonly idleMs: number,
    private readonly onError: (op: string, err: unknown) => void = () => undefined,
    /** The limit store's breaker: while it is open, nothing waits on Redis (a paused Redis would cost each request the command timeout). */
    private readonly storeUp: () => boolean = () => true,
  ) {
    this.channel = `${prefix}:cancel`;
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

  /**
   * Mints a session. When Redis is unreachable the id is still handed out (sessions hold no state we
   * need); once Redis answers again the client gets 404 and re-initializes, as the spec has it.
   */
  async create(info: { protocolVersion?: string; client?: string }): Promise<string> {
    const sid = randomUUID();
    const stored = this.storeUp() && (await this.store(sid, info));
    if (!stored) {
      const now = Date.now();
      for (const [id, at] of this.unstored) if (now - at > this.idleMs || this.unstored.size > 10_000) this.unstored.delete(id);
      this.unstored.set(sid, now);
    }
    return sid;
  }

  private async store(sid: string, info: object): Promise<boolean> {
    try {
      await this.client.set(this.key(sid), JSON.stringify({ ...info, created: new Date().toISOString() }), 'PX', this.idleMs);
      return true;
    } catch (err) {
      this.onError('session', err);
      return false;
    }
  }

  /** Refreshes the idle expiry: 'unknown' → 404; 'unavailable' when Redis cannot tell (the request proceeds). */
  async touch(sid: string): Promise<'ok' | 'unknown' | 'unavailable'> {
    if (!this.storeUp()) return 'unavailable';
    try {
      if ((await this.client.pexpire(this.key(sid), this.idleMs)) === 1) return 'ok';
      if (this.unstored.delete(sid) && (await this.store(sid, { note: 'minted while Redis was unreachable' }))) return 'ok';
      return 'unknown';
    } catch (err) {
      this.onError('session', err);
      return 'unavailable';
    }
  }

  /** Ends a session and cancels its in-flight requests on every replica. */
  async end(sid: string): Promise<'ok' | 'unknown' | 'unavailable'> {
    this.unstored.delete(sid);
    if (!this.storeUp()) {
      this.deliver(JSON.stringify({ sid }));
      return 'unavailable';
    }
    try {
      const n = await this.client.del(this.key(sid));
      await this.publish({ sid });
      return n === 1 ? 'ok' : 'unknown';
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
  }
}

function inflightKey(sid: string, id?: RequestId | ''): string {
  return id === undefined ? `${sid}\n*` : `${sid}\n${id === '' ? '' : JSON.stringify(id)}`;
}

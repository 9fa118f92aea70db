/**
 * Who may hold an MCP session, independent of how sessions are stored or transported (the HTTP server
 * keeps them in memory; a multi-replica store can apply the same rules). Sessions are cheap to open and
 * clients rarely close them, so a full table must never lock new clients out for the idle expiry:
 * - each client (remote address) holds at most `maxPerClient`; past that its own least recently used
 *   session makes room, so one client cannot fill the table;
 * - at `maxSessions`, the least recently used session idle for at least `evictIdleMs` makes room;
 * - only when every session is busier than that is a new one refused, with the wait until one can go.
 * `planAdmission` is the decision; SessionTable applies it in memory, ClusterSessions in Redis.
 */

export interface SessionPolicy {
  maxSessions: number;
  maxPerClient: number;
  /** Sessions idle this long expire (the sweeper). */
  idleMs: number;
  /** At the cap, a session idle at least this long may be evicted to admit a new one. */
  evictIdleMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  maxSessions: 100,
  maxPerClient: 20,
  idleMs: 30 * 60_000,
  evictIdleMs: 60_000,
};

export type SessionEvent = 'opened' | 'closed' | 'expired' | 'evicted-idle' | 'evicted-per-client' | 'refused-full' | 'refused-per-client';

interface Entry<S> {
  client: string;
  lastSeen: number;
  value: S;
}

export type Admission =
  | { ok: true; evicted: string[] }
  | { ok: false; reason: 'full' | 'per-client'; retryAfterSeconds: number; message: string };

export class SessionTable<S> {
  private readonly entries = new Map<string, Entry<S>>();

  constructor(
    readonly policy: SessionPolicy,
    /** Closes an evicted or expired session (transport and server); the table has already forgotten it. */
    private readonly close: (id: string, value: S, why: SessionEvent) => void,
    private readonly onEvent: (e: SessionEvent) => void = () => undefined,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string): S | undefined {
    return this.entries.get(id)?.value;
  }

  /** Marks a session used (every request on it). */
  touch(id: string, now = Date.now()): S | undefined {
    const e = this.entries.get(id);
    if (e) e.lastSeen = now;
    return e?.value;
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Makes room for one more session of `client`, evicting by the rules above, or says why not and when
   * to retry. Call right before opening the session; `add` it once it has an id.
   */
  admit(client: string, now = Date.now()): Admission {
    const all = [...this.entries].map(([id, e]) => ({ id, client: e.client, lastSeen: e.lastSeen }));
    const mine = all.filter((e) => e.client === client);
    const plan = planAdmission(this.policy, { total: all.length, mine: mine.length, myOldest: oldest(mine, 1)[0]?.id, oldest: oldest(all, 2) }, now);
    if (!plan.ok) {
      this.onEvent(plan.event);
      return { ok: false, reason: plan.reason, retryAfterSeconds: plan.retryAfterSeconds, message: plan.message };
    }
    for (const { id, why } of plan.evict) this.evict(id, why);
    return { ok: true, evicted: plan.evict.map((e) => e.id) };
  }

  add(id: string, client: string, value: S, now = Date.now()): void {
    this.entries.set(id, { client, lastSeen: now, value });
    this.onEvent('opened');
  }

  /** Forgets a session that closed by itself (DELETE, transport closed). */
  delete(id: string): S | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.onEvent('closed');
    return e.value;
  }

  /** Expires sessions idle longer than idleMs. */
  sweep(now = Date.now()): void {
    for (const [id, e] of [...this.entries]) if (now - e.lastSeen > this.policy.idleMs) this.evict(id, 'expired');
  }

  private evict(id: string, why: SessionEvent): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.onEvent(why);
    this.close(id, e.value, why);
  }
}

/** What admission needs to know about the open sessions, however they are stored. */
export interface SessionView {
  /** Sessions open, all clients. */
  total: number;
  /** Sessions of the client asking. */
  mine: number;
  /** The client's least recently used session. */
  myOldest?: string;
  /** The two least recently used sessions of all, least recent first. */
  oldest: { id: string; lastSeen: number }[];
}

export type AdmissionPlan =
  | { ok: true; evict: { id: string; why: 'evicted-idle' | 'evicted-per-client' }[] }
  | { ok: false; reason: 'full' | 'per-client'; event: SessionEvent; retryAfterSeconds: number; message: string };

/**
 * The rules above as a decision on a snapshot, so the in-memory table and the Redis-backed cluster table
 * (which applies the plan atomically) hold the same policy.
 */
export function planAdmission(p: SessionPolicy, view: SessionView, now: number): AdmissionPlan {
  const evict: { id: string; why: 'evicted-idle' | 'evicted-per-client' }[] = [];
  let total = view.total;
  if (view.mine >= p.maxPerClient && view.myOldest !== undefined) {
    // The client's own least recently used session goes, whatever its idle time: a client that opens
    // more than its share is recycling its own sessions, never anyone else's.
    evict.push({ id: view.myOldest, why: 'evicted-per-client' });
    total--;
  }
  if (total >= p.maxSessions) {
    const lru = view.oldest.find((o) => o.id !== view.myOldest || evict.length === 0);
    if (!lru) return refusal(p, 1);
    const idle = now - lru.lastSeen;
    if (idle < p.evictIdleMs) return refusal(p, Math.ceil((p.evictIdleMs - idle) / 1000));
    evict.push({ id: lru.id, why: 'evicted-idle' });
  }
  return { ok: true, evict };
}

function refusal(p: SessionPolicy, retryAfterSeconds: number): AdmissionPlan {
  const wait = Math.max(1, retryAfterSeconds);
  return {
    ok: false,
    reason: 'full',
    event: 'refused-full',
    retryAfterSeconds: wait,
    message: `Too many open sessions (${p.maxSessions}), all of them active within the last ${Math.round(p.evictIdleMs / 1000)} s; retry in ${wait} s (Retry-After), or close sessions you no longer use (HTTP DELETE with their Mcp-Session-Id).`,
  };
}

/** The n least recently used. */
function oldest<T extends { id: string; lastSeen: number }>(list: T[], n: number): { id: string; lastSeen: number }[] {
  return [...list]
    .sort((a, b) => a.lastSeen - b.lastSeen)
    .slice(0, n)
    .map(({ id, lastSeen }) => ({ id, lastSeen }));
}

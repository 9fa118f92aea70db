/**
 * Who may hold an MCP session, independent of how sessions are stored or transported (the HTTP server
 * keeps them in memory; a multi-replica store can apply the same rules). Sessions are cheap to open and
 * clients rarely close them, so a full table must never lock new clients out for the idle expiry:
 * - each client (remote address) holds at most `maxPerClient`; past that its own least recently used
 *   session makes room, so one client cannot fill the table;
 * - at `maxSessions`, the least recently used session idle for at least `evictIdleMs` makes room;
 * - only when every session is busier than that is a new one refused, with the wait until one can go.
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
    const p = this.policy;
    const evicted: string[] = [];
    const mine = [...this.entries].filter(([, e]) => e.client === client);
    if (mine.length >= p.maxPerClient) {
      // The client's own least recently used session goes, whatever its idle time: a client that opens
      // more than its share is recycling its own sessions, never anyone else's.
      const [id] = lru(mine)!;
      this.evict(id, 'evicted-per-client');
      evicted.push(id);
    }
    if (this.entries.size >= p.maxSessions) {
      const oldest = lru([...this.entries]);
      if (!oldest) return this.refuse('full', 1);
      const [id, e] = oldest;
      const idle = now - e.lastSeen;
      if (idle < p.evictIdleMs) return this.refuse('full', Math.ceil((p.evictIdleMs - idle) / 1000));
      this.evict(id, 'evicted-idle');
      evicted.push(id);
    }
    return { ok: true, evicted };
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

  private refuse(reason: 'full' | 'per-client', retryAfterSeconds: number): Admission {
    this.onEvent(reason === 'full' ? 'refused-full' : 'refused-per-client');
    const wait = Math.max(1, retryAfterSeconds);
    return {
      ok: false,
      reason,
      retryAfterSeconds: wait,
      message: `Too many open sessions (${this.policy.maxSessions}), all of them active within the last ${Math.round(this.policy.evictIdleMs / 1000)} s; retry in ${wait} s (Retry-After), or close sessions you no longer use (HTTP DELETE with their Mcp-Session-Id).`,
    };
  }
}

function lru<S>(list: [string, Entry<S>][]): [string, Entry<S>] | undefined {
  let best: [string, Entry<S>] | undefined;
  for (const x of list) if (!best || x[1].lastSeen < best[1].lastSeen) best = x;
  return best;
}

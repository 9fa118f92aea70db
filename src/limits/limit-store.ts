import Bottleneck from 'bottleneck';
import { Redis, type RedisOptions } from 'ioredis';
import { withTimeout } from './deadline.js';
import { fixRedis7ScriptErrors } from './redis7-errors.js';

export interface LimitStoreOptions {
  url: string;
  /** How often the breaker PINGs Redis, and how long one PING may take. */
  pingIntervalMs?: number;
  /** PINGs missed in a row before the store counts as down (a paused Redis never closes the socket). */
  missesToOpen?: number;
  /** ioredis command and connect timeout. */
  commandTimeoutMs?: number;
  onStateChange?: (up: boolean, why: string) => void;
  onError?: (op: string, err: unknown) => void;
}

/**
 * The one Redis connection of a replica (plus the subscriber bottleneck duplicates from it), and the
 * breaker in front of it. bottleneck never fails over and, depending on the client settings, either
 * throws or waits for the whole outage (measured: a call made while Redis is down at start never
 * settles). So the scheduler asks `up` before handing bottleneck anything, and fails closed otherwise.
 *
 * Up = ioredis is `ready` and the last PINGs answered in time. Down = the socket closed, or
 * `missesToOpen` PINGs in a row got no answer (SIGSTOP-like hangs never close the socket).
 */
export class LimitStore {
  readonly client: Redis;
  readonly connection: Bottleneck.IORedisConnection;
  private upState = false;
  private misses = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private lastError = '';
  private readonly pingMs: number;
  private readonly missesToOpen: number;
  private readonly listeners = new Set<(up: boolean) => void>();

  constructor(private readonly opts: LimitStoreOptions) {
    this.pingMs = opts.pingIntervalMs ?? 1000;
    this.missesToOpen = opts.missesToOpen ?? 2;
    const timeout = opts.commandTimeoutMs ?? 2000;
    const clientOptions: RedisOptions = {
      // Fail at once rather than queue behind an outage: the breaker decides, and callers get a clear error.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: timeout,
      connectTimeout: timeout,
      retryStrategy: (n) => Math.min(n * 200, 2000),
      // A password comes inside the URL, which only ever comes from the environment or a file.
      connectionName: 'kube-node-logs-mcp',
    };
    this.client = fixRedis7ScriptErrors(new Redis(opts.url, clientOptions));
    this.client.on('error', (err: Error) => this.noteError('connection', err));
    this.client.on('close', () => this.setUp(false, 'connection closed'));
    this.client.on('end', () => this.setUp(false, 'connection ended'));
    this.client.on('ready', () => void this.ping());
    this.connection = new Bottleneck.IORedisConnection({ client: this.client });
    this.connection.on('error', (err: Error) => this.noteError('limiter', err));
    this.timer = setInterval(() => void this.ping(), this.pingMs);
    this.timer.unref();
  }

  get up(): boolean {
    return this.upState;
  }

  /** Why the store is down, for the tool error (never contains the URL). */
  get reason(): string {
    return this.lastError;
  }

  /** Called with true/false whenever the breaker closes/opens. */
  onChange(fn: (up: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private async ping(): Promise<void> {
    if (this.closed) return;
    if (this.client.status !== 'ready') {
      this.setUp(false, `connection ${this.client.status}`);
      return;
    }
    try {
      await withTimeout(this.client.ping(), this.pingMs, `no answer to PING within ${this.pingMs} ms`);
      this.misses = 0;
      this.setUp(true, 'PING answered');
    } catch (err) {
      this.noteError('ping', err);
      if (++this.misses >= this.missesToOpen) this.setUp(false, (err as Error).message);
    }
  }

  private noteError(op: string, err: unknown): void {
    this.lastError = sanitize((err as Error)?.message ?? String(err));
    this.opts.onError?.(op, err);
  }

  private setUp(up: boolean, why: string): void {
    if (this.closed || up === this.upState) return;
    this.upState = up;
    if (!up) this.lastError = sanitize(why);
    this.opts.onStateChange?.(up, sanitize(why));
    for (const fn of [...this.listeners]) fn(up);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.setUp(false, 'shutting down');
    this.closed = true;
    clearInterval(this.timer);
    // Lets queued commands (the last `free` of finished jobs) go out when Redis is there; never waits long.
    await Promise.race([this.connection.disconnect(true), new Promise((r) => setTimeout(r, 1000).unref())]).catch(() => undefined);
    this.client.disconnect();
    (this.connection as unknown as { subscriber?: Redis }).subscriber?.disconnect();
  }
}

/** ioredis messages can carry the address; never a password, but keep them short. */
function sanitize(message: string): string {
  return message.replace(/redis(s)?:\/\/[^\s]*/gi, 'redis://…').slice(0, 200);
}

/**
 * Errors of the Redis connection or of bottleneck's Redis paths. A few bottleneck paths leave such a
 * rejection unhandled (its Group cleanup's deleteKey when Redis fails mid-sweep): in cluster mode these
 * are logged and counted instead of ending the process.
 */
export function isLimitStoreError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown };
  if (e instanceof Bottleneck.BottleneckError) return true;
  if (e?.name === 'ReplyError' || e?.name === 'MaxRetriesPerRequestError') return true;
  return typeof e?.message === 'string' && /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT/.test(e.message);
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real redis-server for one test file: 127.0.0.1 on a free port (never 6379, never the system service),
 * its own temp dir, no persistence, stopped by its pid. Without redis-server installed, tests skip with a
 * message, unless REQUIRE_REDIS=1 (CI), where its absence is a failure.
 */
export const REDIS_BIN = findRedis();

function findRedis(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  if (bin) return bin;
  if (process.env.REQUIRE_REDIS === '1') throw new Error('REQUIRE_REDIS=1 but redis-server is not installed (apt-get install redis-server)');
  return undefined;
}

export const haveRedis = REDIS_BIN !== undefined;

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 6379) return port;
  }
}

export class RedisServer {
  child?: ChildProcess;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'knl-redis-'));
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts on a free port, or on `port` (a restart keeps its port so clients reconnect). */
  static async start(port?: number): Promise<RedisServer> {
    const r = new RedisServer(port ?? (await freePort()));
    await r.launch();
    return r;
  }

  async launch(): Promise<void> {
    if (!REDIS_BIN) throw new Error('redis-server is not installed');
    const child = spawn(REDIS_BIN, ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', '--dir', this.dir, '--protected-mode', 'yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!(await this.ping())) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL'); // never leave one behind
        throw new Error(`redis-server did not start on ${this.port}:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  /** PING over a plain socket (no client library involved). */
  ping(timeoutMs = 500): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect(this.port, '127.0.0.1');
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.setTimeout(timeoutMs, () => done(false));
      s.on('error', () => done(false));
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => done(d.toString().startsWith('+PONG')));
    });
  }

  /** SIGTERM by pid (SIGKILL after 2 s); all keys are gone (no persistence). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    if (this.paused) this.resume();
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }

  private paused = false;
  pause(): void {
    this.paused = true;
    this.child?.kill('SIGSTOP');
  }
  resume(): void {
    this.paused = false;
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

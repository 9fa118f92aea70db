/**
 * Real proxy daemons from Debian (squid for HTTP CONNECT, Dante for SOCKS5), started on a free 127.0.0.1
 * port with their own configuration, hosts file and logs in a temp dir, and stopped by pid. Both resolve a
 * name that nothing else on the machine resolves, so a request that reaches the API server through that
 * name provably went through the proxy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ProxyDaemon {
  url: string;
  port: number;
  /** squid with `tls`: the https:// (TLS to the proxy, then CONNECT) address. */
  httpsUrl?: string;
  /** The daemon's own log (squid's access.log, Dante's logoutput). */
  log(): string;
  close(): Promise<void>;
}

export const SQUID = ['/usr/sbin/squid', '/usr/bin/squid'].find((p) => existsSync(p));
export const DANTED = ['/usr/sbin/danted', '/usr/bin/danted'].find((p) => existsSync(p));

/** Dante resolves names with the C library; only a private mount namespace gives it its own /etc/hosts. */
export function canUnshareMount(): boolean {
  const r = spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitListening(port: number, child: ChildProcess, what: string, logs: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before listening: ${logs()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${logs()}`);
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    // Its own process group (detached): the daemon's helpers and children stop with it.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* gone */
    }
    const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    if (!killed) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * squid as an HTTP CONNECT proxy; `hosts` are names only it resolves (its hosts_file). With `tls` it also
 * listens for TLS (https:// proxy URLs) with that certificate.
 */
export async function startSquid(hosts: Record<string, string>, tls?: { certPem: string; keyPem: string }, users?: Record<string, string>): Promise<ProxyDaemon> {
  if (!SQUID) throw new Error('squid is not installed (apt-get install squid)');
  const dir = mkdtempSync(path.join(tmpdir(), 'squid-'));
  // squid started as root drops to its own user, which must write the logs.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const tlsPort = tls ? await freePort() : undefined;
  if (tls) {
    writeFileSync(path.join(dir, 'proxy.crt'), tls.certPem, { mode: 0o644 });
    writeFileSync(path.join(dir, 'proxy.key'), tls.keyPem, { mode: 0o644 });
  }
  if (users) {
    // basic_ncsa_auth reads Apache-style MD5 hashes.
    const lines = Object.entries(users).map(([u, p]) => `${u}:${spawnSync('openssl', ['passwd', '-apr1', p], { encoding: 'utf8' }).stdout.trim()}\n`);
    writeFileSync(path.join(dir, 'passwd'), lines.join(''), { mode: 0o644 });
  }
  writeFileSync(path.join(dir, 'hosts'), Object.entries(hosts).map(([n, ip]) => `${ip} ${n}\n`).join(''));
  writeFileSync(
    path.join(dir, 'squid.conf'),
    [
      `http_port 127.0.0.1:${port}`,
      ...(tls ? [`https_port 127.0.0.1:${tlsPort} tls-cert=${dir}/proxy.crt tls-key=${dir}/proxy.key`] : []),
      `pid_filename ${dir}/squid.pid`,
      `access_log stdio:${dir}/access.log`,
      `cache_log ${dir}/cache.log`,
      'cache_store_log none',
      'cache deny all',
      'cache_mem 0 MB',
      `hosts_file ${dir}/hosts`,
      // Names outside the hosts file must fail fast rather than wait for a DNS server that is not there.
      'dns_nameservers 127.0.0.1',
      'dns_timeout 2 seconds',
      `coredump_dir ${dir}`,
      'acl from_loopback src 127.0.0.0/8',
      ...(users
        ? [`auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/passwd`, 'auth_param basic realm kube-node-logs-test', 'acl authed proxy_auth REQUIRED', 'http_access allow from_loopback authed']
        : ['http_access allow from_loopback']),
      'http_access deny all',
      'shutdown_lifetime 0 seconds',
      'pinger_enable off',
      '',
    ].join('\n'),
  );
  const child = spawn(SQUID, ['-N', '-f', path.join(dir, 'squid.conf')], { stdio: 'ignore', detached: true });
  try {
    await waitListening(port, child, 'squid', () => read(path.join(dir, 'cache.log')).slice(-2000));
  } catch (err) {
    await stop(child, dir);
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    httpsUrl: tlsPort ? `https://127.0.0.1:${tlsPort}` : undefined,
    log: () => read(path.join(dir, 'access.log')),
    close: () => stop(child, dir),
  };
}

/** Dante as a SOCKS5 proxy, in its own mount namespace whose /etc/hosts maps `hosts`. */
export async function startDante(hosts: Record<string, string>): Promise<ProxyDaemon> {
  if (!DANTED) throw new Error('Dante is not installed (apt-get install dante-server)');
  const dir = mkdtempSync(path.join(tmpdir(), 'dante-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, `127.0.0.1 localhost\n${Object.entries(hosts).map(([n, ip]) => `${ip} ${n}\n`).join('')}`);
  const logFile = path.join(dir, 'danted.log');
  const conf = path.join(dir, 'danted.conf');
  writeFileSync(
    conf,
    [
      `logoutput: ${logFile}`,
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      'clientmethod: none',
      'socksmethod: none',
      ...(process.getuid?.() === 0 ? ['user.unprivileged: nobody'] : []),
      'client pass {',
      '  from: 127.0.0.0/8 to: 0.0.0.0/0',
      '  log: connect error',
      '}',
      'socks pass {',
      '  from: 127.0.0.0/8 to: 0.0.0.0/0',
      '  command: connect',
      '  log: connect error',
      '}',
      '',
    ].join('\n'),
  );
  // unshare execs the shell, which execs danted: the pid we hold is Dante's.
  const child = spawn('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec "$2" -f "$3" -p "$4"', 'sh', hostsFile, DANTED, conf, path.join(dir, 'danted.pid')], {
    stdio: 'ignore',
    detached: true,
  });
  try {
    await waitListening(port, child, 'danted', () => read(logFile).slice(-2000));
  } catch (err) {
    await stop(child, dir);
    throw err;
  }
  return { url: `socks5://127.0.0.1:${port}`, port, log: () => read(logFile), close: () => stop(child, dir) };
}

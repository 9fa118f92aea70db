import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { serveLog, startFaultApiserver, type FaultApiserver } from './support/fault-apiserver.js';
import { haveRedis, RedisServer } from './support/redis-server.js';
import { RoundRobinProxy } from './support/round-robin-proxy.js';
import { httpGet, rawHttp, slowClient, startReplica, until, type RawResponse, type ReplicaProcess } from './support/replica.js';

/**
 * The session rules of single-replica mode (issue 17) held cluster-wide (issue 14's cluster mode): three
 * `--redis-url` replicas, one real redis-server, a round-robin proxy that keeps each client's address (as a
 * Service does), and clients on distinct loopback addresses speaking raw HTTP. Judged by what each client
 * gets back and by the sets in Redis.
 */
const TOKEN = randomBytes(32).toString('hex');
const MAX = 6;
const PER_CLIENT = 3;
const EVICT_IDLE_S = 4;

let fault: FaultApiserver;
let redis: RedisServer;
let inspect: Redis;
let proxy: RoundRobinProxy;
let replicas: ReplicaProcess[] = [];

/** One HTTP request to `port` from the loopback address `from` (a client of its own). */
function send(port: number, from: string, opts: { method?: string; sid?: string; body?: string; auth?: string }): Promise<RawResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: opts.auth ?? `Bearer ${TOKEN}` };
  if (opts.sid) headers['Mcp-Session-Id'] = opts.sid;
  return rawHttp(port, { method: opts.method ?? 'POST', path: '/mcp', headers, body: opts.body, localAddress: from });
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
const PING = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });

async function open(from: string): Promise<string> {
  const a = await send(proxy.port, from, { body: INIT });
  expect(a.status, a.body).toBe(200);
  return a.headers['mcp-session-id'] as string;
}

const ping = async (from: string, sid: string) => (await send(proxy.port, from, { sid, body: PING })).status;

/** Sessions Redis holds: all of them, and per client address. */
async function inRedis(): Promise<{ all: number; perClient: Record<string, number> }> {
  const [allKey] = await inspect.keys('*:sessions');
  const perClient: Record<string, number> = {};
  for (const k of await inspect.keys('*:sessions:client:*')) perClient[k.replace(/.*:client:/, '')] = await inspect.zcard(k);
  return { all: allKey ? await inspect.zcard(allKey) : 0, perClient };
}

/** A counter summed over the replicas' /metrics. */
async function metricSum(line: RegExp): Promise<number> {
  let n = 0;
  for (const r of replicas) {
    const text = await new Promise<string>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: r.port, path: '/metrics', headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(t));
      }).on('error', reject),
    );
    for (const l of text.split('\n')) if (line.test(l)) n += Number(l.split(' ').pop());
  }
  return n;
}

describe.skipIf(!haveRedis)('session rules across three replicas sharing Redis', () => {
  beforeAll(async () => {
    [fault, redis] = await Promise.all([startFaultApiserver({ nodes: { n1: serveLog('I1127 04:00:00.000000 1 a.go:1] hello\n') } }), RedisServer.start()]);
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    proxy = new RoundRobinProxy({ keepClientAddress: true });
    await proxy.start();
    const kubeconfig = await fault.kubeconfig();
    const args = [
      '--kubeconfig', kubeconfig, '--allowed-hosts', `127.0.0.1:${proxy.port}`,
      '--max-sessions', String(MAX), '--max-sessions-per-client', String(PER_CLIENT), '--session-evict-idle', `${EVICT_IDLE_S}s`,
      '--http-header-timeout', '1s', '--http-body-timeout', '1s',
    ];
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(args, { KUBE_NODE_LOGS_REDIS_URL: redis.url, KUBE_NODE_LOGS_AUTH_TOKEN: TOKEN })));
    await Promise.all(replicas.map((r) => until('the replica to be ready', async () => (await httpGet(r.port, '/readyz')).status === 200, 15_000, 50)));
    proxy.targets = replicas.map((r) => r.port);
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await Promise.allSettled(replicas.map((r) => r.exited));
    await proxy?.close();
    inspect?.disconnect();
    await redis?.dispose();
    await fault?.close();
  });

  beforeEach(async () => {
    const keys = await inspect.keys('*:session*');
    if (keys.length) await inspect.del(...keys);
  });

  it('a flood of sessions from one client keeps it to its share on every replica, and new clients get in', async () => {
    const flood: string[] = [];
    for (let i = 0; i < 4 * MAX; i++) flood.push(await open('127.0.0.2'));
    // Spread over the replicas, the flood holds only its own share cluster-wide: its newest sessions.
    expect(await inRedis()).toEqual({ all: PER_CLIENT, perClient: { '127.0.0.2': PER_CLIENT } });
    const statuses = [];
    for (const sid of flood) statuses.push(await ping('127.0.0.2', sid));
    expect(statuses.slice(0, -PER_CLIENT).every((s) => s === 404), statuses.join()).toBe(true);
    expect(statuses.slice(-PER_CLIENT)).toEqual(Array(PER_CLIENT).fill(200));
    // Other clients are not locked out, on whichever replica they land.
    for (const from of ['127.0.0.3', '127.0.0.4', '127.0.0.5']) expect(await ping(from, await open(from))).toBe(200);
    expect((await inRedis()).all).toBe(MAX);
    expect(await metricSum(/^kube_node_logs_http_session_events_total\{event="evicted-per-client"\}/)).toBe(4 * MAX - PER_CLIENT);
  });

  it('at the cap with every session busy a new client gets 503 + Retry-After; once one has been idle long enough it makes room', async () => {
    const live: [string, string][] = [];
    for (const from of ['127.0.0.2', '127.0.0.3']) for (let i = 0; i < PER_CLIENT; i++) live.push([from, await open(from)]);
    for (const [from, sid] of live) expect(await ping(from, sid)).toBe(200);
    const refused = await send(proxy.port, '127.0.0.6', { body: INIT });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(EVICT_IDLE_S);
    expect(JSON.parse(refused.body).error.message).toMatch(new RegExp(`Too many open sessions \\(${MAX}\\).*retry in \\d+ s \\(Retry-After\\)`));
    expect(await metricSum(/^kube_node_logs_http_session_events_total\{event="refused-full"\}/)).toBeGreaterThanOrEqual(1);
    // Keep all but the first busy; after the evict-idle time the first (least recently used) makes room.
    const waited = Date.now();
    const admitted = await until('the new client to get in', async () => {
      for (const [from, sid] of live.slice(1)) await ping(from, sid);
      const a = await send(proxy.port, '127.0.0.6', { body: INIT });
      return a.status === 200 && a;
    }, (EVICT_IDLE_S + 5) * 1000, 500);
    expect(Date.now() - waited).toBeGreaterThanOrEqual((EVICT_IDLE_S - 1) * 1000);
    expect(await ping('127.0.0.6', admitted.headers['mcp-session-id'] as string)).toBe(200);
    expect(await ping(live[0]![0], live[0]![1])).toBe(404);
    for (const [from, sid] of live.slice(1)) expect(await ping(from, sid)).toBe(200);
    expect(await metricSum(/^kube_node_logs_http_sessions_open /)).toBeGreaterThan(0);
    expect(await metricSum(/^kube_node_logs_http_session_events_total\{event="evicted-idle"\}/)).toBe(1);
  }, 30_000);

  it('DELETE frees the place cluster-wide; the Bearer scheme is case-insensitive; a wrong token gets 401', async () => {
    const sid = await open('127.0.0.2');
    expect((await inRedis()).all).toBe(1);
    expect((await send(proxy.port, '127.0.0.2', { method: 'DELETE', sid })).status).toBe(200);
    expect(await inRedis()).toEqual({ all: 0, perClient: {} });
    expect((await send(proxy.port, '127.0.0.2', { body: INIT, auth: `bEaReR ${TOKEN}` })).status).toBe(200);
    expect((await send(proxy.port, '127.0.0.2', { body: INIT, auth: `Bearer ${TOKEN}x` })).status).toBe(401);
  });

  /** Writes `text` straight to a replica (a slow body never reaches it through the buffering test proxy). */

  it('a slow body gets 408 and a closed connection in cluster mode, and slow headers too', async () => {
    const port = replicas[0]!.port;
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${INIT.length}\r\n\r\n`;
    const body = await slowClient(port, head + INIT.slice(0, 10), 15_000);
    expect(body.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(body.answer).toMatch(/Request body not received within 1 s/);
    expect(body.closedAfterMs).toBeLessThan(5000);
    const headers = await slowClient(port, head.slice(0, 30), 15_000);
    expect(headers.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(headers.closedAfterMs).toBeLessThan(5000);
    expect(await metricSum(/^kube_node_logs_http_request_timeouts_total\{phase="body"\}/)).toBe(1);
  });
});

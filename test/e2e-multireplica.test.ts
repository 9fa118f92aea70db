import http from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, peakInFlight, NODE_NAMES, type Sandbox, type RequestRecord } from '../src/sandbox/index.js';
import { haveRedis, RedisServer, freePort } from './support/redis-server.js';
import { RoundRobinProxy } from './support/round-robin-proxy.js';
import { httpGet, startReplica, until, type ReplicaProcess } from './support/replica.js';

/**
 * The product as several replicas behind one Service: the sandbox cluster, one real redis-server, three
 * `dist/index.js --transport http --redis-url …` processes and a proxy that sends every HTTP request to
 * the next replica (no affinity), driven by MCP SDK clients. Judged at the sandbox (its request log) and
 * in Redis, not by what the replicas say about themselves.
 */
const FLEET = 10;
const LATENCY_MS = 150;
const POOL = 'sandbox.example.com/pool=fleet';
const LIMITS = { global: 4, perNode: 2 };
const CALL_TIMEOUT_S = 6;
const REQUEST_TIMEOUT_S = 4;
const MARGIN_S = 1;
const LEASE_S = 3;
/** Our idea of the kubelet's deadline: a node slot of an aborted journal query stays booked this long. */
const KUBELET_DEADLINE_S = 3;

let sandbox: Sandbox;
let redis: RedisServer;
let proxy: RoundRobinProxy;
let replicas: ReplicaProcess[] = [];
let inspect: Redis;
const clients: Client[] = [];

const logRequests = (): RequestRecord[] => sandbox.requestLog.entries.filter((e) => e.proxyPath?.startsWith('logs'));


function replicaArgs(extra: string[] = []): string[] {
  return [
    '--kubeconfig', sandbox.kubeconfigPath,
    '--max-concurrency', String(LIMITS.global), '--max-concurrency-per-node', String(LIMITS.perNode),
    '--requests-per-second', '1000', '--max-queue', '1000',
    '--call-timeout', `${CALL_TIMEOUT_S}s`, '--request-timeout', `${REQUEST_TIMEOUT_S}s`, '--kubelet-deadline', `${KUBELET_DEADLINE_S}s`,
    '--redis-slot-margin', `${MARGIN_S}s`, '--redis-lease', `${LEASE_S}s`,
    '--allowed-hosts', `127.0.0.1:${proxy.port}`,
    ...extra,
  ];
}

async function startClustered(): Promise<ReplicaProcess> {
  const r = await startReplica(replicaArgs(), { KUBE_NODE_LOGS_REDIS_URL: redis.url });
  await until('the replica to be ready', async () => (await httpGet(r.port, '/readyz')).status === 200, 10_000, 50);
  return r;
}

async function connect(url = proxy.url): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ name: 'e2e-multireplica', version: '0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

async function call(client: Client, args: Record<string, unknown>, opts: { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number }) => void } = {}) {
  const res = (await client.callTool({ name: 'query_node_logs', arguments: args }, undefined, { ...opts, timeout: 30_000 })) as CallToolResult;
  return { ...res, text: res.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n') };
}

/** Slots booked in Redis by every limiter of this cluster (running jobs not yet given back). */
async function booked(which: 'all' | 'global' = 'all'): Promise<number> {
  const keys = await inspect.keys(which === 'global' ? 'b_knl-*-{global}_settings' : 'b_knl-*_settings');
  let n = 0;
  for (const k of keys) n += Number((await inspect.hget(k, 'running')) ?? 0);
  return n;
}

async function stopReplica(r: ReplicaProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal);
  await r.exited;
}

describe.skipIf(!haveRedis)('three replicas behind a round-robin proxy, sharing limits and sessions through Redis', () => {
  beforeAll(async () => {
    [sandbox, redis] = await Promise.all([
      startSandbox({ fleet: FLEET, fleetLatencyMs: LATENCY_MS, deadlineMs: 20_000, journalBackend: 'inprocess' }),
      RedisServer.start(),
    ]);
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    proxy = new RoundRobinProxy();
    await proxy.start();
    replicas = await Promise.all([startClustered(), startClustered(), startClustered()]);
    proxy.targets = replicas.map((r) => r.port);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(replicas.map((r) => stopReplica(r, 'SIGKILL')));
    await proxy?.close();
    inspect?.disconnect();
    await redis?.dispose();
    await sandbox?.close();
  });

  beforeEach(async () => {
    await sandbox.requestLog.waitIdle(15_000);
    sandbox.requestLog.clear();
  });

  it('initialize lands on one replica, the next requests on others; progress arrives wherever the call runs', async () => {
    const before = proxy.log.length;
    const { client } = await connect();
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('query_node_logs');
    const progress: number[] = [];
    const res = await call(client, { labelSelector: POOL, query: 'kubelet', tailLines: 5 }, { onprogress: (p) => progress.push(p.progress) });
    expect(res.isError, res.text).toBeFalsy();
    const served = proxy.log.slice(before);
    const initOn = served.find((r) => r.rpc.includes('initialize'))!.target;
    const listOn = served.find((r) => r.rpc.includes('tools/list'))!.target;
    const callOn = served.find((r) => r.rpc.includes('tools/call'))!.target;
    expect(new Set([initOn, listOn, callOn]).size).toBeGreaterThan(1);
    expect(progress.length).toBeGreaterThan(0);
    expect(logRequests()).toHaveLength(FLEET);
  });

  it('a fan-out from six clients stays within 2 per node and 4 overall at the sandbox; three replicas without Redis do not', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => connect()));
    const results = await Promise.all(sessions.map(({ client }) => call(client, { labelSelector: POOL, query: 'kubelet', tailLines: 5 })));
    for (const r of results) expect(r.isError, r.text).toBeFalsy();
    await sandbox.requestLog.waitIdle(10_000);
    const shared = { perNode: Math.max(...sandbox.requestLog.maxConcurrentPerNode.values()), overall: peakInFlight(logRequests()), requests: logRequests().length };
    expect(shared.requests).toBe(6 * FLEET);
    expect(shared.perNode).toBeLessThanOrEqual(LIMITS.perNode);
    expect(shared.overall).toBeLessThanOrEqual(LIMITS.global);
    expect(shared.overall).toBeGreaterThanOrEqual(3);

    // The same load on three replicas with per-process limits (today's product without --redis-url).
    sandbox.requestLog.clear();
    const local = await Promise.all([0, 1, 2].map(() => startReplica(replicaArgs())));
    // Stateful sessions need affinity there, so each client talks to one replica directly.
    const direct = await Promise.all(Array.from({ length: 6 }, (_, i) => connect(new URL(`http://127.0.0.1:${local[i % 3]!.port}/mcp`))));
    sandbox.requestLog.clear();
    await Promise.all(direct.map(({ client }) => call(client, { labelSelector: POOL, query: 'kubelet', tailLines: 5 })));
    await sandbox.requestLog.waitIdle(10_000);
    const perProcess = { perNode: Math.max(...sandbox.requestLog.maxConcurrentPerNode.values()), overall: peakInFlight(logRequests()) };
    await Promise.all(local.map((r) => stopReplica(r)));
    console.log(`6 clients x ${FLEET} nodes over 3 replicas: with Redis max ${shared.perNode}/node, ${shared.overall} overall; without Redis ${perProcess.perNode}/node, ${perProcess.overall} overall (limits ${LIMITS.perNode}/${LIMITS.global})`);
    expect(perProcess.overall).toBeGreaterThan(LIMITS.global);
  });

  it('a cancel sent through another replica aborts the kubelet request on the replica running the call, and its stream closes', async () => {
    const { client } = await connect();
    const ctrl = new AbortController();
    const before = proxy.log.length;
    const pending = call(client, { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 }, { signal: ctrl.signal }).catch((e: unknown) => e);
    const rec = await until('the slow request to reach the node', () => logRequests().find((r) => r.node === NODE_NAMES.slow), 8000);
    const cancelledAt = Date.now();
    ctrl.abort('user pressed stop');
    await pending;
    await until('the kubelet request to be aborted', () => rec.durationMs > 0 && rec.aborted, 3000);
    const abortMs = rec.start + rec.durationMs - cancelledAt;
    const served = proxy.log.slice(before);
    const callOn = served.find((r) => r.rpc.includes('tools/call'))!;
    const cancelOn = await until('the cancel to be sent', () => proxy.log.slice(before).find((r) => r.rpc.includes('notifications/cancelled')), 3000);
    expect(cancelOn.target).not.toBe(callOn.target);
    expect(abortMs).toBeLessThan(1000);
    // The call's POST stream does not stay open after the cancel (the SDK alone would leave it open).
    await until('the cancelled call\'s stream to close', () => callOn.done, 2000);
    console.log(`cancel via another replica: kubelet request aborted ${abortMs} ms after the client cancelled`);
  });

  it('a dropped POST (client gone) aborts the kubelet request', async () => {
    const { transport } = await connect();
    const sid = transport.sessionId!;
    const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/mcp', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'query_node_logs', arguments: { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 } } }));
    const rec = await until('the slow request to reach the node', () => logRequests().find((r) => r.node === NODE_NAMES.slow), 8000);
    const droppedAt = Date.now();
    req.destroy();
    await until('the kubelet request to be aborted', () => rec.durationMs > 0 && rec.aborted, 3000);
    expect(rec.start + rec.durationMs - droppedAt).toBeLessThan(1000);
  });

  it('DELETE ends the session on every replica and cancels its in-flight call', async () => {
    const { client, transport } = await connect();
    const pending = call(client, { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 }).catch((e: unknown) => e);
    const rec = await until('the slow request to reach the node', () => logRequests().find((r) => r.node === NODE_NAMES.slow), 8000);
    const sid = transport.sessionId!;
    await transport.terminateSession();
    await until('the kubelet request to be aborted', () => rec.durationMs > 0 && rec.aborted, 3000);
    void pending;
    for (const r of replicas) {
      const res = await fetch(`http://127.0.0.1:${r.port}/mcp`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }),
      });
      expect(res.status).toBe(404);
    }
    // GET (no stream to offer) → 405
    expect((await fetch(proxy.url, { headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sid } })).status).toBe(405);
  });

  it('a replica SIGKILLed mid-fan-out: limits hold meanwhile, new sessions keep working, its slots come back about a lease later', async () => {
    const sessions = await Promise.all(Array.from({ length: 4 }, () => connect()));
    const victim = replicas[2]!;
    const calls = sessions.map(({ client }) => call(client, { labelSelector: POOL, query: 'kubelet', tailLines: 5 }).catch((e: unknown) => e));
    // Kill it while it holds slots (its booked jobs visible in Redis).
    await until('requests to be running', () => logRequests().length >= 4, 8000);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    // Watched from the kill on, so the figure is the recovery itself, not the time the calls below take.
    const slotsBack = until('every slot to be given back in Redis', async () => (await booked()) === 0 && Date.now(), 25_000, 100);
    slotsBack.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    await victim.exited;
    await Promise.all(calls);
    const { client } = await connect();
    const after = await call(client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
    expect(after.isError, after.text).toBeFalsy();
    const backAt = await slotsBack;
    const recoveryMs = backAt - killedAt;
    await sandbox.requestLog.waitIdle(10_000);
    expect(Math.max(...sandbox.requestLog.maxConcurrentPerNode.values())).toBeLessThanOrEqual(LIMITS.perNode);
    expect(peakInFlight(logRequests())).toBeLessThanOrEqual(LIMITS.global);
    // Bound: the lease lapses, the next sweep (every lease/2) notices; global slots are freed then, node
    // slots a kubelet deadline later (the node may still run the journalctl); a survivor's script frees them.
    expect(recoveryMs).toBeLessThan((LEASE_S + LEASE_S / 2 + KUBELET_DEADLINE_S + 2) * 1000);
    console.log(`replica SIGKILLed mid-fan-out: all its slots back ${recoveryMs} ms after the kill`);
    replicas[2] = await startClustered();
    proxy.targets = replicas.map((r) => r.port);
  });

  it('SIGTERM: a replica with running calls exits cleanly and leaves no slot booked', async () => {
    const extra = await startClustered();
    const { client } = await connect(new URL(`http://127.0.0.1:${extra.port}/mcp`));
    const pending = call(client, { labelSelector: POOL, query: 'kubelet', tailLines: 5 }).catch((e: unknown) => e);
    await until('requests to be running', async () => (await booked()) > 0, 8000, 10);
    extra.child.kill('SIGTERM');
    const { code } = await extra.exited;
    const exitedAt = Date.now();
    expect(code).toBe(0);
    void pending; // the SDK client waits for an answer that will not come (its own timeout settles it)
    const globalFree = await until('no global slot booked', async () => (await booked('global')) === 0 && Date.now(), 5000, 50);
    expect(globalFree - exitedAt).toBeLessThan(1000);
    // Node slots of aborted journal queries stand for the journalctl still running until the kubelet's deadline.
    const clean = await until('no slot booked', async () => (await booked()) === 0 && Date.now(), (KUBELET_DEADLINE_S + LEASE_S + 3) * 1000, 50).catch(async (e: Error) => {
      const keys = await inspect.keys('b_knl-*_settings');
      const detail = await Promise.all(keys.map(async (k) => `${k}=${await inspect.hget(k, 'running')}`));
      throw new Error(`${e.message}: ${detail.filter((d) => !d.endsWith('=0')).join(', ')}\n${extra.stderr()}`);
    });
    console.log(`SIGTERM with calls running: exit code ${code}, global slots free ${globalFree - exitedAt} ms and every slot ${clean - exitedAt} ms after the exit`);
  });

  it('Redis absent at start, then gone: /readyz waits for it, tool calls say what is wrong, and it all recovers', async () => {
    const port = await freePort();
    const r = await startReplica(replicaArgs(), { KUBE_NODE_LOGS_REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      expect((await httpGet(r.port, '/readyz')).status).toBe(503);
      const { client } = await connect(new URL(`http://127.0.0.1:${r.port}/mcp`));
      const t = Date.now();
      const refused = await call(client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
      expect(Date.now() - t).toBeLessThan(2000);
      expect(refused.isError).toBe(true);
      expect(refused.text).toMatch(/Node log queries are paused: the shared limit store \(Redis\) is unreachable from this replica.*nothing was sent to the node\. Retry in about \d+ s/s);
      const own = await RedisServer.start(port);
      try {
        const startedAt = Date.now();
        await until('/readyz to turn 200', async () => (await httpGet(r.port, '/readyz')).status === 200, 8000, 50);
        const readyMs = Date.now() - startedAt;
        // The session was minted while Redis was away: the client re-initializes on 404, as the spec says.
        const fresh = await connect(new URL(`http://127.0.0.1:${r.port}/mcp`));
        const ok = await call(fresh.client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
        expect(ok.isError, ok.text).toBeFalsy();
        // Redis goes away again: the replica stays ready (every replica shares that dependency) and says why calls fail.
        await own.stop();
        const downAt = Date.now();
        const refusedAgain = await until('calls to be refused', async () => {
          const res = await call(fresh.client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
          return res.isError && /shared limit store/.test(res.text) && res;
        }, 5000, 100);
        expect(refusedAgain.text).toMatch(/nothing was sent/);
        const refusedMs = Date.now() - downAt;
        expect((await httpGet(r.port, '/readyz')).status).toBe(200);
        const metrics = await httpGet(r.port, '/metrics');
        expect(metrics.body).toMatch(/kube_node_logs_limit_store_up 0/);
        await own.launch(); // same port, no keys left
        const backAt = Date.now();
        const again = await until('calls to work again', async () => {
          const session = await connect(new URL(`http://127.0.0.1:${r.port}/mcp`)).catch(() => undefined);
          if (!session) return undefined;
          const res = await call(session.client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 }).catch(() => undefined);
          return res && !res.isError && Date.now();
        }, 10_000, 100);
        expect(again - backAt).toBeLessThan(5000);
        // Paused (SIGSTOP: the socket stays open, nothing answers): refused within the breaker's 2 missed PINGs, never hanging.
        const session = await connect(new URL(`http://127.0.0.1:${r.port}/mcp`));
        own.pause();
        const pausedAt = Date.now();
        const refusedPaused = await until('calls to be refused while Redis is paused', async () => {
          const t0 = Date.now();
          const res = await call(session.client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
          return res.isError && /shared limit store/.test(res.text) && Date.now() - t0 < 500 && Date.now();
        }, 6000, 100);
        own.resume();
        const resumedAt = Date.now();
        const resumed = await until('calls to work after SIGCONT', async () => {
          const res = await call(session.client, { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
          return !res.isError && Date.now();
        }, 10_000, 100);
        console.log(
          `redis absent at start: ready ${readyMs} ms after it started; stopped: calls refused within ${refusedMs} ms; restarted empty: calls work ${again - backAt} ms later; ` +
            `paused: calls refused fast from ${refusedPaused - pausedAt} ms; resumed: calls work ${resumed - resumedAt} ms later`,
        );
        expect(refusedPaused - pausedAt).toBeLessThan(4000);
      } finally {
        await own.dispose();
      }
    } finally {
      await stopReplica(r);
    }
  });
});

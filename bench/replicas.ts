/**
 * Several replicas sharing limits through Redis: three built servers in HTTP mode behind a round-robin
 * proxy (every request to the next replica), a real redis-server, the sandbox fleet, and MCP clients
 * fanning out at once. Prints what the sandbox saw (max per node, max overall, most starts in any 1 s)
 * and the wall time, with Redis and, as the baseline from the same run, three replicas with per-process
 * limits (each client on one replica: stateful sessions need that). Plus the per-call latency a single
 * query pays with and without Redis. No assertions; needs redis-server (apt-get install redis-server).
 *
 *   npx tsx bench/replicas.ts [--clients 12] [--nodes 20] [--latency 100]
 */
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, peakInFlight, fleetNodeName, type RequestRecord, type Sandbox } from '../src/sandbox/index.js';
import { RedisServer, haveRedis } from '../test/support/redis-server.js';
import { RoundRobinProxy } from '../test/support/round-robin-proxy.js';
import { startReplica, type ReplicaProcess } from '../test/support/replica.js';
import { FLEET_SELECTOR } from './fanout.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
}

interface Seen {
  requests: number;
  perNode: number;
  overall: number;
  startsPerSecond: number;
  wallMs: number;
}

function observe(sandbox: Sandbox, wallMs: number): Seen {
  const logs = sandbox.requestLog.entries.filter((e) => e.proxyPath?.startsWith('logs'));
  const overall = peakInFlight(logs);
  const starts = logs.map((r: RequestRecord) => r.start).sort((a, b) => a - b);
  let startsPerSecond = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= 1000) j++;
    startsPerSecond = Math.max(startsPerSecond, i - j + 1);
  }
  return { requests: logs.length, perNode: Math.max(0, ...sandbox.requestLog.maxConcurrentPerNode.values()), overall, startsPerSecond, wallMs };
}

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: 'bench-replicas', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

const query = (client: Client, args: Record<string, unknown>) =>
  client.callTool({ name: 'query_node_logs', arguments: args }, undefined, { timeout: 300_000 }) as Promise<CallToolResult>;

async function fanOut(sandbox: Sandbox, clients: Client[]): Promise<Seen> {
  await sandbox.requestLog.waitIdle(30_000);
  sandbox.requestLog.clear();
  const t0 = Date.now();
  const results = await Promise.all(clients.map((c) => query(c, { labelSelector: FLEET_SELECTOR, query: 'kubelet', tailLines: 5 })));
  const wall = Date.now() - t0;
  const failed = results.filter((r) => r.isError).length;
  if (failed) process.stdout.write(`  (${failed} calls answered with an error)\n`);
  await sandbox.requestLog.waitIdle(30_000);
  return observe(sandbox, wall);
}

async function latency(client: Client, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await query(client, { node: fleetNodeName(i % 3), query: 'kubelet', tailLines: 5 });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function main(): Promise<void> {
  if (!haveRedis) {
    process.stdout.write('redis-server is not installed: skipped (apt-get install redis-server)\n');
    return;
  }
  const clientsN = arg('clients', 12);
  const nodes = arg('nodes', 20);
  const latencyMs = arg('latency', 100);
  const limits = { global: 8, perNode: 2, rps: 40 };
  const [sandbox, redis] = await Promise.all([startSandbox({ fleet: nodes, fleetLatencyMs: latencyMs, journalBackend: 'inprocess' }), RedisServer.start()]);
  const proxy = new RoundRobinProxy();
  await proxy.start();
  const flags = ['--kubeconfig', sandbox.kubeconfigPath, '--max-nodes', String(nodes), '--max-queue', '10000', '--allowed-hosts', `127.0.0.1:${proxy.port}`];
  const procs: ReplicaProcess[] = [];
  const clients: Client[] = [];
  try {
    const shared = await Promise.all([0, 1, 2].map(() => startReplica(flags, { KUBE_NODE_LOGS_REDIS_URL: redis.url })));
    procs.push(...shared);
    proxy.targets = shared.map((r) => r.port);
    for (const r of shared) while ((await fetch(`http://127.0.0.1:${r.port}/readyz`)).status !== 200) await new Promise((res) => setTimeout(res, 100));
    const viaProxy = await Promise.all(Array.from({ length: clientsN }, () => connect(proxy.url)));
    clients.push(...viaProxy);
    const withRedis = await fanOut(sandbox, viaProxy);
    const latRedis = await latency(viaProxy[0]!, 30);

    const local = await Promise.all([0, 1, 2].map(() => startReplica(flags)));
    procs.push(...local);
    const direct = await Promise.all(Array.from({ length: clientsN }, (_, i) => connect(new URL(`http://127.0.0.1:${local[i % 3]!.port}/mcp`))));
    clients.push(...direct);
    const perProcess = await fanOut(sandbox, direct);
    const latLocal = await latency(direct[0]!, 30);

    const row = (name: string, s: Seen) =>
      `  ${name.padEnd(30)} ${String(s.requests).padStart(8)} ${String(s.perNode).padStart(9)} ${String(s.overall).padStart(8)} ${String(s.startsPerSecond).padStart(12)} ${(s.wallMs / 1000).toFixed(2).padStart(8)} s\n`;
    // The reservoir allows `rps` starts per 1 s refresh window; a sliding 1 s window straddling a refill can see up to twice that.
    process.stdout.write(
      `${clientsN} clients x labelSelector fan-out over ${nodes} nodes (${latencyMs} ms each), 3 replicas, limits ${limits.perNode}/node, ${limits.global} overall, ${limits.rps}/s\n` +
        `  ${''.padEnd(30)} requests  max/node  overall  starts in 1s     wall\n` +
        row('shared through Redis (proxy)', withRedis) +
        row('per-process limits (baseline)', perProcess) +
        `  one query, median of 30 sequential: ${latRedis.toFixed(1)} ms through the proxy with Redis, ${latLocal.toFixed(1)} ms direct without\n`,
    );
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.allSettled(procs.map((p) => p.exited));
    await proxy.close();
    await redis.dispose();
    await sandbox.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

/**
 * Fan-out benchmark: one labelSelector query_node_logs call through the real server (built, over stdio)
 * across a sandbox fleet whose nodes each answer after a fixed latency. Prints wall time next to the ideal
 * ceil(nodes / concurrency) × latency, and the server's peak RSS. No assertions on time.
 *
 *   npx tsx bench/fanout.ts [--nodes 200] [--latency 200,500] [--rps 40,1000] [--concurrency 8]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { defaultConfig } from '../src/config.js';
import { startSandbox, peakInFlight, type RequestRecord, type Sandbox } from '../src/sandbox/index.js';

const DIST_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js');
export const FLEET_SELECTOR = 'sandbox.example.com/pool=fleet';

export interface BenchServer {
  client: Client;
  pid: number;
  call(args: Record<string, unknown>, timeoutMs?: number): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** The built server over stdio, as a client would run it, with its pid for RSS readings. */
export async function startBenchServer(sandbox: Sandbox, flags: string[]): Promise<BenchServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [DIST_ENTRY, '--kubeconfig', sandbox.kubeconfigPath, ...flags],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', () => undefined); // drained, so a chatty server never blocks on a full pipe
  const client = new Client({ name: 'bench', version: '0.0.0' });
  await client.connect(transport);
  const pid = transport.pid;
  if (!pid) throw new Error('server process has no pid');
  return {
    client,
    pid,
    call: async (args, timeoutMs = 300_000) =>
      (await client.callTool({ name: 'query_node_logs', arguments: args }, undefined, { timeout: timeoutMs, maxTotalTimeout: timeoutMs })) as CallToolResult,
    close: () => client.close(),
  };
}

/** Peak resident set size of a process so far (Linux VmHWM), in MiB; undefined where /proc is missing. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in seconds; undefined where /proc is missing. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Highest number of log requests open at once overall and per node, from the apiserver's start/end times. */
export function logInFlight(records: readonly RequestRecord[]): { overall: number; perNode: number } {
  const logs = records.filter((r) => r.proxyPath?.startsWith('logs'));
  const byNode = new Map<string, RequestRecord[]>();
  for (const r of logs) {
    const list = byNode.get(r.node!) ?? [];
    list.push(r);
    byNode.set(r.node!, list);
  }
  return { overall: peakInFlight(logs), perNode: Math.max(0, ...[...byNode.values()].map(peakInFlight)) };
}

export interface FanoutRun {
  nodes: number;
  latencyMs: number;
  concurrency: number;
  requestsPerSecond: number;
  wallMs: number;
  idealMs: number;
  ratio: number;
  answered: number;
  failed: number;
  maxInFlight: number;
  maxInFlightPerNode: number;
  peakRssMiB?: number;
  /** CPU the server used during the fan-out call, and the same for this process (client + sandbox). */
  serverCpuS?: number;
  benchCpuS: number;
}

export interface FanoutOptions {
  nodes?: number;
  latenciesMs?: number[];
  requestsPerSecond?: number[];
  concurrency?: number;
  log?: (s: string) => void;
}

export async function main(opts: FanoutOptions = {}): Promise<FanoutRun[]> {
  const nodes = opts.nodes ?? 200;
  const latencies = opts.latenciesMs ?? [200, 500];
  // The server's default (--requests-per-second 40) next to an effectively unlimited rate.
  const rpsList = opts.requestsPerSecond ?? [defaultConfig().requestsPerSecond, 1000];
  const concurrency = opts.concurrency ?? 8;
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const runs: FanoutRun[] = [];
  log(`fan-out: ${nodes} nodes, --max-concurrency ${concurrency}, latency per node request ${latencies.join('/')} ms, --requests-per-second ${rpsList.join('/')}`);
  log('latency  rps   wall      ideal     ratio  answered  in-flight(max/limit)  per-node  server peak RSS  CPU server/sandbox');
  for (const latencyMs of latencies) {
    const sandbox = await startSandbox({ nodes: [], fleet: nodes, fleetLatencyMs: latencyMs, journalBackend: 'inprocess' });
    try {
      for (const rps of rpsList) {
        const server = await startBenchServer(sandbox, ['--max-concurrency', String(concurrency), '--requests-per-second', String(rps), '--max-nodes', String(nodes), '--call-timeout', '10m']);
        try {
          // Warm-up on one node: the shared journal, TLS sessions, JIT; then a clean log.
          await server.call({ node: 'fleet-0000', query: 'kubelet', tailLines: 50 });
          await sandbox.requestLog.waitIdle(10_000);
          // A fresh second of reservoir, as a call arriving at an idle server would find it.
          await new Promise((r) => setTimeout(r, 1100));
          sandbox.requestLog.clear();
          const cpu0 = cpuSeconds(server.pid);
          const own0 = process.cpuUsage();
          const t0 = performance.now();
          const res = await server.call({ labelSelector: FLEET_SELECTOR, maxNodes: nodes, query: 'kubelet', tailLines: 50 });
          const wallMs = performance.now() - t0;
          const cpu1 = cpuSeconds(server.pid);
          const own = process.cpuUsage(own0);
          if (res.isError) throw new Error(`fan-out failed: ${JSON.stringify(res.content).slice(0, 500)}`);
          const s = res.structuredContent as { nodes: { ok: boolean }[] };
          await sandbox.requestLog.waitIdle(10_000);
          const inflight = logInFlight(sandbox.requestLog.entries);
          const idealMs = Math.ceil(nodes / concurrency) * latencyMs;
          const run: FanoutRun = {
            nodes,
            latencyMs,
            concurrency,
            requestsPerSecond: rps,
            wallMs,
            idealMs,
            ratio: wallMs / idealMs,
            answered: s.nodes.filter((n) => n.ok).length,
            failed: s.nodes.filter((n) => !n.ok).length,
            maxInFlight: inflight.overall,
            maxInFlightPerNode: inflight.perNode,
            peakRssMiB: peakRssMiB(server.pid),
            ...(cpu0 !== undefined && cpu1 !== undefined ? { serverCpuS: cpu1 - cpu0 } : {}),
            benchCpuS: (own.user + own.system) / 1e6,
          };
          runs.push(run);
          log(
            `${String(latencyMs).padStart(5)}ms ${String(rps).padStart(5)}  ${(wallMs / 1000).toFixed(2).padStart(6)} s  ${(idealMs / 1000).toFixed(2).padStart(6)} s  ${run.ratio.toFixed(2).padStart(5)}×  ${String(run.answered).padStart(4)}/${nodes}  ${String(run.maxInFlight).padStart(8)}/${concurrency}  ${String(run.maxInFlightPerNode).padStart(12)}  ${run.peakRssMiB?.toFixed(0) ?? '?'} MiB  ${run.serverCpuS?.toFixed(1) ?? '?'} s / ${run.benchCpuS.toFixed(1)} s${run.ratio > 1.5 ? '   (over the 1.5× target)' : ''}`,
          );
        } finally {
          await server.close();
        }
      }
    } finally {
      await sandbox.close();
    }
  }
  const floor = (rps: number) => Math.ceil(nodes / rps) - 1;
  for (const rps of rpsList)
    log(`note: at --requests-per-second ${rps} the reservoir alone needs about ${floor(rps)} s for ${nodes} requests (it refills every second, the first second's share is there at once).`);
  return runs;
}

function argList(name: string): number[] | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1]!.split(',').map(Number);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main({ nodes: argList('--nodes')?.[0], latenciesMs: argList('--latency'), requestsPerSecond: argList('--rps'), concurrency: argList('--concurrency')?.[0] })
    .then(() => process.exit(0))
    .catch((err) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    });
}

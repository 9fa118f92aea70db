/**
 * Soak: thousands of mixed tool calls, concurrent and sequential, against healthy and faulty sandbox nodes,
 * through the built server over stdio. Prints the limits seen by the sandbox, the server's RSS and open file
 * descriptors after warm-up and after the run, and how it shuts down (stdin close, SIGTERM) with calls in
 * flight. `npx tsx bench/soak.ts [calls]`; the test suite runs a short version through runSoak().
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

export const SOAK_LIMITS = { maxConcurrency: 4, maxConcurrencyPerNode: 2 };

/** Newline-delimited JSON-RPC over the child's stdio: enough MCP client to drive calls and see the pid. */
export class RawMcp {
  private nextId = 1;
  private buf = '';
  private readonly pending = new Map<number, (msg: { result?: unknown; error?: unknown }) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) !== -1) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown };
        if (msg.id !== undefined && this.pending.has(msg.id)) {
          this.pending.get(msg.id)!(msg);
          this.pending.delete(msg.id);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(args: string[]): Promise<RawMcp> {
    const child = spawn(process.execPath, [DIST, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    const m = new RawMcp(child);
    await m.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'soak', version: '0' } });
    m.notify('notifications/initialized', {});
    return m;
  }

  get pid(): number {
    return this.child.pid!;
  }

  request(method: string, params: unknown): Promise<{ result?: unknown; error?: unknown }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string, params: unknown): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  call(name: string, args: unknown): Promise<{ result?: unknown; error?: unknown }> {
    return this.request('tools/call', { name, arguments: args });
  }

  /** Calls still waiting for an answer. */
  get outstanding(): number {
    return this.pending.size;
  }
}

export function processFigures(pid: number): { rssMiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(rssKb / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

const NODES = ['worker-1', 'worker-2', 'gone-1', 'nolog-query-1', 'huge-1', 'handler-off-1', 'missing-node'];

/** The mix: every tool, healthy and faulty nodes, services, files, fan-out, and invalid input. */
function mixedCall(i: number): [string, Record<string, unknown>] {
  // The slow node runs to the kubelet deadline every time: now and then, or it would set the pace.
  const node = i % 97 === 0 ? 'slow-1' : NODES[i % NODES.length]!;
  switch (i % 11) {
    case 0:
      return ['list_nodes', { limit: 1 + (i % 7) }];
    case 1:
      return ['check_node_log_support', { node }];
    case 2:
      return ['query_node_logs', { node, query: 'kubelet', tailLines: 50 + (i % 200) }];
    case 3:
      return ['query_node_logs', { node, query: ['kubelet', 'containerd'], pattern: 'error|fail', format: 'lines' }];
    case 4:
      return ['query_node_logs', { node, query: '/syslog', tailLines: 100 }];
    case 5:
      return ['query_node_logs', { labelSelector: 'kubernetes.io/hostname in (worker-1,worker-2,huge-1,gone-1,nolog-query-1)', query: 'kubelet', tailLines: 20 }];
    case 6:
      return ['query_node_logs', { node, query: '/../etc/passwd' }];
    case 7:
      return ['query_node_logs', { node, query: 'kubelet', tailLines: 'ten' }];
    case 8:
      return ['query_node_logs', { node, query: 'containerd', sinceTime: new Date(Date.now() - 3600_000).toISOString(), maxOutputChars: 5000 }];
    case 9:
      return ['query_node_logs', { node, query: '/pods', tailLines: 10 }];
    default:
      return ['query_node_logs', { node, query: 'kubelet', tailLines: 10, format: 'lines' }];
  }
}

export interface SoakResult {
  calls: number;
  errors: number;
  protocolErrors: number;
  warm: { rssMiB: number; fds: number };
  after: { rssMiB: number; fds: number };
  maxPerNode: number;
  perNode: Record<string, number>;
  maxConcurrent: number;
  writes: number;
  sigterm: { code: number | null; signal: NodeJS.Signals | null; inFlightAborted: boolean };
  stdinClose: { code: number | null; signal: NodeJS.Signals | null; inFlightAborted: boolean };
}

export async function startSoakSandbox(): Promise<Sandbox> {
  return startSandbox({
    journalBackend: 'inprocess',
    // Short: a stream this server cuts (huge-1 at the byte cap) keeps its node slot until this deadline.
    deadlineMs: 1000,
    hugeBytes: 8 * 1024 * 1024,
    nodes: [
      { name: 'worker-1', profile: 'healthy' },
      { name: 'worker-2', profile: 'healthy' },
      { name: 'slow-1', profile: 'slow' },
      { name: 'gone-1', profile: 'unreachable' },
      { name: 'nolog-query-1', profile: 'feature-off' },
      { name: 'huge-1', profile: 'huge' },
      { name: 'handler-off-1', profile: 'handler-disabled' },
    ],
  });
}

function serverArgs(sandbox: Sandbox): string[] {
  return [
    '--kubeconfig', sandbox.kubeconfigPath,
    '--max-concurrency', String(SOAK_LIMITS.maxConcurrency),
    '--max-concurrency-per-node', String(SOAK_LIMITS.maxConcurrencyPerNode),
    '--requests-per-second', '10000',
    '--max-queue', '10000',
    '--kubelet-deadline', '1s',
    '--request-timeout', '5s',
    '--max-bytes-per-node', '2MiB',
  ];
}

async function runBatch(mcp: RawMcp, from: number, count: number, concurrency: number): Promise<{ errors: number; protocolErrors: number }> {
  let next = from;
  let errors = 0;
  let protocolErrors = 0;
  const worker = async () => {
    while (next < from + count) {
      const [tool, args] = mixedCall(next++);
      const res = await mcp.call(tool, args);
      if (res.error) protocolErrors++;
      else if ((res.result as { isError?: boolean }).isError) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { errors, protocolErrors };
}

/** Starts a slow call, waits until the sandbox sees it in flight, stops the server, reports the abort. */
async function shutdownWithCallInFlight(sandbox: Sandbox, how: 'SIGTERM' | 'stdin'): Promise<SoakResult['sigterm']> {
  const mcp = await RawMcp.start(serverArgs(sandbox));
  await sandbox.requestLog.waitIdle(10_000).catch(() => undefined);
  sandbox.requestLog.clear();
  void mcp.call('query_node_logs', { node: 'slow-1', query: 'kubelet', tailLines: 100000 });
  const deadline = Date.now() + 5000;
  while (!sandbox.requestLog.entries.some((e) => e.node === 'slow-1' && e.proxyPath?.startsWith('logs')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  if (how === 'SIGTERM') mcp.child.kill('SIGTERM');
  else mcp.child.stdin.end();
  const exit = await Promise.race([mcp.exited, new Promise<{ code: null; signal: null }>((r) => setTimeout(() => r({ code: null, signal: null }), 10_000))]);
  if (exit.code === null && exit.signal === null) mcp.child.kill('SIGKILL');
  await sandbox.requestLog.waitIdle(10_000).catch(() => undefined);
  const rec = sandbox.requestLog.entries.find((e) => e.node === 'slow-1' && e.proxyPath?.startsWith('logs'));
  return { ...exit, inFlightAborted: Boolean(rec?.aborted || rec?.kubelet?.aborted) };
}

export async function runSoak(opts: { sandbox: Sandbox; calls: number; warmup: number; concurrency: number; batch?: number; log?: (s: string) => void }): Promise<SoakResult> {
  const { sandbox } = opts;
  const log = opts.log ?? (() => undefined);
  const mcp = await RawMcp.start(serverArgs(sandbox));
  try {
    sandbox.requestLog.clear();
    const w = await runBatch(mcp, 0, opts.warmup, opts.concurrency);
    await sandbox.requestLog.waitIdle(15_000);
    await new Promise((r) => setTimeout(r, 300));
    const warm = processFigures(mcp.pid);
    log(`warm-up: ${opts.warmup} calls; RSS ${warm.rssMiB} MiB, ${warm.fds} fds`);
    let errors = w.errors;
    let protocolErrors = w.protocolErrors;
    let done = opts.warmup;
    let phase = 0;
    const batch = opts.batch ?? 200;
    // Alternate concurrent and sequential phases.
    while (done < opts.calls) {
      const n = Math.min(opts.calls - done, batch);
      const concurrency = phase++ % 2 === 0 ? opts.concurrency : 1;
      const r = await runBatch(mcp, done, n, concurrency);
      errors += r.errors;
      protocolErrors += r.protocolErrors;
      done += n;
      if (done % 1000 < n) log(`${done} calls; RSS ${processFigures(mcp.pid).rssMiB} MiB, ${processFigures(mcp.pid).fds} fds`);
    }
    await sandbox.requestLog.waitIdle(15_000);
    await new Promise((r) => setTimeout(r, 300));
    const after = processFigures(mcp.pid);
    const perNode = [...sandbox.requestLog.maxConcurrentPerNode.values()];
    const result: Omit<SoakResult, 'sigterm' | 'stdinClose'> = {
      calls: done,
      errors,
      protocolErrors,
      warm,
      after,
      maxPerNode: Math.max(0, ...perNode),
      perNode: Object.fromEntries(sandbox.requestLog.maxConcurrentPerNode),
      maxConcurrent: sandbox.requestLog.maxConcurrent,
      writes: sandbox.writes().length,
    };
    mcp.child.stdin.end();
    await mcp.exited;
    const sigterm = await shutdownWithCallInFlight(sandbox, 'SIGTERM');
    const stdinClose = await shutdownWithCallInFlight(sandbox, 'stdin');
    return { ...result, sigterm, stdinClose };
  } finally {
    if (mcp.child.exitCode === null) mcp.child.kill('SIGKILL');
  }
}

export async function main(): Promise<void> {
  const calls = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5000);
  const sandbox = await startSoakSandbox();
  try {
    const started = Date.now();
    const r = await runSoak({ sandbox, calls, warmup: 300, concurrency: 16, log: (s) => process.stdout.write(`  ${s}\n`) });
    const secs = (Date.now() - started) / 1000;
    process.stdout.write(
      [
        `soak: ${r.calls} mixed calls in ${secs.toFixed(1)} s (${(r.calls / secs).toFixed(0)}/s), ${r.errors} isError results (expected: faulty nodes, invalid input), ${r.protocolErrors} protocol errors`,
        `  RSS after warm-up ${r.warm.rssMiB} MiB → after run ${r.after.rssMiB} MiB; open fds ${r.warm.fds} → ${r.after.fds}`,
        `  sandbox: most requests in flight to one node ${r.maxPerNode} (limit ${SOAK_LIMITS.maxConcurrencyPerNode}); overall ${r.maxConcurrent}; write requests ${r.writes}`,
        `  SIGTERM with a call in flight: exit ${r.sigterm.code ?? r.sigterm.signal}, kubelet request aborted: ${r.sigterm.inFlightAborted}`,
        `  stdin closed with a call in flight: exit ${r.stdinClose.code ?? r.stdinClose.signal}, kubelet request aborted: ${r.stdinClose.inFlightAborted}`,
      ].join('\n') + '\n',
    );
  } finally {
    await sandbox.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}

/**
 * Load benchmark: 500 concurrent query_node_logs calls through the real server (built, over stdio), all at
 * one node, then spread across a sandbox fleet. Prints the observed maximum of log requests in flight,
 * overall and per node, from the sandbox's request log next to the server's limits, and how the calls
 * ended: answered, "busy" (queue bound), other error, or no answer at all (hung). No assertions on time.
 *
 *   npx tsx bench/load.ts [--calls 500] [--fleet 50] [--latency 100]
 */
import { defaultConfig } from '../src/config.js';
import { pathToFileURL } from 'node:url';
import { startSandbox, fleetNodeName } from '../src/sandbox/index.js';
import { logInFlight, peakRssMiB, startBenchServer } from './fanout.js';

/** The server's defaults, spelled out so the printout can compare against them. */
// The server's defaults.
const { maxConcurrency, maxConcurrencyPerNode, requestsPerSecond, maxQueue } = defaultConfig();
const LIMITS = { maxConcurrency, maxConcurrencyPerNode, requestsPerSecond, maxQueue };

export interface LoadRun {
  scenario: 'one node' | 'fleet';
  calls: number;
  answered: number;
  busy: number;
  otherErrors: number;
  hung: number;
  wallMs: number;
  logRequests: number;
  maxInFlight: number;
  maxInFlightPerNode: number;
  /** The apiserver's own high-water mark over every request (node GETs included, which are not limited). */
  apiserverMaxConcurrent: number;
  peakRssMiB?: number;
  otherErrorSample?: string;
}

export interface LoadOptions {
  calls?: number;
  fleet?: number;
  latencyMs?: number;
  log?: (s: string) => void;
}

export async function main(opts: LoadOptions = {}): Promise<LoadRun[]> {
  const calls = opts.calls ?? 500;
  const fleet = opts.fleet ?? 50;
  const latencyMs = opts.latencyMs ?? 100;
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  // The client's own timeout marks a call as hung: well past the server's call deadline, so a call the
  // server forgot shows up here rather than as a late answer.
  const callTimeoutMs = 60_000;
  const hangAfterMs = callTimeoutMs + 30_000;
  const sandbox = await startSandbox({ nodes: [], fleet, fleetLatencyMs: latencyMs, journalBackend: 'inprocess' });
  const runs: LoadRun[] = [];
  log(`load: ${calls} concurrent calls, fleet of ${fleet} nodes answering after ${latencyMs} ms; limits: --max-concurrency ${LIMITS.maxConcurrency}, --max-concurrency-per-node ${LIMITS.maxConcurrencyPerNode}, --requests-per-second ${LIMITS.requestsPerSecond}, --max-queue ${LIMITS.maxQueue}, --call-timeout ${callTimeoutMs / 1000}s`);
  log('scenario   answered  busy  other  hung   wall     log requests  in-flight(max/limit)  per-node(max/limit)  apiserver max  peak RSS');
  try {
    const server = await startBenchServer(sandbox, [
      '--max-concurrency', String(LIMITS.maxConcurrency),
      '--max-concurrency-per-node', String(LIMITS.maxConcurrencyPerNode),
      '--requests-per-second', String(LIMITS.requestsPerSecond),
      '--max-queue', String(LIMITS.maxQueue),
      '--call-timeout', `${callTimeoutMs}ms`,
    ]);
    try {
      await server.call({ node: fleetNodeName(0), query: 'kubelet', tailLines: 20 });
      for (const scenario of ['one node', 'fleet'] as const) {
        await sandbox.requestLog.waitIdle(30_000);
        await new Promise((r) => setTimeout(r, 1100)); // a full reservoir, as an idle server has
        sandbox.requestLog.clear();
        const t0 = performance.now();
        const outcomes = await Promise.all(
          Array.from({ length: calls }, (_, i) => {
            const node = scenario === 'one node' ? fleetNodeName(0) : fleetNodeName(i % fleet);
            return server
              .call({ node, query: 'kubelet', tailLines: 20 }, hangAfterMs)
              .then((r) => {
                const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
                return r.isError ? (/busy/i.test(text) ? 'busy' : `error: ${text.slice(0, 200)}`) : 'answered';
              })
              .catch((e: unknown) => (/timed out|-32001/i.test(String((e as Error)?.message)) ? 'hung' : `error: ${String((e as Error)?.message).slice(0, 200)}`));
          }),
        );
        const wallMs = performance.now() - t0;
        await sandbox.requestLog.waitIdle(30_000);
        const entries = sandbox.requestLog.entries;
        const inflight = logInFlight(entries);
        const others = outcomes.filter((o) => o.startsWith('error'));
        const run: LoadRun = {
          scenario,
          calls,
          answered: outcomes.filter((o) => o === 'answered').length,
          busy: outcomes.filter((o) => o === 'busy').length,
          otherErrors: others.length,
          hung: outcomes.filter((o) => o === 'hung').length,
          wallMs,
          logRequests: entries.filter((e) => e.proxyPath?.startsWith('logs')).length,
          maxInFlight: inflight.overall,
          maxInFlightPerNode: inflight.perNode,
          apiserverMaxConcurrent: sandbox.requestLog.maxConcurrent,
          peakRssMiB: peakRssMiB(server.pid),
          ...(others[0] ? { otherErrorSample: others[0] } : {}),
        };
        runs.push(run);
        const over = run.maxInFlight > LIMITS.maxConcurrency || run.maxInFlightPerNode > LIMITS.maxConcurrencyPerNode;
        log(
          `${scenario.padEnd(9)}  ${String(run.answered).padStart(8)}  ${String(run.busy).padStart(4)}  ${String(run.otherErrors).padStart(5)}  ${String(run.hung).padStart(4)}  ${(wallMs / 1000).toFixed(1).padStart(5)} s  ${String(run.logRequests).padStart(12)}  ${String(run.maxInFlight).padStart(12)}/${LIMITS.maxConcurrency}  ${String(run.maxInFlightPerNode).padStart(15)}/${LIMITS.maxConcurrencyPerNode}  ${String(run.apiserverMaxConcurrent).padStart(13)}  ${run.peakRssMiB?.toFixed(0) ?? '?'} MiB${over ? '   LIMIT EXCEEDED' : ''}${run.hung ? '   CALLS HUNG' : ''}`,
        );
        if (run.otherErrorSample) log(`  first other error: ${run.otherErrorSample}`);
      }
    } finally {
      await server.close();
    }
  } finally {
    await sandbox.close();
  }
  log('busy = refused at once past --max-queue ("busy, retry in N s"); hung = no answer within the client timeout. apiserver max counts every request (node GETs too, which the limits do not cover).');
  return runs;
}

function argNum(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : Number(process.argv[i + 1]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main({ calls: argNum('--calls'), fleet: argNum('--fleet'), latencyMs: argNum('--latency') })
    .then(() => process.exit(0))
    .catch((err) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    });
}

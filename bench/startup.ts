/**
 * Start-up: spawn of the built server over stdio → its answer to tools/list (the client sends initialize at
 * once, then notifications/initialized and tools/list as soon as initialize is answered, as assistants do
 * when they open). Baseline: a bare `node -e 0` spawned → exited, in the same run, on the same Node.
 * Also the server's idle RSS once tools/list is answered. The kubeconfig points at an address nothing
 * listens on: listing tools must not need the cluster. Runs on this Node and, when scripts/node-bin.mjs
 * has installed them, on the pinned Node 22/24/26 binaries too.
 *
 *   npx tsx bench/startup.ts [runs]
 *   STARTUP_BASELINE_ENTRY=/other/checkout/dist/index.js npx tsx bench/startup.ts   # also an older build, interleaved
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_VERSIONS, installedNodeDir } from '../scripts/node-bin.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = path.join(root, 'dist', 'index.js');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function bareNode(node: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(node, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/**
 * ms from spawn to the tools/list answer; with `rss`, also the RSS 500 ms later (idle), and after a first
 * tools/call (which loads the cluster client; the call itself fails fast: nothing listens at the address).
 */
function serverToToolsList(node: string, kubeconfig: string, rss: boolean, entry = ENTRY): Promise<{ ms: number; rssKiB?: number; afterCallKiB?: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(node, [entry, '--kubeconfig', kubeconfig], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    let buf = '';
    let stderr = '';
    let done = false;
    let idleKiB: number | undefined;
    let toolsListMs = 0;
    const finishAfterCall = () => {
      done = true;
      const after = rssKiB(child.pid!);
      child.removeAllListeners('exit');
      child.once('exit', () => resolve({ ms: toolsListMs, rssKiB: idleKiB, afterCallKiB: after }));
      child.stdin.end();
    };
    const send = (m: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
    const fail = (why: string) => {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      reject(new Error(`${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail('no tools/list answer within 30 s'), 30_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => fail(`server exited (${code}) before answering tools/list`));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { id?: number; result?: { tools?: unknown[] } };
        buf = buf.slice(nl + 1);
        if (msg.id === 1) {
          send({ method: 'notifications/initialized' });
          send({ id: 2, method: 'tools/list' });
        } else if (msg.id === 2) {
          const ms = (toolsListMs = Number(process.hrtime.bigint() - t0) / 1e6);
          clearTimeout(timer);
          if ((msg.result?.tools?.length ?? 0) !== 3) return fail(`tools/list answered ${JSON.stringify(msg).slice(0, 300)}`);
          const finish = (idle?: number, afterCall?: number) => {
            done = true;
            child.removeAllListeners('exit');
            child.once('exit', () => resolve({ ms, rssKiB: idle, afterCallKiB: afterCall }));
            child.stdin.end();
          };
          if (!rss) return finish();
          setTimeout(() => {
            idleKiB = rssKiB(child.pid!);
            send({ id: 3, method: 'tools/call', params: { name: 'list_nodes', arguments: {} } });
          }, 500);
        } else if (msg.id === 3) {
          setTimeout(() => finishAfterCall(), 500);
        }
      }
    });
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench-startup', version: '0' } } });
  });
}

export async function main(runs = Number(process.argv[2]) || 11): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-startup-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]',
      'users: [{name: u, user: {token: bench}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const nodes: [string, string][] = [[`node ${process.version} (this process)`, process.execPath]];
  for (const major of Object.keys(NODE_VERSIONS)) {
    const d = installedNodeDir(major);
    if (d) nodes.push([`node v${NODE_VERSIONS[major as keyof typeof NODE_VERSIONS]}`, path.join(d, 'node')]);
  }
  try {
    process.stdout.write(`start-up: spawn → tools/list answered over stdio, median of ${runs} (interleaved with a bare \`node -e 0\`)\n`);
    for (const [label, node] of nodes) {
      await serverToToolsList(node, kubeconfig, false); // warm the file cache (and Node's compile cache where it has one)
      const baselineEntry = process.env.STARTUP_BASELINE_ENTRY;
      if (baselineEntry) await serverToToolsList(node, kubeconfig, false, baselineEntry);
      const bare: number[] = [];
      const server: number[] = [];
      const baseline: number[] = [];
      let rss: number | undefined;
      let afterCall: number | undefined;
      for (let i = 0; i < runs; i++) {
        bare.push(await bareNode(node));
        const r = await serverToToolsList(node, kubeconfig, i === 0);
        server.push(r.ms);
        rss ??= r.rssKiB;
        afterCall ??= r.afterCallKiB;
        if (baselineEntry) baseline.push((await serverToToolsList(node, kubeconfig, false, baselineEntry)).ms);
      }
      const s = median(server);
      const b = median(bare);
      process.stdout.write(
        `  ${label.padEnd(34)} server ${s.toFixed(0).padStart(5)} ms (min ${Math.min(...server).toFixed(0)}, max ${Math.max(...server).toFixed(0)})` +
          `   bare node ${b.toFixed(0).padStart(4)} ms   ratio ${(s / b).toFixed(1)}×` +
          (baseline.length ? `   baseline build ${median(baseline).toFixed(0)} ms (${(median(baseline) / b).toFixed(1)}×)` : '') +
          `   idle RSS ${((rss ?? NaN) / 1024).toFixed(0)} MiB (${((afterCall ?? NaN) / 1024).toFixed(0)} MiB after a first call)   target ≤ 400 ms\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

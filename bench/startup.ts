/**
 * Start-up: spawn of the built server over stdio → its answer to tools/list (the client sends initialize at
 * once, then notifications/initialized and tools/list as soon as initialize is answered, as assistants do
 * when they open). Baseline: a bare `node -e 0` spawned → exited, in the same run, on the same Node.
 * Also the server's idle RSS once tools/list is answered. The kubeconfig points at an address nothing
 * listens on: listing tools must not need the cluster. Runs on this Node and, when scripts/node-bin.mjs
 * has installed them, on the pinned Node 22/24/26 binaries too.
 *
 *   npx tsx bench/startup.ts [runs]
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

/** ms from spawn to the tools/list answer, and the RSS 500 ms later (idle). */
function serverToToolsList(node: string, kubeconfig: string, idleRss: boolean): Promise<{ ms: number; rssKiB?: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(node, [ENTRY, '--kubeconfig', kubeconfig], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    let buf = '';
    let stderr = '';
    let done = false;
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
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          clearTimeout(timer);
          if ((msg.result?.tools?.length ?? 0) !== 3) return fail(`tools/list answered ${JSON.stringify(msg).slice(0, 300)}`);
          const finish = (rss?: number) => {
            done = true;
            child.removeAllListeners('exit');
            child.once('exit', () => resolve({ ms, rssKiB: rss }));
            child.stdin.end();
          };
          if (idleRss) setTimeout(() => finish(rssKiB(child.pid!)), 500);
          else finish();
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
      const bare: number[] = [];
      const server: number[] = [];
      let rss: number | undefined;
      for (let i = 0; i < runs; i++) {
        bare.push(await bareNode(node));
        const r = await serverToToolsList(node, kubeconfig, i === 0);
        server.push(r.ms);
        rss ??= r.rssKiB;
      }
      const s = median(server);
      const b = median(bare);
      process.stdout.write(
        `  ${label.padEnd(34)} server ${s.toFixed(0).padStart(5)} ms (min ${Math.min(...server).toFixed(0)}, max ${Math.max(...server).toFixed(0)})` +
          `   bare node ${b.toFixed(0).padStart(4)} ms   ratio ${(s / b).toFixed(1)}×   idle RSS ${((rss ?? NaN) / 1024).toFixed(0)} MiB   target ≤ 400 ms\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

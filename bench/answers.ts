/**
 * Answer economy: characters per answer and the share of each section (server facts, template headers
 * and texts, examples, recent lines, plain lines, left-out notices, the untrusted-block frame) for a fixed
 * set of query_node_logs calls against the sandbox, for this build ("after") and for a build of an
 * earlier commit ("before", by default the main of before issue 12; BENCH_ANSWERS_BEFORE=<git ref> picks
 * another, BENCH_ANSWERS_BEFORE=none skips it). The before build is made from `git archive` in a temp dir
 * with this checkout's node_modules. No assertions: figures only.
 *
 *   npx tsx bench/answers.ts            (after `npm run build`)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { SECTIONS, sectionSizes, type Section } from './answer-sections.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** main as it stood before issue 12 (the answer renderer this bench was written to measure against). */
const DEFAULT_BEFORE_REF = '6dbd0db';

/** The fixed calls: a name and the query_node_logs arguments. */
export const CALLS: { name: string; args: Record<string, unknown> }[] = [
  { name: 'kubelet default', args: { node: NODE_NAMES.worker1, query: 'kubelet' } },
  { name: 'kubelet+containerd', args: { node: NODE_NAMES.worker1, query: ['kubelet', 'containerd'] } },
  { name: 'kubelet 2,500 chars', args: { node: NODE_NAMES.worker1, query: 'kubelet', maxOutputChars: 2500 } },
  { name: 'kubelet 1,000 chars', args: { node: NODE_NAMES.worker1, query: 'kubelet', maxOutputChars: 1000 } },
  { name: 'errors only (pattern)', args: { node: NODE_NAMES.worker1, query: 'kubelet', pattern: 'E[0-9]{4} |level=error|error:' } },
  { name: 'small: x509', args: { node: NODE_NAMES.worker1, query: 'kubelet', pattern: 'x509' } },
  { name: 'apiserver file', args: { node: NODE_NAMES.controlPlane, query: '/kube-apiserver.log' } },
  { name: 'kubelet lines format', args: { node: NODE_NAMES.worker1, query: 'kubelet', format: 'lines' } },
  { name: 'fan-out kubelet', args: { labelSelector: 'kubernetes.io/os=linux', query: 'kubelet' } },
  { name: 'kernel', args: { node: NODE_NAMES.worker1, query: 'kernel' } },
];

interface Server {
  call(args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

async function startServer(entry: string, sandbox: Sandbox): Promise<Server> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, '--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', '5s'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', () => undefined);
  const client = new Client({ name: 'bench-answers', version: '0.0.0' });
  await client.connect(transport);
  return {
    call: async (args) => (await client.callTool({ name: 'query_node_logs', arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult,
    close: () => client.close(),
  };
}

/** Builds `ref` in a temp dir (git archive + this checkout's node_modules + tsc); returns its dist entry. */
function buildRef(ref: string, log: (s: string) => void): { entry: string; cleanup: () => void } | undefined {
  try {
    execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    log(`before: git ref ${ref} not found here; only the after figures are printed.`);
    return undefined;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'answers-before-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync('sh', ['-c', `git archive ${ref} | tar -x -C "${dir}"`], { cwd: ROOT, stdio: 'ignore' });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, stdio: 'ignore' });
    return { entry: path.join(dir, 'dist/index.js'), cleanup };
  } catch (err) {
    cleanup();
    log(`before: building ${ref} failed (${(err as Error).message.split('\n')[0]}); only the after figures are printed.`);
    return undefined;
  }
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

async function measure(entry: string, sandbox: Sandbox): Promise<{ name: string; chars: number; sizes: Record<Section, number> }[]> {
  const server = await startServer(entry, sandbox);
  try {
    const rows = [];
    for (const c of CALLS) {
      const t = text(await server.call(c.args));
      rows.push({ name: c.name, chars: t.length, sizes: sectionSizes(t) });
    }
    return rows;
  } finally {
    await server.close();
  }
}

function pct(n: number, of: number): string {
  return of ? `${Math.round((100 * n) / of)}%`.padStart(4) : '   -';
}

export async function main(log: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<void> {
  const afterEntry = path.join(ROOT, 'dist/index.js');
  if (!existsSync(afterEntry)) throw new Error('dist/index.js missing: run npm run build first');
  const ref = process.env.BENCH_ANSWERS_BEFORE ?? DEFAULT_BEFORE_REF;
  const before = ref === 'none' ? undefined : buildRef(ref, log);
  const sandbox = await startSandbox({ deadlineMs: 5000, hugeBytes: 8 * 1024 * 1024, now: new Date('2026-11-27T06:00:00Z') });
  try {
    const after = await measure(afterEntry, sandbox);
    const prior = before ? await measure(before.entry, sandbox) : undefined;
    log(`answers: characters per answer and share of each section (${SECTIONS.join(' / ')})${prior ? `; before = ${ref}` : ''}`);
    const head = `${'call'.padEnd(24)} ${'chars'.padStart(6)}  ${SECTIONS.map((s) => s.slice(0, 5).padStart(5)).join(' ')}`;
    log(head);
    const row = (label: string, r: { chars: number; sizes: Record<Section, number> }) =>
      log(`${label.padEnd(24)} ${String(r.chars).padStart(6)}  ${SECTIONS.map((s) => pct(r.sizes[s], r.chars).padStart(5)).join(' ')}`);
    after.forEach((a, i) => {
      if (prior) row(`${a.name} (before)`.slice(0, 24), prior[i]!);
      row(prior ? `${a.name} (after)`.slice(0, 24) : a.name, a);
    });
    const total = (rows: typeof after) => rows.reduce((n, r) => n + r.chars, 0);
    log(`total characters: after ${total(after)}${prior ? `, before ${total(prior)}` : ''}`);
  } finally {
    await sandbox.close();
    before?.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main()
    .then(() => process.exit(0))
    .catch((err) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    });
}

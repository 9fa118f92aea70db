import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor } from '../src/logs/redact.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { generateNodeLogs } from '../src/sandbox/generate/node-logs.js';
import { serveLog, startFaultApiserver, type FaultApiserver, type FaultHandler } from './support/fault-apiserver.js';
import { startInProcessMcp, type InProcessMcp } from './support/fault-mcp.js';
import { SECRET_CLASSES, asJournal, findLeaks, lookalikeCorpus, secretCorpus, type CorpusSecret } from './support/fault-secrets.js';

/**
 * Hundreds of secrets of every class, served by fault nodes (journal answers, /var/log files, error bodies,
 * in-band kubelet messages) and by the sandbox's own generated logs, read through every tool output path:
 * summary, raw lines, file tails, fan-out, error messages, MCP logging notifications. Not one value may
 * come back. Look-alikes (ids, digests, UUIDs, base64 payloads, sshd prose) must come back intact.
 */
const GROUP = 50;
const corpus = secretCorpus(20261127, 600);
const errorCorpus = secretCorpus(4242, 40);
const groups: string[][] = [];
for (let i = 0; i < corpus.lines.length; i += GROUP) groups.push(corpus.lines.slice(i, i + GROUP));
const secretNodes = groups.map((_, i) => `sec-${String(i).padStart(2, '0')}`);

let fault: FaultApiserver;
let mcp: InProcessMcp;
let sandbox: Sandbox;
let sandboxMcp: InProcessMcp;
let planted: (CorpusSecret & { source?: string })[] = [];
let outputsChecked = 0;

const errLines = errorCorpus.lines.filter((l) => !l.startsWith('-----') && !l.startsWith('writing new key'));
const errorNodes: Record<string, FaultHandler> = {
  'err-500': (_req, res) => {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(errLines.slice(0, 5).join('\n'));
  },
  'err-400': (_req, res) => {
    res.writeHead(400, { 'Content-Type': 'text/plain' });
    res.end(errLines.slice(5, 10).join('; '));
  },
  'err-status': (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', message: `error dialing backend: ${errLines.slice(10, 14).join(' | ')}`, code: 503 }));
  },
  'err-403': (_req, res) => {
    res.writeHead(403, { 'Content-Type': 'text/plain' });
    res.end(`Forbidden (user=system:kube-apiserver, verb=get, resource=nodes, subresource=log) ${errLines.slice(14, 18).join(' ')}`);
  },
  'err-html': (_req, res) => {
    res.writeHead(502, { 'Content-Type': 'text/html' });
    res.end(`<html><head><title>Upstream ${errLines[18]}</title></head><body>${errLines.slice(19, 24).join('<br>')}</body></html>`);
  },
  'err-inband': serveLog(
    [
      `error getting log for kubelet: open /var/log/kubelet.log: ${errLines[24]}`,
      `journalctl: ${errLines[25]}`,
      `log not found for ${errLines[26]}`,
      `Failed to add match '${errLines[27]}': Invalid argument`,
    ].join('\n') + '\n',
  ),
};

const allSecrets = () => [...corpus.secrets, ...errorCorpus.secrets, ...planted];

/** Every part of a tool answer and every notification so far, checked for every planted value. */
function expectNoLeak(res: { text: string } & Record<string, unknown>, who: InProcessMcp): void {
  const everything = `${res.text}\n${JSON.stringify(res)}\n${JSON.stringify(who.logMessages)}`;
  expect(findLeaks(everything, allSecrets())).toEqual([]);
  outputsChecked++;
}

beforeAll(async () => {
  const nodes: Record<string, FaultHandler> = { ...errorNodes };
  const labels: Record<string, Record<string, string>> = {};
  groups.forEach((g, i) => {
    nodes[secretNodes[i]!] = serveLog(asJournal(g, secretNodes[i]!));
    labels[secretNodes[i]!] = { corpus: 'secrets' };
  });
  fault = await startFaultApiserver({ nodes, labels });
  mcp = await startInProcessMcp(['--kubeconfig', await fault.kubeconfig(), '--max-output-chars', '300000', '--output-chars', '300000', '--max-nodes', '50']);
  sandbox = await startSandbox({
    journalBackend: 'inprocess',
    nodes: [
      { name: 'cp-1', profile: 'healthy', roles: ['control-plane'] },
      { name: 'worker-1', profile: 'healthy' },
      { name: 'worker-2', profile: 'healthy' },
    ],
  });
  for (const n of sandbox.nodes) {
    const logs = generateNodeLogs({ nodeName: n.name, seed: n.seed!, now: sandbox.now!, role: n.roles?.includes('control-plane') ? 'control-plane' : 'worker' });
    planted.push(...logs.plantedSecrets);
  }
  sandboxMcp = await startInProcessMcp(['--kubeconfig', sandbox.kubeconfigPath, '--max-output-chars', '300000', '--output-chars', '300000']);
}, 60_000);

afterAll(async () => {
  await mcp?.close();
  await sandboxMcp?.close();
  await fault?.close();
  await sandbox?.close();
  process.stdout.write(`secrets: ${corpus.secrets.length + errorCorpus.secrets.length} corpus + ${planted.length} sandbox-planted values over ${SECRET_CLASSES} shapes; ${outputsChecked} tool answers checked; leaks: 0\n`);
});

describe('the generated corpus through every output path of a fault cluster', () => {
  it('raw lines, node by node: every line shown, no value left', async () => {
    for (const node of secretNodes) {
      const res = await mcp.call('query_node_logs', { node, query: 'node-agent', tailLines: 1000, format: 'lines' });
      expect(res.isError, res.text).toBeFalsy();
      const s = res.structuredContent as { linesShown: number; redactions: Record<string, number> };
      expect(s.linesShown).toBe(groups[secretNodes.indexOf(node)]!.length); // the whole group reached the output
      expect(Object.values(s.redactions).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expectNoLeak(res, mcp);
    }
  });

  it('summaries, node by node', async () => {
    for (const node of secretNodes) {
      const res = await mcp.call('query_node_logs', { node, query: 'node-agent', tailLines: 1000 });
      expect(res.isError, res.text).toBeFalsy();
      expectNoLeak(res, mcp);
    }
  });

  it('file tails (Range reads, local pattern filter), lines and summary', async () => {
    for (const node of secretNodes) {
      for (const format of ['lines', 'summary'] as const) {
        const res = await mcp.call('query_node_logs', { node, query: '/secrets.log', tailLines: 1000, format, pattern: '.' });
        expect(res.isError, res.text).toBeFalsy();
        if (format === 'lines') expect((res.structuredContent as { linesShown: number }).linesShown).toBe(groups[secretNodes.indexOf(node)]!.length);
        expectNoLeak(res, mcp);
      }
    }
  });

  it('an answer that starts inside a dumped private key (tailLines cut through it) leaks no key line', async () => {
    const pem = corpus.lines.findIndex((l) => l.startsWith('-----BEGIN'));
    const cut = corpus.lines.slice(pem + 2, pem + 12); // without BEGIN and the first body line
    const keyLines = corpus.secrets.filter((s) => cut.includes(s.value));
    expect(keyLines.length).toBeGreaterThan(1);
    const f = await startFaultApiserver({ nodes: { cut: serveLog(asJournal(cut)) } });
    const m = await startInProcessMcp(['--kubeconfig', await f.kubeconfig()]);
    try {
      for (const format of ['lines', 'summary'] as const) {
        const res = await m.call('query_node_logs', { node: 'cut', query: 'node-agent', tailLines: 5, format });
        expect(findLeaks(`${res.text}${JSON.stringify(res)}`, keyLines)).toEqual([]);
        outputsChecked++;
      }
    } finally {
      await m.close();
      await f.close();
    }
  });

  it('fan-out over every corpus node with a labelSelector, lines and summary', async () => {
    for (const format of ['lines', 'summary'] as const) {
      const res = await mcp.call('query_node_logs', { labelSelector: 'corpus=secrets', query: 'node-agent', tailLines: 1000, format });
      expect(res.isError, res.text).toBeFalsy();
      expect((res.structuredContent as { nodes: unknown[] }).nodes).toHaveLength(secretNodes.length);
      expectNoLeak(res, mcp);
    }
  });

  it('error messages built from error bodies, Status messages, HTML pages and in-band kubelet lines', async () => {
    for (const node of Object.keys(errorNodes)) {
      for (const query of ['kubelet', '/x.log']) {
        const res = await mcp.call('query_node_logs', { node, query, tailLines: 10 });
        expectNoLeak(res, mcp);
      }
    }
    const check = await mcp.call('check_node_log_support', { node: 'err-500' });
    expectNoLeak(check, mcp);
  });
});

describe("the sandbox's planted secrets", () => {
  const PATTERN = 'Bearer|Basic|token|Token|AKIA|password|api_key|auth|PRIVATE|^[A-Za-z0-9+/=]{16,}$|credentials';
  it('fan-out over the cluster, journal services, lines and summary', async () => {
    const since = new Date(sandbox.now!.getTime() - 6 * 3600_000).toISOString();
    const serviceSets = [
      ['kubelet', 'node-agent', 'containerd', 'cert-rotate'],
      ['ecr-credential-provider', 'kubeadm-join', 'db-migrate', 'cloud-init'],
      ['backup-agent'],
    ];
    let redactions = 0;
    for (const query of serviceSets) {
      for (const format of ['lines', 'summary'] as const) {
        const res = await sandboxMcp.call('query_node_logs', { labelSelector: 'kubernetes.io/os=linux', query, pattern: PATTERN, sinceTime: since, format });
        expect(res.isError, res.text).toBeFalsy();
        redactions += Object.values((res.structuredContent as { redactions: Record<string, number> }).redactions).reduce((a, b) => a + b, 0);
        expectNoLeak(res, sandboxMcp);
      }
    }
    expect(redactions).toBeGreaterThanOrEqual(planted.filter((p) => p.source === 'journal').length);
  });

  it('the /var/log files they were planted in', async () => {
    const files = new Set<string>();
    for (const n of sandbox.nodes) {
      const logs = generateNodeLogs({ nodeName: n.name, seed: n.seed!, now: sandbox.now!, role: n.roles?.includes('control-plane') ? 'control-plane' : 'worker' });
      for (const p of logs.plantedSecrets) if (p.source !== 'journal') files.add(`${n.name}\t/${p.source}`);
    }
    expect(files.size).toBeGreaterThan(0);
    for (const entry of files) {
      const [node, file] = entry.split('\t') as [string, string];
      const res = await sandboxMcp.call('query_node_logs', { node, query: file, tailLines: 5000, format: 'lines' });
      expect(res.isError, res.text).toBeFalsy();
      expectNoLeak(res, sandboxMcp);
    }
  });

  it('look-alikes the generator planted survive the redactor', () => {
    let total = 0;
    let lost = 0;
    for (const n of sandbox.nodes) {
      const logs = generateNodeLogs({ nodeName: n.name, seed: n.seed!, now: sandbox.now!, role: n.roles?.includes('control-plane') ? 'control-plane' : 'worker' });
      const r = createRedactor();
      const text = logs.journal.map((e) => r.redactLine(e.message)).join('\n');
      for (const l of logs.lookalikes) {
        total++;
        if (!text.includes(l)) lost++;
      }
    }
    process.stdout.write(`sandbox look-alikes: ${lost}/${total} redacted (${((100 * lost) / total).toFixed(2)} %)\n`);
    expect(lost / total).toBeLessThan(0.01);
  });

  it('no write request reached the sandbox or the fault cluster', () => {
    expect(sandbox.writes()).toEqual([]);
    expect(fault.writes()).toEqual([]);
  });
});

describe('look-alike negatives', () => {
  it('ids, digests, UUIDs, base64 payloads and sshd prose stay readable: false-positive rate reported and low', async () => {
    const la = lookalikeCorpus(77, 1400);
    const r = createRedactor();
    const out = la.lines.map((l) => r.redactLine(l));
    const byKind = new Map<string, { n: number; lost: number }>();
    for (const v of la.values) {
      const k = byKind.get(v.kind) ?? { n: 0, lost: 0 };
      k.n++;
      if (!out[v.line]!.includes(v.value)) k.lost++;
      byKind.set(v.kind, k);
    }
    const lost = [...byKind.values()].reduce((a, b) => a + b.lost, 0);
    process.stdout.write(`look-alikes: ${lost}/${la.values.length} redacted (${((100 * lost) / la.values.length).toFixed(2)} %) ${JSON.stringify(Object.fromEntries(byKind))}\n`);
    expect(lost / la.values.length).toBeLessThan(0.01);

    // The same corpus end to end, in raw lines: the values come back through the tool.
    const f = await startFaultApiserver({ nodes: { lookalikes: serveLog(asJournal(la.lines.slice(0, 400))) } });
    const m = await startInProcessMcp(['--kubeconfig', await f.kubeconfig(), '--max-output-chars', '300000', '--output-chars', '300000']);
    try {
      const res = await m.call('query_node_logs', { node: 'lookalikes', query: 'node-agent', tailLines: 1000, format: 'lines' });
      const shown = la.values.filter((v) => v.line < 400);
      const missing = shown.filter((v) => !res.text.includes(v.value.replace(/"/g, '"')));
      expect(missing.length / shown.length).toBeLessThan(0.01);
    } finally {
      await m.close();
      await f.close();
    }
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { generateNodeLogs } from '../src/sandbox/generate/node-logs.js';
import { startMcp, type McpSession } from './support/mcp.js';

/**
 * The built server over stdio, under the MCP SDK client, against the sandbox cluster: what was sent over
 * the wire (the sandbox request log) and what came back.
 */
let sandbox: Sandbox;
let mcp: McpSession;
const DEADLINE_MS = 2000;

const logRequests = () => sandbox.requestLog.entries.filter((e) => e.proxyPath?.startsWith('logs'));
/** The records once the sandbox has finished them: a client can have its answer before the server's 'finish'. */
const settledLogRequests = async () => {
  await sandbox.requestLog.waitIdle(5000);
  return logRequests();
};

beforeAll(async () => {
  sandbox = await startSandbox({ deadlineMs: DEADLINE_MS, hugeBytes: 64 * 1024 * 1024 });
  mcp = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', `${DEADLINE_MS}ms`, '--request-timeout', '10s'] });
});

afterAll(async () => {
  await mcp?.close();
  await sandbox?.close();
});

beforeEach(async () => {
  await sandbox.requestLog.waitIdle(5000).catch(() => undefined);
  sandbox.requestLog.clear();
});

describe('tools/list', () => {
  it('lists the three read-only tools with schemas written for a model', async () => {
    const { tools } = await mcp.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['check_node_log_support', 'list_nodes', 'query_node_logs']);
    for (const t of tools) {
      expect(t.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true });
      expect(t.description!.length).toBeGreaterThan(150);
      expect(t.outputSchema).toBeDefined();
    }
    const q = tools.find((t) => t.name === 'query_node_logs')!;
    const props = q.inputSchema.properties as Record<string, { description?: string }>;
    for (const k of ['node', 'labelSelector', 'query', 'pattern', 'sinceTime', 'untilTime', 'tailLines', 'boot', 'format', 'maxOutputChars']) expect(props[k]?.description, k).toBeTruthy();
    expect(props.query!.description).toMatch(/relative to \/var\/log/i);
  });
});

describe('list_nodes', () => {
  it('shows every node with readiness, roles, OS, version and log query expectation', async () => {
    const res = await mcp.call('list_nodes', {});
    expect(res.isError).toBeFalsy();
    const s = res.structuredContent as { nodes: { name: string; ready: string; os: string; kubeletVersion: string; logQuery: string; roles: string[] }[]; total: number; leftOut: number };
    const byName = new Map(s.nodes.map((n) => [n.name, n]));
    for (const name of Object.values(NODE_NAMES)) expect(byName.has(name), name).toBe(true);
    expect(byName.get(NODE_NAMES.old)).toMatchObject({ logQuery: 'no', kubeletVersion: 'v1.26.15' });
    expect(byName.get(NODE_NAMES.windows)!.os).toBe('windows');
    expect(byName.get(NODE_NAMES.unreachable)!.ready).not.toBe('True');
    expect(byName.get(NODE_NAMES.controlPlane)!.roles).toContain('control-plane');
    expect(s.nodes.map((n) => n.name)).toEqual([...s.nodes.map((n) => n.name)].sort());
    expect(s.leftOut).toBe(0);
    expect(res.text).toMatch(/NAME\s+READY\s+ROLES\s+OS\s+KUBELET\s+LOG-QUERY/);
    const lists = sandbox.requestLog.entries.filter((e) => e.path === '/api/v1/nodes');
    expect(lists.length).toBeGreaterThan(0);
    expect(lists[0]!.query.limit).toBeDefined();
  });

  it('passes the label selector to the apiserver', async () => {
    const res = await mcp.call('list_nodes', { labelSelector: 'kubernetes.io/os=windows' });
    const s = res.structuredContent as { nodes: { name: string }[] };
    expect(s.nodes.map((n) => n.name)).toEqual([NODE_NAMES.windows]);
    expect(sandbox.requestLog.entries.find((e) => e.path === '/api/v1/nodes')!.query.labelSelector).toEqual(['kubernetes.io/os=windows']);
  });

  it('caps the list and counts what was left out', async () => {
    const res = await mcp.call('list_nodes', { limit: 3 });
    const s = res.structuredContent as { nodes: unknown[]; total: number; leftOut: number };
    expect(s.nodes).toHaveLength(3);
    expect(s.total).toBe(Object.keys(NODE_NAMES).length);
    expect(s.leftOut).toBe(s.total - 3);
    expect(res.text).toMatch(/left out/);
  });

  it('explains a bad selector', async () => {
    const res = await mcp.call('list_nodes', { labelSelector: 'a in (' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/selector/i);
  });
});

describe('check_node_log_support', () => {
  it('says supported for a healthy node, from RBAC, configz and a live probe', async () => {
    const res = await mcp.call('check_node_log_support', { node: NODE_NAMES.worker1 });
    expect(res.isError).toBeFalsy();
    expect((res.structuredContent as { verdict: string }).verdict).toBe('supported');
    const e = sandbox.requestLog.entries;
    expect(e.some((r) => r.method === 'POST' && r.path.endsWith('/selfsubjectaccessreviews'))).toBe(true);
    expect(e.some((r) => r.proxyPath === 'configz')).toBe(true);
    const probe = e.find((r) => r.proxyPath === 'logs/');
    expect(probe?.query).toMatchObject({ query: ['kubelet'], tailLines: ['1'] });
  });

  it('finds query mode off and gives the kubelet config fix', async () => {
    const res = await mcp.call('check_node_log_support', { node: NODE_NAMES.featureOff });
    expect((res.structuredContent as { verdict: string }).verdict).toBe('not supported');
    expect(res.text).toMatch(/enableSystemLogQuery: true/);
    expect(res.text).toMatch(/NodeLogQuery: true/); // v1.35 still needs the gate
    expect(res.text).not.toMatch(/<pre>|<a href/);
  });

  it('finds a disabled handler', async () => {
    const res = await mcp.call('check_node_log_support', { node: NODE_NAMES.handlerDisabled });
    expect((res.structuredContent as { verdict: string }).verdict).toBe('not supported');
    expect(res.text).toMatch(/enableSystemLogHandler/);
  });

  it('finds a kubelet too old', async () => {
    const res = await mcp.call('check_node_log_support', { node: NODE_NAMES.old });
    expect((res.structuredContent as { verdict: string }).verdict).toBe('not supported');
    expect(res.text).toMatch(/older than v1\.27/);
  });

  it('reports an unreachable node as unknown with its Ready condition', async () => {
    const res = await mcp.call('check_node_log_support', { node: NODE_NAMES.unreachable });
    expect((res.structuredContent as { verdict: string }).verdict).toBe('unknown');
    expect(res.text).toMatch(/Ready=(False|Unknown)/);
  });

  it('names a missing node', async () => {
    const res = await mcp.call('check_node_log_support', { node: 'no-such-node' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/does not exist.*list_nodes/);
  });
});

describe('query_node_logs over the wire', () => {
  it('pushes service, pattern and time filters down to the node, in UTC, with the trailing slash', async () => {
    const since = new Date(Date.now() - 2 * 3600_000);
    const sinceOffset = new Date(since.getTime()).toISOString().replace('Z', '+00:00');
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', pattern: 'error|failed', sinceTime: sinceOffset, tailLines: 500 });
    expect(res.isError, res.text).toBeFalsy();
    // The last request is the query (a first window query on a node measures its time zone first).
    const req = (await settledLogRequests()).at(-1);
    expect(req!.path).toBe(`/api/v1/nodes/${NODE_NAMES.worker1}/proxy/logs/`);
    expect(req!.query.query).toEqual(['kubelet']);
    expect(req!.query.pattern).toEqual(['error|failed']);
    expect(req!.query.tailLines).toEqual(['500']);
    expect(req!.query.sinceTime![0]).toMatch(/Z$/);
    expect(Date.parse(req!.query.sinceTime![0]!)).toBe(Math.floor(since.getTime() / 1000) * 1000); // whole seconds on the wire
    expect(req!.journalArgs).toEqual(expect.arrayContaining(['--unit=kubelet', '--grep=error|failed', '--lines=500']));
    const s = res.structuredContent as { linesScanned: number; nodes: { ok: boolean }[] };
    expect(s.linesScanned).toBeGreaterThan(0);
    expect(s.nodes[0]!.ok).toBe(true);
  });

  it('converts offsets to UTC Z instants (the kubelet drops offsets)', async () => {
    await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', sinceTime: '2026-11-27T05:00:00+02:00', untilTime: '2026-11-27T05:30:00.5+02:00' });
    const req = (await settledLogRequests()).at(-1);
    expect(req!.query.sinceTime).toEqual(['2026-11-27T03:00:00Z']);
    // The kubelet drops fractions: untilTime goes out rounded up to the second, and the cut is made here.
    expect(req!.query.untilTime).toEqual(['2026-11-27T03:30:01Z']);
  });

  it('never sends an unbounded query: defaults are applied and said', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet' });
    const [req] = await settledLogRequests();
    expect(req!.query.tailLines).toEqual(['2000']);
    expect(req!.query.sinceTime).toBeUndefined();
    expect(res.text).toMatch(/default/i);
    expect((res.structuredContent as { effectiveQuery: { defaultsApplied: string[] } }).effectiveQuery.defaultsApplied.length).toBeGreaterThan(0);
  });

  it('puts a newest-first answer (pattern + tailLines) back in time order', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', pattern: 'Error|Failed|SyncLoop', tailLines: 50, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const block = res.text.slice(res.text.indexOf('<untrusted-node-log'));
    const stamps = [...block.matchAll(/^(?:\[[^\]]*\] |\| )?([A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6}) /gm)].map((m) => m[1]!);
    expect(stamps.length).toBeGreaterThan(5);
    expect([...stamps].sort()).toEqual(stamps);
  });

  it('sends several services as repeated query params, in order', async () => {
    await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: ['containerd', 'kubelet'], tailLines: 50 });
    const [req] = await settledLogRequests();
    expect(req!.query.query).toEqual(['containerd', 'kubelet']);
    expect(req!.rawQuery.indexOf('query=containerd')).toBeLessThan(req!.rawQuery.indexOf('query=kubelet'));
  });

  it('clamps tailLines above the server maximum in lines format, with a notice; a summary may scan that deep', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 90000, format: 'lines' });
    const [req] = await settledLogRequests();
    expect(req!.query.tailLines).toEqual(['20000']);
    expect(res.text).toMatch(/limit of 20000 for format "lines"/);
    sandbox.requestLog.clear();
    await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 90000 });
    const [deep] = await settledLogRequests();
    expect(deep!.query.tailLines).toEqual(['90000']);
  });

  it('summarizes, redacts every planted secret and fences raw lines as untrusted data', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: ['kubelet', 'containerd', 'sshd', 'kernel'].slice(0, 3), tailLines: 20000, maxOutputChars: 60000 });
    expect(res.isError, res.text).toBeFalsy();
    const spec = sandbox.nodes.find((n) => n.name === NODE_NAMES.worker1)!;
    const planted = generateNodeLogs({ nodeName: spec.name, seed: spec.seed!, now: sandbox.now! }).plantedSecrets.filter((p) => p.source === 'journal');
    expect(planted.length).toBeGreaterThan(5);
    const s = res.structuredContent as { redactions: Record<string, number> };
    expect(Object.values(s.redactions).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    for (const p of planted) expect(res.text.includes(p.value), `${p.kind} leaked`).toBe(false);
    // And the shapes, whatever the values.
    expect(res.text).not.toMatch(/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/);
    expect(res.text).not.toMatch(/\bAKIA[A-Z2-7]{16}\b/);
    expect(res.text).toMatch(/untrusted/i);
    expect(res.text.length).toBeLessThanOrEqual(60000);
  });

  it('keeps the answer within the output budget', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5000, maxOutputChars: 3000 });
    expect(res.text.length).toBeLessThanOrEqual(3000);
    expect((res.structuredContent as { truncated: boolean }).truncated).toBe(true);
  });
});

describe('query_node_logs: invalid input sends nothing', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['five services', { query: ['a', 'b', 'c', 'd', 'e'] }, /at most 4/i],
    ['file and service', { query: ['/syslog', 'kubelet'] }, /file/i],
    ['two files', { query: ['/syslog', '/kube-apiserver.log'] }, /one file/i],
    ['/var/log prefix', { query: '/var/log/syslog' }, /relative to \/var\/log/i],
    ['traversal', { query: '/../etc/shadow' }, /\.\./],
    ['encoded traversal', { query: '/%2e%2e/etc/shadow' }, /\.\.|traversal|encoded/i],
    ['bad service characters', { query: 'kube let' }, /character/i],
    ['tailLines above the kubelet limit', { query: 'kubelet', tailLines: 100001 }, /100000/],
    ['negative tailLines', { query: 'kubelet', tailLines: -1 }, /tailLines/],
    ['positive boot', { query: 'kubelet', boot: 1 }, /boot/],
    ['since after until', { query: 'kubelet', sinceTime: '2026-11-27T05:00:00Z', untilTime: '2026-11-27T04:00:00Z' }, /sinceTime|untilTime/],
    ['not RFC3339', { query: 'kubelet', sinceTime: '2026-11-27 05:00:00' }, /RFC ?3339/i],
    ['pattern Go rejects', { query: 'kubelet', pattern: 'a(' }, /missing closing \)/],
    ['backreference', { query: 'kubelet', pattern: '(a)\\1' }, /escape|backreference/i],
    ['boot with a file', { query: '/syslog', boot: -1 }, /boot/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, ...args });
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(message);
      expect(res.text).toMatch(/nothing was sent/i);
      expect(sandbox.requestLog.entries).toHaveLength(0);
    });
  }

  it('rejects unknown fields and wrong types without a request', async () => {
    const a = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tail_lines: 5 });
    expect(a.isError).toBe(true);
    expect(a.text).toMatch(/tail_lines/);
    const b = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 'ten' });
    expect(b.isError).toBe(true);
    expect(sandbox.requestLog.entries).toHaveLength(0);
  });

  it('asks for a node', async () => {
    const res = await mcp.call('query_node_logs', { query: 'kubelet' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/node.*labelSelector/);
    expect(sandbox.requestLog.entries).toHaveLength(0);
  });
});

describe('query_node_logs: files under /var/log', () => {
  it('tails a file with a Range request and never sends options with it', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.controlPlane, query: '/kube-apiserver.log', tailLines: 40, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const reqs = await settledLogRequests();
    expect(reqs.length).toBeGreaterThan(0);
    for (const r of reqs) {
      expect(r.path).toBe(`/api/v1/nodes/${NODE_NAMES.controlPlane}/proxy/logs/kube-apiserver.log`);
      expect(r.rawQuery).toBe('');
      expect(r.headers.range).toMatch(/^bytes=-\d+$/);
      expect(r.status).toBe(206);
    }
    expect((res.structuredContent as { linesScanned: number }).linesScanned).toBe(40);
  });

  it('filters a file locally by pattern', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.controlPlane, query: '/kube-apiserver.log', pattern: 'E\\d{4}', tailLines: 20, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    for (const r of logRequests()) expect(r.rawQuery).toBe('');
    expect((res.structuredContent as { linesScanned: number }).linesScanned).toBeGreaterThan(0);
  });

  it('says a directory is not a log file, and lists its entries', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/pods', tailLines: 5 });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/\/pods is a directory/);
    expect(res.text).toMatch(/"payments_[\w-]+\/"/);
    expect(res.text).not.toMatch(/\/proxy\/|<a href/);
  });

  it('says when a file does not exist, and what its directory holds', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/no-such.log' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/does not exist on .*relative to \/var\/log/);
    expect(res.text).toMatch(/"kube-proxy\.log"/);
  });

  it('reads files even where query mode is off', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.featureOff, query: '/syslog', tailLines: 10 });
    expect(res.isError, res.text).toBeFalsy();
  });
});

describe('query_node_logs: how the kubelet really answers', () => {
  it('explains query mode off without showing HTML', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.featureOff, query: 'kubelet', tailLines: 10 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/enableSystemLogQuery/);
    expect(res.text).toMatch(/NodeLogQuery/);
    expect(res.text).not.toMatch(/<pre>|<a href|<!doctype/i);
  });

  it('explains a disabled handler (405)', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.handlerDisabled, query: 'kubelet', tailLines: 10 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/enableSystemLogHandler/);
  });

  it('turns "log not found" into an unknown-service error, not log lines', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'nosuchservice', tailLines: 10 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/Unknown service.*nosuchservice/);
  });

  it('reads a file-backed service the way the kubelet heuristic would, with a real tail', async () => {
    // etcd is not a journald unit on cp-1: the kubelet answers "options present…" to any query with options.
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.controlPlane, query: 'etcd', tailLines: 15, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/etcd is not a journald unit; read its file \/var\/log\/etcd\/etcd\.log/);
    const paths = logRequests().map((r) => r.path);
    expect(paths[0]).toBe(`/api/v1/nodes/${NODE_NAMES.controlPlane}/proxy/logs/`);
    // The same candidates as upstream, in order: /var/log/etcd (a directory), etcd.log (missing), etcd/etcd.log.
    expect(paths.slice(1)).toEqual([
      `/api/v1/nodes/${NODE_NAMES.controlPlane}/proxy/logs/etcd`,
      `/api/v1/nodes/${NODE_NAMES.controlPlane}/proxy/logs/etcd.log`,
      `/api/v1/nodes/${NODE_NAMES.controlPlane}/proxy/logs/etcd/etcd.log`,
    ]);
    expect((res.structuredContent as { linesScanned: number }).linesScanned).toBe(15);
  });

  it('treats "-- No entries --" as an empty success', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', sinceTime: '2020-01-01T00:00:00Z', untilTime: '2020-01-01T00:05:00Z' });
    expect(res.isError, res.text).toBeFalsy();
    expect((res.structuredContent as { linesScanned: number }).linesScanned).toBe(0);
    expect(res.text).toMatch(/No log entries/);
  });

  it('reports a boot that does not exist as an error', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', boot: -40, tailLines: 10 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/boot -40/);
  });

  it('reads an earlier boot', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', boot: -1, tailLines: 10 });
    expect(res.isError, res.text).toBeFalsy();
    const [req] = await settledLogRequests();
    expect(req!.query.boot).toEqual(['-1']);
    expect(req!.journalArgs).toEqual(expect.arrayContaining(['--boot', '-1']));
  });

  it('marks an answer cut at the kubelet deadline as possibly truncated', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100 });
    expect(res.isError, res.text).toBeFalsy();
    const s = res.structuredContent as { truncated: boolean; nodes: { possiblyTruncated: boolean }[] };
    expect(s.nodes[0]!.possiblyTruncated).toBe(true);
    expect(s.truncated).toBe(true);
    expect(res.text).toMatch(/possibly truncated/);
  });

  it('sends per-node trouble to the MCP log as a warning', async () => {
    const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const seen: { level: string; data: unknown }[] = [];
    mcp.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      seen.push({ level: n.params.level, data: n.params.data });
    });
    await mcp.call('query_node_logs', { labelSelector: 'kubernetes.io/hostname in (worker-1,gone-1)', query: 'kubelet', tailLines: 5 });
    expect(seen.some((m) => m.level === 'warning' && /gone-1: .*could not reach the kubelet/.test(String(m.data)))).toBe(true);
    expect(seen.some((m) => String(m.data).startsWith('worker-1'))).toBe(false);
  });

  it('reports an unreachable kubelet', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.unreachable, query: 'kubelet', tailLines: 10 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/could not reach the kubelet/);
  });

  it('names a node that does not exist', async () => {
    const res = await mcp.call('query_node_logs', { node: 'ghost-9', query: 'kubelet' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/"ghost-9" does not exist/);
  });

  it('reads a Windows node and rejects boot there before sending the log request', async () => {
    const ok = await mcp.call('query_node_logs', { node: NODE_NAMES.windows, query: 'Microsoft-Windows-Security-SPP', tailLines: 5 });
    expect(ok.isError, ok.text).toBeFalsy();
    expect((ok.structuredContent as { linesScanned: number }).linesScanned).toBeGreaterThan(0);
    sandbox.requestLog.clear();
    const bad = await mcp.call('query_node_logs', { node: NODE_NAMES.windows, query: 'kubelet', boot: 0 });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/Windows/);
    expect(logRequests()).toHaveLength(0);
  });
});

describe('query_node_logs: byte cap', () => {
  it('stops reading a huge answer at --max-bytes-per-node, aborts the request and says so', async () => {
    const capped = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--max-bytes-per-node', '2MiB', '--kubelet-deadline', `${DEADLINE_MS}ms`] });
    try {
      const res = await capped.call('query_node_logs', { node: NODE_NAMES.huge, query: 'kubelet', tailLines: 100000 });
      expect(res.isError, res.text).toBeFalsy();
      const s = res.structuredContent as { truncated: boolean; nodes: { byteCapHit: boolean; bytesRead: number }[] };
      expect(s.nodes[0]!.byteCapHit).toBe(true);
      expect(s.nodes[0]!.bytesRead).toBeLessThanOrEqual(2 * 1024 * 1024);
      expect(s.truncated).toBe(true);
      expect(res.text).toMatch(/per-node cap/);
      await sandbox.requestLog.waitIdle(5000);
      const [req] = await settledLogRequests();
      expect(req!.aborted).toBe(true);
      // The sandbox would have sent 64 MiB; the client went away after about 2 MiB (plus what was in flight).
      expect(req!.bytes).toBeLessThan(16 * 1024 * 1024);

      // A file tail that never finds its lines grows its Range only up to the same per-node cap.
      sandbox.requestLog.clear();
      const file = await capped.call('query_node_logs', { node: NODE_NAMES.controlPlane, query: '/kube-apiserver.log', pattern: 'no such text anywhere', tailLines: 10 });
      expect(file.isError, file.text).toBeFalsy();
      await sandbox.requestLog.waitIdle(5000);
      const sent = logRequests().reduce((n, r) => n + r.bytes, 0);
      expect(sent).toBeLessThanOrEqual(2 * 1024 * 1024);
      expect(logRequests().length).toBeGreaterThan(1);
    } finally {
      await capped.close();
    }
  });
});

describe('query_node_logs: permissions', () => {
  it('tells the restricted user which RBAC rule is missing', async () => {
    const restricted = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--context', 'sandbox-restricted'] });
    try {
      const res = await restricted.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/nodes\/proxy/);
      expect(res.text).toMatch(/forbidden/i);
      const check = await restricted.call('check_node_log_support', { node: NODE_NAMES.worker1 });
      expect((check.structuredContent as { verdict: string }).verdict).toBe('not supported');
      expect(check.text).toMatch(/resources: \["nodes\/proxy"\], verbs: \["get"\]/);
    } finally {
      await restricted.close();
    }
  });
});

describe('the read-only promise', () => {
  it('sent no write to the cluster in this whole file (SelfSubjectAccessReview aside)', () => {
    expect(sandbox.writes()).toEqual([]);
  });
});

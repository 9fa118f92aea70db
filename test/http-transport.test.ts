import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { DIST_ENTRY } from './support/mcp.js';
import { rawHttp, startReplica, type ReplicaProcess } from './support/replica.js';

/**
 * The built server in HTTP mode (`--transport http --port 0`), driven as a chat-ops deployment would:
 * MCP over Streamable HTTP with a bearer token against the sandbox cluster, plus the guards around it
 * (token, Host/Origin, body cap), /healthz, /metrics and shutdown.
 */
const TOKEN = 'test-token-5f1c9a7e2b';
let sandbox: Sandbox;
let dir: string;
let server: ReplicaProcess;

function spawnServer(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [DIST_ENTRY, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});
const mcpHeaders = (extra: Record<string, string> = {}) => ({ 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...extra });

async function connectClient(token = TOKEN): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(server.url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'http-e2e', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport };
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** Prometheus text format → sample name{labels} → value. Enough for counters and histograms. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable metrics line: ${line}`);
    const labels = m[2] ? [...m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}=${v}`).sort().join(',') : '';
    out.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return out;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await rawHttp(server.port, { path: '/metrics', headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.body);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'http-transport-'));
  writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
  sandbox = await startSandbox({ deadlineMs: 3000 });
  server = await startReplica(['--kubeconfig', sandbox.kubeconfigPath, '--auth-token-file', path.join(dir, 'token'), '--kubelet-deadline', '3s', '--allowed-hosts', 'mcp.example.internal']);
});

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('start-up', () => {
  it('prints the real URL when asked for port 0, and says a token is required', () => {
    expect(server.url.hostname).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url.pathname).toBe('/mcp');
    expect(server.stderr()).toMatch(/bearer token required/);
  });

  it('refuses to listen on a non-loopback address without a token', async () => {
    const child = spawnServer(['--transport', 'http', '--host', '0.0.0.0', '--port', '0', '--kubeconfig', sandbox.kubeconfigPath]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/Refusing to serve HTTP on 0\.0\.0\.0 without a bearer token/);
    expect(stderr).not.toMatch(/serving MCP/);
  });
});

describe('MCP over Streamable HTTP against the sandbox', () => {
  it('lists the tools and the prompt, and runs the tools against the cluster', async () => {
    const { client } = await connectClient();
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['check_node_log_support', 'list_nodes', 'query_node_logs']);
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name)).toContain('troubleshoot_node');

      const nodes = (await client.callTool({ name: 'list_nodes', arguments: {} })) as CallToolResult;
      expect(nodes.isError).toBeFalsy();
      const names = (nodes.structuredContent as { nodes: { name: string }[] }).nodes.map((n) => n.name);
      expect(names).toEqual(expect.arrayContaining(Object.values(NODE_NAMES)));

      sandbox.requestLog.clear();
      const logs = (await client.callTool({ name: 'query_node_logs', arguments: { node: NODE_NAMES.worker1, query: 'kubelet', pattern: 'error|failed', tailLines: 200 } })) as CallToolResult;
      expect(logs.isError).toBeFalsy();
      expect(textOf(logs)).toContain('<untrusted-node-log');
      const sent = sandbox.requestLog.entries.filter((e) => e.node === NODE_NAMES.worker1 && e.proxyPath?.startsWith('logs'));
      expect(sent.length).toBeGreaterThan(0);
      expect(sent[0]!.query).toMatchObject({ query: ['kubelet'], pattern: ['error|failed'], tailLines: ['200'] });
      expect(sent[0]!.user).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it('ends a session on DELETE: the session id is then unknown', async () => {
    const { client, transport } = await connectClient();
    const id = transport.sessionId!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await transport.terminateSession();
    const after = await rawHttp(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: mcpHeaders({ Authorization: `Bearer ${TOKEN}`, 'Mcp-Session-Id': id, 'Mcp-Protocol-Version': '2025-06-18' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
    expect(after.body).toMatch(/Unknown or expired session/);
    await client.close();
  });
});

describe('cancellation and readiness', () => {
  it('closes a cancelled call\'s POST stream at once (the SDK alone leaves it, and its socket, open)', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const init = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(auth), body: INIT });
    const sid = init.headers['mcp-session-id'] as string;
    const headers = mcpHeaders({ ...auth, 'Mcp-Session-Id': sid, 'Mcp-Protocol-Version': '2025-06-18' });
    await rawHttp(server.port, { method: 'POST', path: '/mcp', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    sandbox.requestLog.clear();
    const ended = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: '/mcp', headers, agent: false }, (res) => {
        res.resume();
        res.on('close', () => resolve(Date.now()));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'query_node_logs', arguments: { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 } } }));
    });
    const deadline = Date.now() + 8000;
    let rec;
    while (!(rec = sandbox.requestLog.entries.find((e) => e.node === NODE_NAMES.slow)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(rec).toBeDefined();
    const cancelledAt = Date.now();
    const cancel = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9, reason: 'stop' } }) });
    expect(cancel.status).toBe(202);
    const closedAt = await Promise.race([ended, new Promise<number>((r) => setTimeout(() => r(-1), 2500))]);
    expect(closedAt, 'the cancelled call\'s stream is still open').toBeGreaterThan(0);
    expect(closedAt - cancelledAt).toBeLessThan(1000);
  });

  it('is ready at once without Redis (/readyz 200, no Host check, like /healthz)', async () => {
    const res = await rawHttp(server.port, { path: '/readyz', headers: { Host: '10.1.2.3:8080' } });
    expect(res.status).toBe(200);
    expect(res.body).toBe('ready\n');
  });
});

describe('guards', () => {
  it('answers 401 without a token and with a wrong one, before reading MCP', async () => {
    for (const headers of [mcpHeaders(), mcpHeaders({ Authorization: 'Bearer wrong-token' }), mcpHeaders({ Authorization: `Basic ${TOKEN}` }), mcpHeaders({ Authorization: `Bearer ${TOKEN}x` })]) {
      const res = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers, body: INIT });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.headers['mcp-session-id']).toBeUndefined();
    }
    expect((await rawHttp(server.port, { path: '/metrics' })).status).toBe(401);
    // The right token over the same raw path does get a session: the 401s above were about the token.
    const ok = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ Authorization: `Bearer ${TOKEN}` }), body: INIT });
    expect(ok.status).toBe(200);
    expect(ok.headers['mcp-session-id']).toBeTruthy();
  });

  it('answers 403 to a rebinding Host header and to a foreign Origin, even with the token', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const badHost = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ ...auth, Host: `evil.example:${server.port}` }), body: INIT });
    expect(badHost.status).toBe(403);
    expect(badHost.body).toMatch(/Invalid Host/);
    const wrongPort = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ ...auth, Host: `127.0.0.1:${server.port + 1}` }), body: INIT });
    expect(wrongPort.status).toBe(403);
    const podIp = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ ...auth, Host: `10.244.1.7:${server.port}` }), body: INIT });
    expect(podIp.status).toBe(403);
    const badOrigin = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ ...auth, Origin: 'http://evil.example' }), body: INIT });
    expect(badOrigin.status).toBe(403);
    expect(badOrigin.body).toMatch(/Invalid Origin/);
    // --allowed-hosts names (the in-cluster Service's DNS names) pass, on the listening port only.
    const named = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ ...auth, Host: `mcp.example.internal:${server.port}` }), body: INIT });
    expect(named.status).toBe(200);
    expect((await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ ...auth, Host: `mcp.example.internal:${server.port + 1}` }), body: INIT })).status).toBe(403);
    // Loopback names on the right port are fine, with or without an Origin of their own.
    expect((await rawHttp(server.port, { path: '/healthz', headers: { Host: `localhost:${server.port}`, Origin: `http://localhost:${server.port}` } })).status).toBe(200);
  });

  it('answers 413 to a body over the cap, also one larger than the socket buffers, and keeps serving', async () => {
    // 16 MiB cannot sit in loopback socket buffers: the client only sees the 413 if the server drains it.
    for (const mib of [2, 16]) {
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(mib * 1024 * 1024) } });
      const res = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders({ Authorization: `Bearer ${TOKEN}` }), body: big });
      expect(res.status, `${mib} MiB`).toBe(413);
      expect(res.body).toMatch(/Request body larger than 1048576 bytes/);
    }
    expect((await rawHttp(server.port, { path: '/healthz' })).status).toBe(200);
  });

  it('serves /healthz without a token and whatever the Host (kubelet probes use the pod IP)', async () => {
    const res = await rawHttp(server.port, { path: '/healthz' });
    expect(res.status).toBe(200);
    expect(res.body.trim()).toBe('ok');
    expect((await rawHttp(server.port, { path: '/healthz', headers: { Host: `10.244.1.7:${server.port}` } })).status).toBe(200);
  });

  it('lets a scraper reach /metrics by pod IP with the token, and only with it', async () => {
    const host = `10.244.1.7:${server.port}`;
    expect((await rawHttp(server.port, { path: '/metrics', headers: { Host: host, Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await rawHttp(server.port, { path: '/metrics', headers: { Host: host } })).status).toBe(401);
    expect((await rawHttp(server.port, { path: '/metrics', headers: { Host: host, Authorization: `Bearer ${TOKEN}`, Origin: 'http://evil.example' } })).status).toBe(403);
  });
});

describe('/metrics', () => {
  it('exposes calls by tool and outcome, kubelet durations, lines returned and rejected calls, which move with calls', async () => {
    const before = await scrape();
    const get = (m: Map<string, number>, k: string) => m.get(k) ?? 0;
    const { client } = await connectClient();
    try {
      await client.callTool({ name: 'list_nodes', arguments: {} });
      const ok = (await client.callTool({ name: 'query_node_logs', arguments: { node: NODE_NAMES.worker1, query: 'containerd', tailLines: 50, format: 'lines' } })) as CallToolResult;
      expect(ok.isError).toBeFalsy();
      const off = (await client.callTool({ name: 'query_node_logs', arguments: { node: NODE_NAMES.featureOff, query: 'kubelet', tailLines: 5 } })) as CallToolResult;
      expect(off.isError).toBe(true);
      const invalid = (await client.callTool({ name: 'query_node_logs', arguments: { node: NODE_NAMES.worker1, query: ['kubelet', '/syslog'] } })) as CallToolResult;
      expect(invalid.isError).toBe(true);
    } finally {
      await client.close();
    }
    const after = await scrape();
    const calls = 'kube_node_logs_tool_calls_total';
    expect(get(after, `${calls}{outcome=ok,tool=list_nodes}`) - get(before, `${calls}{outcome=ok,tool=list_nodes}`)).toBe(1);
    expect(get(after, `${calls}{outcome=ok,tool=query_node_logs}`) - get(before, `${calls}{outcome=ok,tool=query_node_logs}`)).toBe(1);
    expect(get(after, `${calls}{outcome=error,tool=query_node_logs}`) - get(before, `${calls}{outcome=error,tool=query_node_logs}`)).toBe(2);
    expect(get(after, 'kube_node_logs_rejected_calls_total{reason=invalid}') - get(before, 'kube_node_logs_rejected_calls_total{reason=invalid}')).toBe(1);
    expect(get(after, 'kube_node_logs_lines_returned_total') - get(before, 'kube_node_logs_lines_returned_total')).toBeGreaterThanOrEqual(1);
    expect(get(after, 'kube_node_logs_lines_scanned_total')).toBeGreaterThanOrEqual(get(after, 'kube_node_logs_lines_returned_total'));
    expect(get(after, 'kube_node_logs_kubelet_response_bytes_total{kind=journal}') - get(before, 'kube_node_logs_kubelet_response_bytes_total{kind=journal}')).toBeGreaterThan(0);

    // The duration histogram: one observation per node request, by outcome; buckets are cumulative.
    const hist = 'kube_node_logs_kubelet_request_duration_seconds';
    const okCount = get(after, `${hist}_count{kind=journal,outcome=ok}`) - get(before, `${hist}_count{kind=journal,outcome=ok}`);
    expect(okCount).toBe(1);
    const failedSeries = [...after.keys()].filter((k) => k.startsWith(`${hist}_count{kind=journal,outcome=`) && !k.includes('outcome=ok'));
    expect(failedSeries.length).toBeGreaterThan(0);
    const buckets = [...after.entries()].filter(([k]) => k.startsWith(`${hist}_bucket{`) && k.includes('kind=journal,') && k.endsWith('outcome=ok}'));
    const le = (k: string) => (k.includes('le=+Inf') ? Infinity : Number(/le=([^,}]+)/.exec(k)![1]));
    buckets.sort((a, b) => le(a[0]) - le(b[0]));
    expect(buckets.length).toBe(13);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1]);
    expect(buckets.at(-1)![1]).toBe(get(after, `${hist}_count{kind=journal,outcome=ok}`));
    // HTTP mode also exports the process metrics (memory, CPU, event loop lag) for the Deployment.
    expect(after.has('process_resident_memory_bytes')).toBe(true);
  });
});

describe('shutdown', () => {
  it('exits 0 on SIGTERM with a session open, and stops listening', async () => {
    const { client } = await connectClient();
    await client.listTools();
    server.child.kill('SIGTERM');
    const { code, signal } = await server.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(server.stderr()).not.toMatch(/fatal/);
    await expect(rawHttp(server.port, { path: '/healthz' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await client.close().catch(() => undefined);
  });
});

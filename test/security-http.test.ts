import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { serveLog, startFaultApiserver, type FaultApiserver } from './support/fault-apiserver.js';
import { DIST_ENTRY } from './support/mcp.js';
import { rawHttp, slowClient, startReplica, type ReplicaProcess } from './support/replica.js';
import { startHttpServer, type RunningHttpServer } from '../src/http/http-server.js';
import { SessionTable } from '../src/http/sessions.js';
import { weakTokenProblem } from '../src/http/auth-token.js';
import { Metrics } from '../src/metrics.js';
import { MAX_LOCAL_REPEATS } from '../src/query/go-regexp.js';

/**
 * Issue 17 over HTTP, with the built server as a process: a costly pattern on a big file cannot stall
 * /healthz, another session or SIGTERM; a session flood does not lock a new client out; the Bearer scheme
 * is case-insensitive; placeholder and short tokens are refused off loopback. In-process servers (small
 * limits) cover the session table at its cap and the header and body timeouts.
 */
const TOKEN = randomBytes(32).toString('hex');
const root = path.resolve(__dirname, '..');
const STALL = '.*'.repeat(300) + 'zzz';
const COSTLY = '.*'.repeat(MAX_LOCAL_REPEATS) + 'zzz'; // the most repetitions accepted: slow, but bounded and sliced
const CALL_TIMEOUT_S = 10;

let fault: FaultApiserver;
let server: ReplicaProcess;

function spawnServer(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [DIST_ENTRY, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Exit code and stderr of a server that must refuse to start. */
async function refusedStart(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawnServer(['--transport', 'http', '--port', '0', ...args], env);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stderr };
}

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
const mcpHeaders = (auth: string) => ({ 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: auth });

async function connect(url: URL, token = TOKEN): Promise<Client> {
  const client = new Client({ name: 'security-http', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

/** Polls /healthz every 50 ms while `during` runs; returns the slowest answer (ms). */
async function healthzWhile<T>(port: number, during: Promise<T>): Promise<{ result: T; slowestMs: number; probes: number }> {
  let done = false;
  let slowest = 0;
  let probes = 0;
  const poller = (async () => {
    while (!done) {
      const t = Date.now();
      const res = await rawHttp(port, { path: '/healthz' });
      expect(res.status).toBe(200);
      slowest = Math.max(slowest, Date.now() - t);
      probes++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await during.finally(() => (done = true));
  await poller;
  return { result, slowestMs: slowest, probes };
}

beforeAll(async () => {
  // 8 MB of apiserver-like lines: the server reads 256 KiB, 1, 4, then 8 MiB of it looking for matches.
  const line = (i: number) => `I1127 04:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000000 812 httplog.go:132] "HTTP" verb="GET" URI="/api/v1/namespaces/default/pods?limit=500" latency="12.3ms" userAgent="kubectl/v1.36.0" audit-ID="${i}" srcIP="10.0.0.${i % 250}:5${i % 9999}" resp=200\n`;
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < 8 * 1024 * 1024; i++) {
    const l = line(i);
    parts.push(l);
    size += l.length;
  }
  fault = await startFaultApiserver({ nodes: { big: serveLog(parts.join('')), small: serveLog('I1127 04:00:00.000000 1 a.go:1] hello\n') } });
  server = await startReplica(['--kubeconfig', await fault.kubeconfig(), '--call-timeout', `${CALL_TIMEOUT_S}s`, '--max-sessions', '10', '--max-sessions-per-client', '4'], { KUBE_NODE_LOGS_AUTH_TOKEN: TOKEN });
}, 60_000);

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  await fault?.close();
});

describe('no pattern can stall the server', () => {
  it('the stall pattern (".*" × 300 + "zzz") is refused at once, before any request', async () => {
    const client = await connect(server.url);
    try {
      const before = fault.records.length;
      const t = Date.now();
      const res = (await client.callTool({ name: 'query_node_logs', arguments: { node: 'big', query: '/kube-apiserver.log', pattern: STALL, tailLines: 100 } })) as CallToolResult;
      expect(res.isError).toBe(true);
      expect(textOf(res)).toMatch(/300 repetitions.*at most 32/);
      expect(Date.now() - t).toBeLessThan(3000);
      expect(fault.records.slice(before).filter((r) => r.sub !== undefined)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('the costliest accepted pattern on a big file returns within the call deadline, cut with a notice, while /healthz and a second session answer', async () => {
    const a = await connect(server.url);
    const b = await connect(server.url);
    try {
      const started = Date.now();
      const call = a.callTool({ name: 'query_node_logs', arguments: { node: 'big', query: '/kube-apiserver.log', pattern: COSTLY, tailLines: 100 } }, undefined, { timeout: 60_000 }) as Promise<CallToolResult>;
      // The second session, mid-call: answers promptly.
      await new Promise((r) => setTimeout(r, 1500));
      const t = Date.now();
      const nodes = (await b.callTool({ name: 'list_nodes', arguments: {} })) as CallToolResult;
      const otherMs = Date.now() - t;
      expect(nodes.isError).toBeFalsy();
      const { result, slowestMs, probes } = await healthzWhile(server.port, call);
      const tookMs = Date.now() - started;
      process.stdout.write(`costly pattern: answered in ${tookMs} ms (deadline ${CALL_TIMEOUT_S} s); /healthz slowest ${slowestMs} ms over ${probes} probes; list_nodes on another session ${otherMs} ms\n`);
      expect(tookMs).toBeLessThan(CALL_TIMEOUT_S * 1000 + 3000);
      expect(slowestMs).toBeLessThan(1000);
      expect(otherMs).toBeLessThan(3000);
      // Cut by the filter budget with a notice (or, on a very slow machine, by the deadline with its message).
      expect(textOf(result)).toMatch(/pattern is costly to run here|overall deadline/);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);
});

describe('sessions', () => {
  it('a flood of sessions from one client does not lock a new client out: its own oldest sessions make room', async () => {
    const flood: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(`Bearer ${TOKEN}`), body: INIT });
      expect(res.status).toBe(200);
      flood.push(String(res.headers['mcp-session-id']));
    }
    const client = await connect(server.url);
    try {
      const nodes = (await client.callTool({ name: 'list_nodes', arguments: {} })) as CallToolResult;
      expect(nodes.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    // The flood's first sessions were evicted: their id is unknown now, with a clear answer.
    const stale = await rawHttp(server.port, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpHeaders(`Bearer ${TOKEN}`), 'Mcp-Session-Id': flood[0]!, 'Mcp-Protocol-Version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(stale.status).toBe(404);
    expect(stale.body).toMatch(/Unknown or expired session: start a new one/);
    const metrics = await rawHttp(server.port, { path: '/metrics', headers: { Authorization: `Bearer ${TOKEN}` } });
    const evicted = Number(/kube_node_logs_http_session_events_total\{event="evicted-per-client"\} (\d+)/.exec(metrics.body)?.[1]);
    expect(evicted).toBeGreaterThanOrEqual(26);
    expect(metrics.body).toMatch(/kube_node_logs_http_sessions_open \d+/);
  });

  it('accepts the Bearer scheme in any case (RFC 7235), and nothing else', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const res = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(`${scheme} ${TOKEN}`), body: INIT });
      expect(res.status, scheme).toBe(200);
    }
    for (const auth of [`Basic ${TOKEN}`, `Bearer${TOKEN}`, `Bearer ${TOKEN} extra`, TOKEN]) {
      const res = await rawHttp(server.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(auth), body: INIT });
      expect(res.status, auth).toBe(401);
    }
  });

  it('SIGTERM exits promptly even while a costly pattern is being matched', async () => {
    const client = await connect(server.url);
    const call = client.callTool({ name: 'query_node_logs', arguments: { node: 'big', query: '/kube-apiserver.log', pattern: COSTLY, tailLines: 100 } }, undefined, { timeout: 60_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 2000));
    const t = Date.now();
    server.child.kill('SIGTERM');
    const { code, signal } = await server.exited;
    const exitMs = Date.now() - t;
    process.stdout.write(`SIGTERM mid-pattern: exited in ${exitMs} ms\n`);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(exitMs).toBeLessThan(2000);
    void call; // the SDK client does not settle a call whose connection went away; nothing to wait for
    await client.close().catch(() => undefined);
  }, 30_000);
});

describe('the session table at its cap (in-process, small limits)', () => {
  let s: RunningHttpServer;
  let metrics: Metrics;
  beforeAll(async () => {
    metrics = new Metrics();
    s = await startHttpServer({ host: '127.0.0.1', port: 0, makeServer: () => new McpServer({ name: 't', version: '0' }), metrics, maxSessions: 3, maxSessionsPerClient: 10, sessionEvictIdleMs: 400 });
  });
  afterAll(() => s?.close());

  it('refuses with a clear message and Retry-After while every session is busy, then evicts the idlest', async () => {
    for (let i = 0; i < 3; i++) expect((await rawHttp(s.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(''), body: INIT })).status).toBe(200);
    const full = await rawHttp(s.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(''), body: INIT });
    expect(full.status).toBe(503);
    expect(Number(full.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(full.body).toMatch(/Too many open sessions \(3\).*retry in \d+ s/);
    await new Promise((r) => setTimeout(r, 500));
    const admitted = await rawHttp(s.port, { method: 'POST', path: '/mcp', headers: mcpHeaders(''), body: INIT });
    expect(admitted.status).toBe(200);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/event="refused-full"} 1/);
    expect(text).toMatch(/event="evicted-idle"} 1/);
  });

  it('SessionTable: per-client cap recycles the client\'s own sessions, never another client\'s', () => {
    const closed: string[] = [];
    const t = new SessionTable<number>({ maxSessions: 10, maxPerClient: 2, idleMs: 60_000, evictIdleMs: 1000 }, (id) => closed.push(id));
    t.add('a1', 'A', 1, 0);
    t.add('b1', 'B', 2, 1);
    t.add('a2', 'A', 3, 2);
    expect(t.admit('A', 3)).toEqual({ ok: true, evicted: ['a1'] });
    expect(closed).toEqual(['a1']);
    expect(t.get('b1')).toBe(2);
  });
});

describe('header and body timeouts (in-process, 1 s)', () => {
  let s: RunningHttpServer;
  beforeAll(async () => {
    s = await startHttpServer({ host: '127.0.0.1', port: 0, makeServer: () => new McpServer({ name: 't', version: '0' }), headersTimeoutMs: 1000, bodyTimeoutMs: 1000 });
  });
  afterAll(() => s?.close());

  /** Sends `text` and keeps the socket open; resolves with what came back and when the server closed it. */

  it('headers sent slowly: the connection is cut', async () => {
    const r = await slowClient(s.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\n`);
    expect(r.closedAfterMs).toBeLessThan(5000);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a body sent slowly: 408 with a message, and the connection is cut', async () => {
    const r = await slowClient(s.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 200\r\n\r\n{"jsonrpc":`);
    expect(r.closedAfterMs).toBeLessThan(5000);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(r.answer).toMatch(/Request body not received within 1 s/);
  });
});

describe('tokens off loopback', () => {
  const placeholder = /token:\s*(\S+)/.exec(readFileSync(path.join(root, 'deploy/base/secret.yaml'), 'utf8'))![1]!;

  it("refuses deploy/base/secret.yaml's placeholder and says how to generate a token", async () => {
    const kubeconfig = await fault.kubeconfig();
    const r = await refusedStart(['--host', '0.0.0.0', '--kubeconfig', kubeconfig], { KUBE_NODE_LOGS_AUTH_TOKEN: placeholder });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/placeholder/);
    expect(r.stderr).toMatch(/openssl rand -hex 32/);
    expect(r.stderr).not.toMatch(/serving MCP/);
  });

  it('refuses a token shorter than 32 characters, and other placeholders', async () => {
    const kubeconfig = await fault.kubeconfig();
    const short = await refusedStart(['--host', '0.0.0.0', '--kubeconfig', kubeconfig], { KUBE_NODE_LOGS_AUTH_TOKEN: 'a1b2c3d4e5f6g7h8' });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/16 characters long; at least 32/);
    for (const t of ['changeme-changeme-changeme-changeme', 'REPLACE_ME_0123456789abcdef0123456789', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '<your-token-here-0123456789abcdef0123>']) expect(weakTokenProblem(t), t).toBeDefined();
    expect(weakTokenProblem(randomBytes(32).toString('hex'))).toBeUndefined();
    expect(weakTokenProblem(randomBytes(24).toString('base64url'))).toBeUndefined();
  });
});

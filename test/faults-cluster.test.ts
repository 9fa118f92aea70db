import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServingCerts } from '../src/sandbox/certs.js';
import { serveLog, startFaultApiserver, type FaultApiserver } from './support/fault-apiserver.js';
import { startInProcessMcp, type InProcessMcp } from './support/fault-mcp.js';
import { startMcp } from './support/mcp.js';

/**
 * Failures between this server and the API server itself: nothing listening, TLS that does not verify,
 * rejected or unobtainable credentials, rate limiting and errors on ordinary API calls. Each gives an
 * isError result that names the cause and the fix, and the server keeps answering.
 */
const LINES = 'Nov 27 04:00:01.000000 node kubelet[812]: I1127 sync fine\n';
let fault: FaultApiserver;
let dir: string;
let listMode: 'ok' | '500' | '429' | 'html' | '429-post' = 'ok';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'faults-cluster-'));
  fault = await startFaultApiserver({
    nodes: { 'worker-a': serveLog(LINES) },
    intercept: (req, res) => {
      const isList = req.url?.startsWith('/api/v1/nodes?') || req.url === '/api/v1/nodes';
      if (listMode === '500' && isList) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', message: 'Internal error occurred: etcdserver: request timed out', code: 500 }));
        return true;
      }
      if (listMode === '429' && isList) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '0' });
        res.end(JSON.stringify({ kind: 'Status', message: 'Too many requests', code: 429 }));
        return true;
      }
      if (listMode === '429-post' && req.method === 'POST') {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '0' });
        res.end(JSON.stringify({ kind: 'Status', message: 'Too many requests', code: 429 }));
        return true;
      }
      if (listMode === 'html' && isList) {
        res.writeHead(502, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end('<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{}</style></head><body><h1>Bad Gateway</h1><p>The proxy server received an invalid response. Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123</p></body></html>');
        return true;
      }
      return false;
    },
  });
});

afterAll(async () => {
  await fault?.close();
  await rm(dir, { recursive: true, force: true });
});

async function withMcp(args: string[], fn: (mcp: InProcessMcp) => Promise<void>): Promise<void> {
  const mcp = await startInProcessMcp(args);
  try {
    await fn(mcp);
  } finally {
    await mcp.close();
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('apiserver down at start (the built server over stdio)', () => {
  it('every tool says the API server cannot be reached, and the process keeps serving', async () => {
    const port = await freePort();
    const kubeconfig = await fault.kubeconfig({ server: `https://127.0.0.1:${port}` });
    const mcp = await startMcp({ args: ['--kubeconfig', kubeconfig, '--api-timeout', '3s', '--request-timeout', '3s'] });
    try {
      for (const [tool, args] of [
        ['list_nodes', {}],
        ['check_node_log_support', { node: 'worker-a' }],
        ['query_node_logs', { node: 'worker-a', query: 'kubelet' }],
        ['query_node_logs', { labelSelector: 'kubernetes.io/os=linux', query: 'kubelet' }],
      ] as const) {
        const res = await mcp.call(tool, args);
        // check_node_log_support answers "unknown" with the evidence rather than failing the call.
        if (tool === 'check_node_log_support') expect(res.text).toMatch(/UNKNOWN/);
        else expect(res.isError, `${tool}: ${res.text}`).toBe(true);
        expect(res.text).toMatch(/connection refused/);
        expect(res.text).toMatch(/Is the cluster running/);
      }
      const again = await mcp.call('list_nodes', {});
      expect(again.isError).toBe(true);
    } finally {
      await mcp.close();
    }
  });
});

describe('TLS', () => {
  it('a CA that did not sign the server certificate: a TLS error naming the CA setting', async () => {
    const other = await generateServingCerts();
    await withMcp(['--kubeconfig', await fault.kubeconfig({ caPem: other.caPem })], async (mcp) => {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/TLS failure/);
      expect(res.text).toMatch(/certificate-authority/);
      const q = await mcp.call('query_node_logs', { node: 'worker-a', query: 'kubelet' });
      expect(q.isError).toBe(true);
      expect(q.text).toMatch(/TLS failure/);
    });
  });

  it('a server name the certificate does not cover: says the name does not match', async () => {
    await withMcp(['--kubeconfig', await fault.kubeconfig({ tlsServerName: 'apiserver.wrong.example' })], async (mcp) => {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/does not match the server name/);
      expect(res.text).toMatch(/tls-server-name/);
    });
  });
});

describe('credentials', () => {
  it('401 for an expired token: says the credentials were rejected and to log in again', async () => {
    await withMcp(['--kubeconfig', await fault.kubeconfig({ token: 'expired-token' })], async (mcp) => {
      for (const [tool, args] of [
        ['list_nodes', {}],
        ['query_node_logs', { node: 'worker-a', query: 'kubelet' }],
      ] as const) {
        const res = await mcp.call(tool, args);
        expect(res.isError, tool).toBe(true);
        expect(res.text).toMatch(/401/);
        expect(res.text).toMatch(/expired/);
        expect(res.text).toMatch(/log in again|refresh/i);
        expect(res.text).not.toContain('expired-token');
      }
      const check = await mcp.call('check_node_log_support', { node: 'worker-a' });
      expect(check.text).toMatch(/401/);
    });
  });

  it('an exec credential plugin that exits 1: names the plugin failure and its message', async () => {
    const script = path.join(dir, 'failing-plugin.sh');
    await writeFile(script, '#!/bin/sh\necho "error: refresh token expired; run sso login" >&2\nexit 1\n');
    await chmod(script, 0o755);
    await withMcp(['--kubeconfig', await fault.kubeconfig({ exec: { command: script } })], async (mcp) => {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/credential plugin/);
      expect(res.text).toMatch(/refresh token expired/);
      const q = await mcp.call('query_node_logs', { node: 'worker-a', query: 'kubelet' });
      expect(q.isError).toBe(true);
      expect(q.text).toMatch(/credential plugin/);
    });
  });

  it('an exec credential plugin that is not installed: says to install it or fix PATH', async () => {
    await withMcp(['--kubeconfig', await fault.kubeconfig({ exec: { command: 'kubelogin-not-installed-anywhere' } })], async (mcp) => {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/credential plugin "kubelogin-not-installed-anywhere" was not found/);
      expect(res.text).toMatch(/PATH/);
    });
  });

  it('an exec plugin that works: requests carry its token', async () => {
    const script = path.join(dir, 'good-plugin.sh');
    await writeFile(script, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${fault.token}"}}'\n`);
    await chmod(script, 0o755);
    await withMcp(['--kubeconfig', await fault.kubeconfig({ exec: { command: script } })], async (mcp) => {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError, res.text).toBeFalsy();
    });
  });
});

describe('API errors on ordinary calls', () => {
  let mcp: InProcessMcp;
  beforeAll(async () => {
    mcp = await startInProcessMcp(['--kubeconfig', await fault.kubeconfig()]);
  });
  afterAll(async () => {
    listMode = 'ok';
    await mcp?.close();
  });

  it('500 on the node list: the Status message, then recovery', async () => {
    listMode = '500';
    const res = await mcp.call('list_nodes', {});
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/etcdserver: request timed out/);
    listMode = 'ok';
    expect((await mcp.call('list_nodes', {})).isError).toBeFalsy();
  });

  it('429 on GETs is retried a bounded number of times; a POST (access review) is not retried', async () => {
    listMode = '429';
    fault.records.length = 0;
    const res = await mcp.call('list_nodes', {});
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/rate-limiting \(429\)/);
    expect(fault.records.filter((r) => r.path === '/api/v1/nodes')).toHaveLength(3);
    listMode = '429-post';
    fault.records.length = 0;
    const check = await mcp.call('check_node_log_support', { node: 'worker-a' });
    expect(check.text).toMatch(/429/);
    expect(fault.records.filter((r) => r.method === 'POST')).toHaveLength(1);
    listMode = 'ok';
  });

  it('an HTML page from a proxy in front of the apiserver is named by its title, never shown raw or with secrets', async () => {
    listMode = 'html';
    const res = await mcp.call('list_nodes', {});
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/HTML page titled "502 Bad Gateway"/);
    expect(res.text).not.toMatch(/<html|<head|<style|<h1|DOCTYPE|abcdefghijklmnopqrstuvwxyz0123/i);
    listMode = 'ok';
  });

  it('sent no write requests', () => {
    expect(fault.writes()).toEqual([]);
  });
});

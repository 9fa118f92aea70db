// The node proxy against a stand-in kubelet that misbehaves on purpose (resets, redirects, floods).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServingCerts, type ServingCerts } from '../src/sandbox/certs.js';
import { SandboxRequestLog } from '../src/sandbox/request-log.js';
import { buildNodeObject, resolveNode } from '../src/sandbox/nodes.js';
import { NodeStore, type NodeObject } from '../src/sandbox/apiserver/node-store.js';
import { startApiserver, type RunningApiserver } from '../src/sandbox/apiserver/server.js';
import { newTokens, type Tokens } from '../src/sandbox/apiserver/auth.js';

let certs: ServingCerts;
let tokens: Tokens;
let api: RunningApiserver;
let log: SandboxRequestLog;
let kubelet: http.Server;
let kubeletUrl: string;
const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
let floodWritten = 0;
let floodStalled = false;

beforeAll(async () => {
  kubelet = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers, body });
      const path = req.url!.split('?')[0];
      if (path === '/reset') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('partial line\n');
        setTimeout(() => req.socket.destroy(), 50);
      } else if (path === '/abs-redirect') {
        res.writeHead(302, { Location: `${kubeletUrl}/logs/abs/` });
        res.end();
      } else if (path === '/rel-redirect') {
        res.writeHead(301, { Location: 'sub/' });
        res.end();
      } else if (path === '/flood') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = () => {
          while (floodWritten < 512 * 1024 * 1024) {
            floodWritten += chunk.length;
            if (!res.write(chunk)) {
              floodStalled = true;
              res.once('drain', () => {
                floodStalled = false;
                pump();
              });
              return;
            }
          }
          res.end();
        };
        pump();
      } else {
        res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET', Connection: 'keep-alive', 'X-Kubelet': 'stand-in' });
        res.end('Method Not Allowed');
      }
    });
  });
  await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
  kubeletUrl = `http://127.0.0.1:${(kubelet.address() as AddressInfo).port}`;
  certs = await generateServingCerts();
  tokens = newTokens();
  log = new SandboxRequestLog();
  const now = new Date();
  const mk = (name: string, fleet: boolean, url?: string) => {
    const node = resolveNode({ name, profile: 'healthy' }, 0, fleet);
    return { name, object: buildNodeObject(node, now, '1') as unknown as NodeObject, internalIP: node.internalIP, kubeletUrl: url, fleet };
  };
  api = await startApiserver({ certs, tokens, log, store: new NodeStore([mk('n1', false, kubeletUrl), mk('fleet-0000', true, kubeletUrl)], 7), fleetLatencyMs: 5000 });
});

afterAll(async () => {
  await api?.close();
  kubelet?.closeAllConnections();
  await new Promise((r) => kubelet?.close(r));
});

function open(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const url = new URL(api.url);
  return https.request({
    host: url.hostname,
    port: url.port,
    path,
    method: opts.method ?? 'GET',
    ca: certs.caPem,
    headers: { Authorization: `Bearer ${tokens.admin}`, ...opts.headers },
  });
}

function fetchAll(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = open(path, opts);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('node proxy edge cases', () => {
  it('forwards the headers that matter, never the bearer token, and strips hop-by-hop headers', async () => {
    seen.length = 0;
    const r = await fetchAll('/api/v1/nodes/n1/proxy/other?a=1&a=2&b=%2F', {
      headers: { Range: 'bytes=0-9', 'If-Range': 'Wed, 21 Oct 2015 07:28:00 GMT', Accept: 'text/plain', 'Accept-Encoding': 'gzip' },
    });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET');
    expect(r.headers['x-kubelet']).toBe('stand-in');
    expect(r.text).toBe('Method Not Allowed');
    const up = seen[0]!;
    expect(up.url).toBe('/other?a=1&a=2&b=%2F');
    expect(up.headers).toMatchObject({ range: 'bytes=0-9', 'if-range': 'Wed, 21 Oct 2015 07:28:00 GMT', accept: 'text/plain', 'accept-encoding': 'gzip' });
    expect(up.headers.authorization).toBeUndefined();
  });

  it('forwards a POST body and records it as a write', async () => {
    seen.length = 0;
    const before = log.writes().length;
    const r = await fetchAll('/api/v1/nodes/n1/proxy/logs/', { method: 'POST', body: 'query=kubelet', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(405);
    expect(seen[0]!.body).toBe('query=kubelet');
    expect(log.writes().slice(before).map((w) => `${w.method} ${w.node} ${w.proxyPath}`)).toEqual(['POST n1 logs/']);
  });

  it('rewrites absolute kubelet redirects and leaves relative ones alone', async () => {
    expect((await fetchAll('/api/v1/nodes/n1/proxy/abs-redirect')).headers.location).toBe('/api/v1/nodes/n1/proxy/logs/abs/');
    expect((await fetchAll('/api/v1/nodes/n1/proxy/rel-redirect')).headers.location).toBe('sub/');
  });

  it('destroys the client response when the kubelet resets mid-stream', async () => {
    const outcome = await new Promise<{ got: string; ended: boolean }>((resolve) => {
      const req = open('/api/v1/nodes/n1/proxy/reset');
      req.on('response', (res) => {
        let got = '';
        let ended = false;
        res.on('data', (c) => (got += c));
        res.on('end', () => (ended = true));
        res.on('close', () => resolve({ got, ended }));
      });
      req.on('error', () => undefined);
      req.end();
    });
    expect(outcome.got).toBe('partial line\n');
    expect(outcome.ended).toBe(false);
    await log.waitIdle();
    expect(log.entries.at(-1)).toMatchObject({ proxyPath: 'reset', status: 200, aborted: true });
  });

  it('respects backpressure: a paused client stalls the kubelet instead of buffering its output', async () => {
    floodWritten = 0;
    const req = open('/api/v1/nodes/n1/proxy/flood');
    const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve).end());
    res.pause();
    // Wait until the kubelet is blocked on 'drain' and has made no progress for a while.
    let last = -1;
    while (!(floodStalled && floodWritten === last)) {
      last = floodWritten;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(floodWritten).toBeLessThan(64 * 1024 * 1024);
    req.destroy();
    await log.waitIdle();
    expect(log.entries.at(-1)).toMatchObject({ proxyPath: 'flood', aborted: true });
  });

  it('drops a fleet request during the added latency without contacting the kubelet', async () => {
    seen.length = 0;
    const req = open('/api/v1/nodes/fleet-0000/proxy/other');
    req.on('error', () => undefined);
    req.end();
    while (!log.entries.some((e) => e.node === 'fleet-0000')) await new Promise((r) => setTimeout(r, 10));
    req.destroy();
    await log.waitIdle();
    expect(log.entries.at(-1)).toMatchObject({ node: 'fleet-0000', aborted: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toHaveLength(0);
  });
});

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { startHttpServer, type RunningHttpServer } from '../src/http/http-server.js';

/** Host header rules of the HTTP transport (DNS-rebinding guard), with a raw client that can lie about Host. */
let srv: RunningHttpServer;

function post(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/mcp', method: 'POST', headers: { Host: host, 'Content-Type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
  });
}

beforeAll(async () => {
  srv = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    allowedHosts: ['svc.ns', 'front.ns:80'],
    makeServer: () => new McpServer({ name: 't', version: '0' }),
  });
});
afterAll(async () => srv?.close());

describe('Host header checks', () => {
  it('accepts loopback names and allowed names on our port, and an allowed name:port exactly', async () => {
    for (const host of [`127.0.0.1:${srv.port}`, `localhost:${srv.port}`, `svc.ns:${srv.port}`, 'svc.ns', 'front.ns:80']) {
      const r = await post(host);
      // Past the Host check, a request without a session that is not initialize gets 400.
      expect(r.status, host).toBe(400);
      expect(r.body).toMatch(/initialize/);
    }
  });

  it('refuses other names, and allowed names on another port', async () => {
    for (const host of ['evil.example', `evil.example:${srv.port}`, 'svc.ns:81', 'front.ns:81', `front.ns:${srv.port}`, '127.0.0.1:1']) {
      const r = await post(host);
      expect(r.status, host).toBe(403);
      expect(r.body).toMatch(/Invalid Host/);
    }
  });
});

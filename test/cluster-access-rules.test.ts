import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { noProxyMatch, routeFor } from '../src/kube/proxy-route.js';
import { Credentials } from '../src/kube/credentials.js';
import { loadClusterAccess } from '../src/kube/kubeconfig.js';

/** The rules behind cluster access that are cheaper to pin down directly than over MCP (Go's, as kubectl applies them). */
const dir = mkdtempSync(path.join(tmpdir(), 'knl-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NO_PROXY, as Go matches it', () => {
  it.each([
    ['example.com', 'example.com', true],
    ['example.com', 'api.example.com', true],
    ['example.com', 'notexample.com', false],
    ['.example.com', 'api.example.com', true],
    ['.example.com', 'example.com', false],
    ['*.example.com', 'api.example.com', true],
    ['*', 'anything.at.all', true],
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.1.2.3', false],
    ['10.0.0.0/8', 'ten.example', false],
    ['fd00::/8', 'fd12::1', true],
    ['192.168.1.1', '192.168.1.1', true],
    ['example.com:6443', 'example.com', true],
    ['example.com:443', 'example.com', false],
    [' foo.test , EXAMPLE.com ', 'api.example.com', true],
  ])('NO_PROXY=%j, host %s → direct: %s', (entry, host, direct) => {
    expect(Boolean(noProxyMatch(entry, host, '6443'))).toBe(direct);
  });
});

describe('which proxy a server gets', () => {
  const https = new URL('https://api.corp.example:6443');
  const http = new URL('http://api.corp.example:8001');
  it('proxy-url wins over the environment and applies even to loopback; socks5 is resolved on the proxy', () => {
    expect(routeFor(new URL('https://127.0.0.1:6443'), 'socks5://127.0.0.1:1080', { HTTPS_PROXY: 'http://other:3128' }).proxy?.href).toBe('socks5h://127.0.0.1:1080');
  });
  it('HTTPS_PROXY before https_proxy; a bare host:port is http://', () => {
    const r = routeFor(https, undefined, { HTTPS_PROXY: 'proxy.corp:3128', https_proxy: 'http://lower:1' });
    expect(r.proxy?.href).toBe('http://proxy.corp:3128/');
    expect(r.describe).toBe('via HTTP proxy http://proxy.corp:3128 (HTTPS_PROXY)');
  });
  it('http servers use HTTP_PROXY, not HTTPS_PROXY, and ignore it in a CGI environment', () => {
    expect(routeFor(http, undefined, { HTTPS_PROXY: 'http://a:1' }).proxy).toBeUndefined();
    expect(routeFor(http, undefined, { HTTP_PROXY: 'http://b:2' }).proxy?.host).toBe('b:2');
    expect(routeFor(http, undefined, { HTTP_PROXY: 'http://b:2', REQUEST_METHOD: 'GET' }).proxy).toBeUndefined();
  });
  it('loopback and localhost never take an environment proxy (but local.localhost does, as in Go)', () => {
    for (const h of ['https://127.0.0.1:1', 'https://localhost:1', 'https://[::1]:1']) expect(routeFor(new URL(h), undefined, { HTTPS_PROXY: 'http://p:1' }).proxy).toBeUndefined();
    expect(routeFor(new URL('https://local.localhost:1'), undefined, { HTTPS_PROXY: 'http://p:1' }).proxy).toBeDefined();
  });
  it('credentials in a proxy URL never show in the route description', () => {
    expect(routeFor(https, 'http://user:s3cret@proxy:3128', {}).describe).not.toMatch(/s3cret|user/);
  });
  it('an unusable proxy setting is an error naming it', () => {
    expect(() => routeFor(https, undefined, { HTTPS_PROXY: 'ftp://x:1' })).toThrow(/HTTPS_PROXY="ftp:\/\/x:1" is not an http, https, socks5 or socks5h URL/);
  });
});

describe('tokenFile', () => {
  it('is read again about once a minute (rotating tokens), trimmed', async () => {
    const tokenPath = path.join(dir, 'token');
    writeFileSync(tokenPath, 'first\n');
    const kc = path.join(dir, 'kc.yaml');
    writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: { server: "https://k:6443" }\nusers:\n- name: u\n  user: { tokenFile: token }\ncontexts:\n- name: x\n  context: { cluster: c, user: u }\ncurrent-context: x\n`);
    const creds = new Credentials(loadClusterAccess({ kubeconfig: kc, env: {} }));
    const now = vi.spyOn(Date, 'now');
    try {
      let t = 1_000_000;
      now.mockImplementation(() => t);
      const signal = new AbortController().signal;
      expect((await creds.get(signal, 1000)).headers.Authorization).toBe('Bearer first');
      writeFileSync(tokenPath, 'second\n');
      t += 30_000;
      expect((await creds.get(signal, 1000)).headers.Authorization).toBe('Bearer first');
      t += 31_000;
      expect((await creds.get(signal, 1000)).headers.Authorization).toBe('Bearer second');
    } finally {
      now.mockRestore();
    }
  });
});

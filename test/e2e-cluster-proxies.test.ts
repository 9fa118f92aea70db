import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { generateServingCerts, type ServingCerts } from '../src/sandbox/certs.js';
import { startMcp } from './support/mcp.js';
import { DANTED, SQUID, canUnshareMount, freePort, startDante, startSquid, type ProxyDaemon } from './support/proxy-daemons.js';
import { hasKubectl, kubectl, rawLogsArgs } from './support/kubectl.js';

/**
 * Cluster access through proxies, as kubectl does it, against real squid (HTTP CONNECT) and Dante (SOCKS5).
 * The sandbox apiserver is addressed by names that only the proxies resolve (squid's hosts_file, Dante's
 * private /etc/hosts), so an answer proves the request went through the proxy, and the proxy's own log
 * must show it. Each case runs through the built server over MCP and through real kubectl.
 */
const NODE = NODE_NAMES.worker1;
const haveSocks = Boolean(DANTED) && canUnshareMount();
const have = Boolean(SQUID) && haveSocks;
if (!have) {
  const why = `real proxy tests need squid and Dante (apt-get install squid dante-server) and unshare -m (root): squid ${SQUID ? 'found' : 'missing'}, danted ${DANTED ? 'found' : 'missing'}, unshare -m ${haveSocks || !DANTED ? (haveSocks ? 'works' : 'n/a') : 'fails'}`;
  if (process.env.REQUIRE_REAL_PROXIES) throw new Error(`REQUIRE_REAL_PROXIES is set but ${why}`);
  console.warn(`SKIPPED: ${why}`);
}
if (!hasKubectl) console.warn('SKIPPED (kubectl comparisons only): /usr/bin/kubectl is not installed');

let sandbox: Sandbox;
let squid: ProxyDaemon;
let dante: ProxyDaemon;
let authSquid: ProxyDaemon;
let dir: string;
let port: string;
let proxyCerts: ServingCerts;
let proxyCaFile: string;

/** One proxy-only name per case, so each case finds its own lines in the proxies' logs. */
const NAMES = ['pu-http', 'pu-https', 'pu-auth', 'pu-socks', 'pu-socks5h', 'env-upper', 'env-lower', 'noproxy', 'noproxy-star', 'down'].map((n) => `${n}.apiserver.proxy-only.test`);
const hostOf = (label: string) => NAMES.find((n) => n.startsWith(`${label}.`))!;

function kubeconfig(name: string, host: string, proxyUrl?: string, caFile = sandbox.caPath, serverPort = port): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: behind-proxy
  cluster:
    server: https://${host}:${serverPort}
    certificate-authority: ${JSON.stringify(caFile)}
    tls-server-name: localhost
${proxyUrl ? `    proxy-url: ${proxyUrl}\n` : ''}users:
- name: admin
  user:
    token: ${JSON.stringify(sandbox.tokens.admin)}
contexts:
- name: proxied
  context: { cluster: behind-proxy, user: admin }
current-context: proxied
`,
  );
  return file;
}

/** squid writes a CONNECT line when the tunnel closes, i.e. once the client has let go of the connection. */
async function logLines(p: ProxyDaemon, needle: string, atLeast = 1, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = p.log().split('\n').filter((l) => l.includes(needle));
    if (lines.length >= atLeast || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function viaMcp(kc: string, env: Record<string, string> = {}) {
  const mcp = await startMcp({ args: ['--kubeconfig', kc, '--api-timeout', '10s'], env });
  try {
    const logs = await mcp.call('query_node_logs', { node: NODE, query: 'kubelet', tailLines: 5 });
    const check = await mcp.call('check_node_log_support', { node: NODE });
    return { logs, check, stderr: mcp.stderr() };
  } finally {
    await mcp.close();
  }
}

beforeAll(async () => {
  if (!have) return;
  sandbox = await startSandbox({ nodes: [{ name: NODE, profile: 'healthy' }] });
  port = new URL(sandbox.apiserverUrl).port;
  dir = mkdtempSync(path.join(tmpdir(), 'knl-proxies-'));
  const hosts = Object.fromEntries(NAMES.map((n) => [n, '127.0.0.1']));
  // The HTTPS proxy's own certificate, from a CA that only the clients in the https:// case are told to trust.
  proxyCerts = await generateServingCerts();
  proxyCaFile = path.join(dir, 'cluster-and-proxy-ca.crt');
  writeFileSync(proxyCaFile, readFileSync(sandbox.caPath, 'utf8') + proxyCerts.caPem);
  [squid, dante, authSquid] = await Promise.all([
    startSquid(hosts, { certPem: proxyCerts.certPem, keyPem: proxyCerts.keyPem }),
    startDante(hosts),
    startSquid(hosts, undefined, { alice: 'pr0xy-s3cret' }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([squid?.close(), dante?.close(), authSquid?.close()]);
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!have)('through real proxies', () => {
  it('the proxy-only names do not resolve here, so only a proxy can reach them', async () => {
    await expect(lookup(hostOf('pu-http'))).rejects.toThrow();
  });

  it('proxy-url http:// (squid, CONNECT): logs and evidence arrive, the route is named, connections are kept alive', async () => {
    const host = hostOf('pu-http');
    const kc = kubeconfig('pu-http', host, squid.url);
    const before = sandbox.requestLog.entries.length;
    const r = await viaMcp(kc);
    expect(r.logs.isError, r.logs.text).toBeFalsy();
    expect(r.logs.text).toMatch(/kubelet/);
    expect(r.check.text).toMatch(/SUPPORTED/);
    expect(r.check.text).toContain(`route to the API server: https://${host}:${port} via HTTP proxy ${squid.url} (proxy-url in the kubeconfig)`);
    expect(r.stderr).toContain(`via HTTP proxy ${squid.url}`);
    const requests = sandbox.requestLog.entries.length - before;
    const tunnels = await logLines(squid, `CONNECT ${host}:${port}`);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    expect(tunnels.every((l) => /TCP_TUNNEL\/200/.test(l))).toBe(true);
    // Pooled keep-alive agent: several API requests share a tunnel rather than one CONNECT each.
    expect(requests).toBeGreaterThanOrEqual(4);
    expect(tunnels.length).toBeLessThan(requests);
    console.info(`squid: ${tunnels.length} CONNECT tunnel(s) carried ${requests} API requests`);
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir });
      expect(k.code, k.stderr).toBe(0);
      expect(k.stdout).toMatch(/kubelet/);
      expect((await logLines(squid, `CONNECT ${host}:${port}`, tunnels.length + 1)).length).toBeGreaterThan(tunnels.length);
    }
  });

  it('proxy-url https:// (squid with TLS, then CONNECT): the proxy is verified with the cluster CA, as kubectl verifies it', async () => {
    const host = hostOf('pu-https');
    // kubectl (Go's transport) checks an https:// proxy with the cluster's TLS settings: the CA bundle must hold its issuer.
    const kc = kubeconfig('pu-https', host, squid.httpsUrl, proxyCaFile);
    const r = await viaMcp(kc);
    expect(r.logs.isError, r.logs.text).toBeFalsy();
    expect(r.logs.text).toMatch(/kubelet/);
    expect(r.check.text).toContain(`via HTTPS proxy ${squid.httpsUrl} (proxy-url in the kubeconfig)`);
    const tunnels = await logLines(squid, `CONNECT ${host}:${port}`);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    const untrustedKc = kubeconfig('pu-https-untrusted', host, squid.httpsUrl);
    const mcp = await startMcp({ args: ['--kubeconfig', untrustedKc, '--api-timeout', '10s'] });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toContain(`or to its HTTPS proxy ${squid.httpsUrl}`);
      expect(res.text).toMatch(/must hold the proxy certificate's issuer/);
    } finally {
      await mcp.close();
    }
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir });
      expect(k.code, k.stderr).toBe(0);
      expect(k.stdout).toMatch(/kubelet/);
      const bad = await kubectl(rawLogsArgs(NODE), { kubeconfig: untrustedKc, home: dir });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/certificate/i);
    }
  });

  it('a proxy that wants a login: user:password in proxy-url is sent to it, never shown; a wrong one gets a 407 message', async () => {
    const host = hostOf('pu-auth');
    const good = authSquid.url.replace('http://', 'http://alice:pr0xy-s3cret@');
    const kc = kubeconfig('pu-auth', host, good);
    const r = await viaMcp(kc);
    expect(r.logs.isError, r.logs.text).toBeFalsy();
    expect(r.check.text).toContain(`via HTTP proxy ${authSquid.url} (proxy-url in the kubeconfig)`);
    expect(`${r.check.text}${r.stderr}`).not.toContain('pr0xy-s3cret');
    const tunnels = await logLines(authSquid, `CONNECT ${host}:${port} alice`);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    const badKc = kubeconfig('pu-auth-bad', host, authSquid.url.replace('http://', 'http://alice:wrong@'));
    const mcp = await startMcp({ args: ['--kubeconfig', badKc] });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/refused to open a tunnel .*HTTP 407 to CONNECT: it wants credentials/);
      expect(res.text).not.toContain('wrong');
    } finally {
      await mcp.close();
    }
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir });
      expect(k.code, k.stderr).toBe(0);
      expect(k.stdout).toMatch(/kubelet/);
    }
  });

  it.each([
    ['socks5', 'pu-socks'],
    ['socks5h', 'pu-socks5h'],
  ])('proxy-url %s:// (Dante): the proxy resolves the name, as kubectl has it', async (scheme, label) => {
    const host = hostOf(label);
    const kc = kubeconfig(label, host, dante.url.replace(/^socks5:/, `${scheme}:`));
    const before = dante.log().split('\n').filter((l) => l.includes('tcp/connect') && l.includes(`127.0.0.1.${port}`)).length;
    const r = await viaMcp(kc);
    expect(r.logs.isError, r.logs.text).toBeFalsy();
    expect(r.logs.text).toMatch(/kubelet/);
    expect(r.check.text).toMatch(/SUPPORTED/);
    expect(r.check.text).toContain(`via SOCKS5 proxy socks5h://127.0.0.1:${dante.port} (proxy-url in the kubeconfig)`);
    const connects = await logLines(dante, `127.0.0.1.${port}`, before + 1);
    expect(connects.filter((l) => l.includes('tcp/connect')).length).toBeGreaterThan(before);
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir });
      if (scheme === 'socks5') {
        expect(k.code, k.stderr).toBe(0);
        expect(k.stdout).toMatch(/kubelet/);
      } else {
        // kubectl 1.32 refuses the socks5h spelling; the server accepts it, since it means what kubectl's socks5 does.
        expect(k.code).not.toBe(0);
        expect(k.stderr).toMatch(/unsupported scheme "socks5h"/);
      }
    }
  });

  it.each([
    ['HTTPS_PROXY', 'env-upper'],
    ['https_proxy', 'env-lower'],
  ])('%s from the environment (no proxy-url): used like kubectl uses it', async (variable, label) => {
    const host = hostOf(label);
    const kc = kubeconfig(label, host);
    const r = await viaMcp(kc, { [variable]: squid.url });
    expect(r.logs.isError, r.logs.text).toBeFalsy();
    expect(r.check.text).toContain(`via HTTP proxy ${squid.url} (${variable})`);
    const tunnels = await logLines(squid, `CONNECT ${host}:${port}`);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir, env: { [variable]: squid.url } });
      expect(k.code, k.stderr).toBe(0);
      expect(k.stdout).toMatch(/kubelet/);
    }
  });

  it.each([
    ['.apiserver.proxy-only.test', 'noproxy'],
    ['*', 'noproxy-star'],
  ])('NO_PROXY=%s: the proxy is skipped (so the proxy-only name cannot resolve), and the error says which route was taken', async (noProxy, label) => {
    const host = hostOf(label);
    const kc = kubeconfig(label, host);
    const mcp = await startMcp({ args: ['--kubeconfig', kc, '--api-timeout', '10s'], env: { HTTPS_PROXY: squid.url, NO_PROXY: noProxy } });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/Cannot resolve the Kubernetes API server host/);
      expect(res.text).toContain(`direct (NO_PROXY entry ${JSON.stringify(noProxy)} matches ${host})`);
    } finally {
      await mcp.close();
    }
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir, env: { HTTPS_PROXY: squid.url, NO_PROXY: noProxy } });
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/no such host|lookup/i);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(squid.log()).not.toContain(host);
  });

  it('a proxy that is down: the error names the proxy and the fix, and the server keeps answering', async () => {
    const host = hostOf('down');
    const downUrl = `http://127.0.0.1:${await freePort()}`;
    const kc = kubeconfig('down', host, downUrl);
    const mcp = await startMcp({ args: ['--kubeconfig', kc, '--api-timeout', '5s'] });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await mcp.call('list_nodes', {});
        expect(res.isError).toBe(true);
        expect(res.text).toContain(`Cannot reach the proxy ${downUrl} (proxy-url in the kubeconfig)`);
        expect(res.text).toMatch(/ECONNREFUSED/);
      }
    } finally {
      await mcp.close();
    }
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir });
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/refused/i);
    }
  });

  it('a tunnel the proxy cannot open (nothing listens there): says the proxy refused the CONNECT', async () => {
    const kc = kubeconfig('refused', hostOf('pu-http'), squid.url, sandbox.caPath, String(await freePort()));
    const mcp = await startMcp({ args: ['--kubeconfig', kc, '--api-timeout', '10s'] });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toContain(`The proxy ${squid.url} (proxy-url in the kubeconfig) refused to open a tunnel`);
      expect(res.text).toMatch(/HTTP 5\d\d to CONNECT/);
    } finally {
      await mcp.close();
    }
  });
});

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, fleetNodeName } from '../src/sandbox/index.js';
import type { Sandbox } from '../src/sandbox/types.js';

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ nodes: [{ name: 'solo-1', profile: 'healthy' }], fleet: 200, fleetLatencyMs: 20, journalBackend: 'inprocess' });
});

afterAll(async () => {
  await sb?.close();
});

function getJson(path: string, token = sb.tokens.admin): Promise<{ status: number; body: any }> {
  const url = new URL(sb.apiserverUrl);
  return new Promise((resolve, reject) => {
    https
      .get({ host: url.hostname, port: url.port, path, ca: readFileSync(sb.caPath), headers: { Authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text }));
      })
      .on('error', reject);
  });
}

describe('fleet sandbox', () => {
  it('lays out the shared fleet data and the kubeconfig in its directory', () => {
    expect(sb.nodes).toHaveLength(201);
    expect(existsSync(join(sb.dir, 'nodes', '_fleet', 'var', 'log', 'syslog'))).toBe(true);
    expect(existsSync(join(sb.dir, 'nodes', 'solo-1', 'var', 'log', 'syslog'))).toBe(true);
    expect(readFileSync(sb.caPath, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(sb.kubeconfigPath, 'utf8')).toContain(`server: "${sb.apiserverUrl}"`);
  });

  it('pages through the fleet with limit/continue and remainingItemCount', async () => {
    const seen: string[] = [];
    const remaining: number[] = [];
    let cont = '';
    let pages = 0;
    do {
      const q = `labelSelector=${encodeURIComponent('sandbox.example.com/pool=fleet')}&limit=37${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
      const { status, body } = await getJson(`/api/v1/nodes?${q}`);
      expect(status).toBe(200);
      seen.push(...body.items.map((n: any) => n.metadata.name));
      cont = body.metadata.continue ?? '';
      if (cont) remaining.push(body.metadata.remainingItemCount);
      pages++;
    } while (cont);
    expect(pages).toBe(6);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => fleetNodeName(i)));
    expect(remaining).toEqual([163, 126, 89, 52, 15]);
    const bad = await getJson('/api/v1/nodes?limit=5&continue=not-a-token');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });

  it('proxies a fan-out to many fleet kubelets, one request in flight per node', async () => {
    sb.requestLog.clear();
    const names = Array.from({ length: 20 }, (_, i) => fleetNodeName(i * 10));
    const replies = await Promise.all(names.map((n) => getJson(`/api/v1/nodes/${n}/proxy/logs/?query=kubelet&tailLines=2`)));
    for (const r of replies) expect(r.body.trimEnd().split('\n')).toHaveLength(2);
    await sb.requestLog.waitIdle();
    expect([...sb.requestLog.maxConcurrentPerNode.keys()].sort()).toEqual([...names].sort());
    expect([...sb.requestLog.maxConcurrentPerNode.values()].every((v) => v === 1)).toBe(true);
    for (const rec of sb.requestLog.entries) expect(rec.journalArgs).toContain('--lines=2');
    expect(sb.requestLog.inFlight).toBe(0);
  });

  it('works with @kubernetes/client-node reading the generated kubeconfig', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    expect(kc.getCurrentContext()).toBe('sandbox-admin');
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const page = await core.listNode({ limit: 50, labelSelector: 'sandbox.example.com/pool=fleet' });
    expect(page.items).toHaveLength(50);
    expect(page.metadata?._continue).toBeTruthy();
    expect(page.metadata?.remainingItemCount).toBe(150);
    const node = await core.readNode({ name: 'solo-1' });
    expect(node.status?.nodeInfo?.kubeletVersion).toBe('v1.36.1');

    kc.setCurrentContext('sandbox-restricted');
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const review = await authz.createSelfSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'proxy' } } },
    });
    expect(review.status?.allowed).toBe(false);
    const err = await kc
      .makeApiClient(k8s.CoreV1Api)
      .readNode({ name: 'nope' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(k8s.ApiException);
    expect((err as k8s.ApiException<string>).code).toBe(404);
  });
});

describe('sandbox directories', () => {
  it('keeps a caller-provided directory and removes its own temp directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-dir-test-'));
    try {
      // A fixed `now` years back (reproducible logs) must still give a certificate that is valid today.
      const own = await startSandbox({ dir, now: new Date('2023-03-01T12:00:00Z'), nodes: [{ name: 'gone-9', profile: 'unreachable' }] });
      expect(own.dir).toBe(dir);
      expect(existsSync(join(dir, 'kubeconfig'))).toBe(true);
      const r = await new Promise<number>((resolve, reject) => {
        const url = new URL(own.apiserverUrl);
        https
          .get({ host: url.hostname, port: url.port, path: '/api/v1/nodes/gone-9/proxy/configz', ca: readFileSync(own.caPath), headers: { Authorization: `Bearer ${own.tokens.admin}` } }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          })
          .on('error', reject);
      });
      expect(r).toBe(503);
      await own.close();
      expect(existsSync(join(dir, 'kubeconfig'))).toBe(true);

      const temp = await startSandbox({ nodes: [{ name: 'gone-9', profile: 'unreachable' }] });
      expect(existsSync(temp.kubeconfigPath)).toBe(true);
      await temp.close();
      expect(existsSync(temp.dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects duplicate node names before creating anything', async () => {
    await expect(startSandbox({ nodes: [{ name: 'fleet-0001', profile: 'healthy' }], fleet: 2 })).rejects.toThrow(/unique/);
  });
});

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import https from 'node:https';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES } from '../src/sandbox/index.js';
import type { RequestRecord, Sandbox } from '../src/sandbox/types.js';
import { generateNodeLogs } from '../src/sandbox/generate/node-logs.js';

let sb: Sandbox;
let ca: string;

beforeAll(async () => {
  // Short deadline so the slow node's stream ends on its own if a test leaves it running.
  sb = await startSandbox({ deadlineMs: 4000, hugeBytes: 4 * 1024 * 1024 });
  ca = (await import('node:fs')).readFileSync(sb.caPath, 'utf8');
});

afterAll(async () => {
  await sb?.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: () => any;
}

type Who = 'admin' | 'restricted' | 'none' | string;

function request(path: string, opts: { who?: Who; method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  const who = opts.who ?? 'admin';
  const token = who === 'admin' ? sb.tokens.admin : who === 'restricted' ? sb.tokens.restricted : who === 'none' ? undefined : who;
  const url = new URL(sb.apiserverUrl);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: opts.method ?? 'GET',
        ca,
        headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          resolve({ status: res.statusCode!, headers: res.headers, body, text, json: () => JSON.parse(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const lastRecord = (pred: (r: RequestRecord) => boolean) => [...sb.requestLog.entries].reverse().find(pred);

describe('authentication and authorization', () => {
  it('answers 401 with the real Status body without a token or with an unknown one', async () => {
    const expected = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    for (const who of ['none', 'not-a-token']) {
      const r = await request('/api/v1/nodes', { who });
      expect(r.status).toBe(401);
      expect(r.json()).toEqual(expected);
    }
  });

  it('forbids nodes/proxy to the restricted user with the exact apiserver message, verb following the method', async () => {
    const r = await request(`/api/v1/nodes/${NODE_NAMES.worker1}/proxy/logs/?query=kubelet`, { who: 'restricted' });
    expect(r.status).toBe(403);
    expect(r.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'nodes "worker-1" is forbidden: User "sandbox-restricted" cannot get resource "nodes/proxy" in API group "" at the cluster scope',
      reason: 'Forbidden',
      details: { name: 'worker-1', kind: 'nodes' },
      code: 403,
    });
    const p = await request(`/api/v1/nodes/${NODE_NAMES.worker1}/proxy/logs/`, { who: 'restricted', method: 'POST', body: '' });
    expect(p.json().message).toBe('nodes "worker-1" is forbidden: User "sandbox-restricted" cannot create resource "nodes/proxy" in API group "" at the cluster scope');
    const rec = lastRecord((x) => x.method === 'GET' && x.status === 403)!;
    expect(rec).toMatchObject({ user: 'sandbox-restricted', node: 'worker-1', proxyPath: 'logs/' });
  });

  it('lets the restricted user read nodes', async () => {
    const r = await request(`/api/v1/nodes/${NODE_NAMES.worker2}`, { who: 'restricted' });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ kind: 'Node', apiVersion: 'v1', metadata: { name: 'worker-2' } });
  });
});

describe('API surface', () => {
  it('serves version and discovery', async () => {
    expect((await request('/version')).json().gitVersion).toBe('v1.36.1');
    expect((await request('/healthz')).text).toBe('ok');
    const v1 = (await request('/api/v1')).json();
    expect(v1.resources.map((x: { name: string }) => x.name)).toEqual(['nodes', 'nodes/proxy', 'nodes/status']);
    const apis = (await request('/apis')).json();
    expect(apis.groups[0].preferredVersion.groupVersion).toBe('authorization.k8s.io/v1');
    const agg = await request('/api', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(agg.headers['content-type']).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    expect(agg.json().items[0].versions[0].resources[0].subresources.map((s: { subresource: string }) => s.subresource)).toEqual(['proxy', 'status']);
  });

  it('answers 404 Status for an unknown node and an unknown path', async () => {
    const r = await request('/api/v1/nodes/nope');
    expect(r.status).toBe(404);
    expect(r.json()).toMatchObject({ message: 'nodes "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'nodes' }, code: 404 });
    const p = await request('/api/v1/nodes/nope/proxy/logs/');
    expect(p.json().message).toBe('nodes "nope" not found');
    const u = await request('/api/v1/pods');
    expect(u.status).toBe(404);
    expect(u.json()).toMatchObject({ message: 'the server could not find the requested resource', reason: 'NotFound' });
  });

  it('builds realistic Node objects', async () => {
    const cp = (await request(`/api/v1/nodes/${NODE_NAMES.controlPlane}`)).json();
    expect(cp.metadata.labels).toMatchObject({ 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'cp-1', 'node-role.kubernetes.io/control-plane': '' });
    expect(cp.status.daemonEndpoints.kubeletEndpoint.Port).toBe(10250);
    expect(cp.status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.36.1', containerRuntimeVersion: 'containerd://2.1.4', operatingSystem: 'linux' });
    const win = (await request(`/api/v1/nodes/${NODE_NAMES.windows}`)).json();
    expect(win.status.nodeInfo.operatingSystem).toBe('windows');
    expect((await request(`/api/v1/nodes/${NODE_NAMES.old}`)).json().status.nodeInfo.kubeletVersion).toBe('v1.26.15');
    const gone = (await request(`/api/v1/nodes/${NODE_NAMES.unreachable}`)).json();
    const ready = gone.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(ready.status).not.toBe('True');
  });

  it('filters the node list with label and field selectors', async () => {
    const names = async (q: string) => (await request(`/api/v1/nodes?${q}`)).json().items.map((n: any) => n.metadata.name);
    const sel = (s: string) => names(`labelSelector=${encodeURIComponent(s)}`);
    expect(await sel('node-role.kubernetes.io/control-plane')).toEqual(['cp-1']);
    expect(await sel('kubernetes.io/os=windows')).toEqual(['win-1']);
    expect(await sel('kubernetes.io/os==windows')).toEqual(['win-1']);
    expect(await sel('kubernetes.io/os in (windows, plan9)')).toEqual(['win-1']);
    expect(await sel('kubernetes.io/os notin (linux)')).toEqual(['win-1']);
    expect(await sel('kubernetes.io/os!=linux,kubernetes.io/arch=amd64')).toEqual(['win-1']);
    const all = await names('');
    expect(all).toHaveLength(10);
    expect(await sel('!node-role.kubernetes.io/control-plane')).toEqual(all.filter((n: string) => n !== 'cp-1'));
    expect(await names('fieldSelector=metadata.name%3Dworker-1')).toEqual(['worker-1']);
    expect(await names('fieldSelector=metadata.name!%3Dworker-1')).toHaveLength(9);
    const bad = await request('/api/v1/nodes?labelSelector=' + encodeURIComponent('a in (b'));
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    expect((await request('/api/v1/nodes?fieldSelector=spec.bogus%3Dx')).json().message).toBe('field label not supported: spec.bogus');
  });

  it('serves a Table when kubectl asks for one', async () => {
    const r = await request('/api/v1/nodes?labelSelector=kubernetes.io%2Fos%3Dwindows', {
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' },
    });
    const t = r.json();
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.filter((c: any) => c.priority === 0).map((c: any) => c.name)).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version']);
    expect(t.rows[0].cells.slice(0, 5)).toEqual(['win-1', 'Ready', '<none>', expect.stringMatching(/^\d+d/), 'v1.36.1']);
  });
});

describe('generated node data', () => {
  it('serves each node the logs generated from its own seed, reproducibly', async () => {
    for (const name of [NODE_NAMES.worker1, NODE_NAMES.worker2]) {
      const spec = sb.nodes.find((n) => n.name === name)!;
      const logs = generateNodeLogs({ nodeName: name, seed: spec.seed!, now: sb.now!, role: 'worker' });
      const last = logs.journal.filter((e) => e.unit === 'kubelet.service').at(-1)!;
      const r = await request(`/api/v1/nodes/${name}/proxy/logs/?query=kubelet&tailLines=1`);
      expect(r.text).toBe(r.text.trimEnd() + '\n');
      expect(r.text.trimEnd().endsWith(`${name} kubelet[${last.pid}]: ${last.message}`)).toBe(true);
    }
    expect(sb.nodes.find((n) => n.name === NODE_NAMES.worker1)!.seed).not.toBe(sb.nodes.find((n) => n.name === NODE_NAMES.worker2)!.seed);
  });
});

describe('SelfSubjectAccessReview', () => {
  const ssar = (who: Who, attrs: object) =>
    request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      who,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } }),
    });
  const proxyAttrs = { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'worker-1' };

  it('allows the admin and echoes the spec', async () => {
    const r = await ssar('admin', proxyAttrs);
    expect(r.status).toBe(201);
    const body = r.json();
    expect(body.spec).toEqual({ resourceAttributes: proxyAttrs });
    expect(body.status).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"' });
  });

  it('denies nodes/proxy to the restricted user but allows listing nodes', async () => {
    expect((await ssar('restricted', proxyAttrs)).json().status).toEqual({ allowed: false });
    const list = (await ssar('restricted', { verb: 'list', resource: 'nodes' })).json().status;
    expect(list.allowed).toBe(true);
    expect(list.reason).toMatch(/^RBAC: allowed by ClusterRoleBinding .* to User "sandbox-restricted"$/);
  });

  it('rejects bad JSON and an empty spec with Status errors', async () => {
    const r = await request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body: '{"spec": ', headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    const e = await request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', body: '{"spec":{}}', headers: { 'Content-Type': 'application/json' } });
    expect(e.status).toBe(422);
    expect(e.json().reason).toBe('Invalid');
  });
});

describe('node proxy', () => {
  it('forwards repeated query params unchanged and records the kubelet journalctl argv', async () => {
    const q = 'query=kubelet&query=containerd&tailLines=3';
    const r = await request(`/api/v1/nodes/worker-1/proxy/logs/?${q}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain;charset=UTF-8');
    await sb.requestLog.waitIdle();
    const rec = lastRecord((x) => x.rawQuery === q)!;
    expect(rec).toMatchObject({ node: 'worker-1', proxyPath: 'logs/', status: 200, user: 'sandbox-admin', aborted: false });
    expect(rec.query).toEqual({ query: ['kubelet', 'containerd'], tailLines: ['3'] });
    expect(rec.bytes).toBe(r.body.length);
    expect(rec.kubelet).toMatchObject({ path: '/logs/', rawQuery: q, status: 200 });
    expect(rec.journalArgs).toEqual(expect.arrayContaining(['--lines=3', '--unit=kubelet', '--unit=containerd']));
  });

  it('passes Range through to the kubelet file server and relays the 206', async () => {
    const whole = await request('/api/v1/nodes/worker-1/proxy/logs/kube-proxy.log');
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const r = await request('/api/v1/nodes/worker-1/proxy/logs/kube-proxy.log', { headers: { Range: 'bytes=10-29' } });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 10-29/${whole.body.length}`);
    expect(r.body).toEqual(whole.body.subarray(10, 30));
    expect(r.headers['last-modified']).toBeDefined();
    await sb.requestLog.waitIdle();
    expect(lastRecord((x) => x.headers.range === 'bytes=10-29')!.kubelet?.status).toBe(206);
  });

  it('relays gzip only when the client sends Accept-Encoding exactly "gzip"', async () => {
    const path = '/api/v1/nodes/worker-1/proxy/logs/?query=kubelet&tailLines=4';
    const z = await request(path, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(z.headers['content-encoding']).toBe('gzip');
    const text = gunzipSync(z.body).toString('utf8');
    expect(text.trimEnd().split('\n')).toHaveLength(4);
    const plain = await request(path, { headers: { 'Accept-Encoding': 'gzip, deflate' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.text).toBe(text);
  });

  it('rewrites kubelet redirects to stay under the proxy path', async () => {
    const r = await request('/api/v1/nodes/worker-1/proxy/logs?query=kubelet');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/api/v1/nodes/worker-1/proxy/logs/?query=kubelet');
  });

  it('answers 503 for a node whose kubelet does not listen', async () => {
    const r = await request(`/api/v1/nodes/${NODE_NAMES.unreachable}/proxy/logs/?query=kubelet`);
    expect(r.status).toBe(503);
    const s = r.json();
    expect(s).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 });
    expect(s.message).toMatch(/^error trying to reach service: dial tcp 10\.\d+\.\d+\.\d+:10250: connect: connection refused$/);
  });

  it('propagates a client abort to the kubelet and counts concurrent proxy requests per node', async () => {
    sb.requestLog.clear();
    const url = new URL(sb.apiserverUrl);
    const open = () =>
      new Promise<import('node:http').ClientRequest>((resolve, reject) => {
        const req = https.get(
          { host: url.hostname, port: url.port, path: `/api/v1/nodes/${NODE_NAMES.slow}/proxy/logs/?query=kubelet`, ca, headers: { Authorization: `Bearer ${sb.tokens.admin}` } },
          (res) => res.once('data', () => resolve(req)),
        );
        req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
      });
    const reqs = await Promise.all([open(), open(), open()]);
    expect(sb.requestLog.inFlight).toBe(3);
    expect(sb.requestLog.maxConcurrentPerNode.get(NODE_NAMES.slow)).toBe(3);
    for (const r of reqs) r.destroy();
    await sb.requestLog.waitIdle();
    const recs = sb.requestLog.entries.filter((e) => e.node === NODE_NAMES.slow);
    expect(recs).toHaveLength(3);
    for (const rec of recs) {
      expect(rec.aborted).toBe(true);
      expect(rec.kubelet?.aborted).toBe(true);
    }
    expect(sb.requestLog.maxConcurrent).toBeGreaterThanOrEqual(3);
  });
});

describe('writes and garbage', () => {
  it('refuses writes to nodes with 405 and records every write except SSAR', async () => {
    const before = sb.writes().length;
    const del = await request('/api/v1/nodes/worker-2', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.json()).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
    const patch = await request('/api/v1/nodes/worker-2', { method: 'PATCH', body: '{}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    expect(patch.status).toBe(405);
    const writes = sb.writes().slice(before);
    expect(writes.map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual(['DELETE /api/v1/nodes/worker-2 405', 'PATCH /api/v1/nodes/worker-2 405']);
    expect(sb.writes().some((w) => w.path.includes('selfsubjectaccessreviews'))).toBe(false);
  });

  it('turns garbage into Status errors and keeps serving', async () => {
    const esc = await request('/api/v1/nodes/x%zz');
    expect(esc.status).toBe(400);
    expect(esc.json().kind).toBe('Status');
    const nul = await request('/api/v1/nodes/a%00b');
    expect(nul.status).toBe(404);
    expect(nul.json().kind).toBe('Status');
    const huge = await request('/version', { headers: { 'X-Huge': 'a'.repeat(1100 * 1024) } }).catch((e: Error) => e);
    if (!(huge instanceof Error)) {
      expect(huge.status).toBe(431);
      expect(huge.json().kind).toBe('Status');
    }
    expect((await request('/version')).status).toBe(200);
  });
});

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
if (!hasKubectl) console.warn(`SKIPPED: real kubectl tests need ${KUBECTL}`);

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', sb.kubeconfigPath, '--cache-dir', `${sb.dir}/kube-cache`, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!hasKubectl)('real kubectl', () => {
  it('kubectl get nodes lists every node', async () => {
    const r = await kubectl(['get', 'nodes']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(lines).toHaveLength(11);
    expect(r.stdout).toMatch(/cp-1\s+Ready\s+control-plane\s+\S+\s+v1\.36\.1/);
    expect(r.stdout).toMatch(/gone-1\s+NotReady/);
  });

  it('kubectl get --raw reads 5 journal lines through the node proxy', async () => {
    const r = await kubectl(['get', '--raw', '/api/v1/nodes/worker-1/proxy/logs/?query=kubelet&tailLines=5']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const l of lines) expect(l).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{6} worker-1 kubelet\[\d+\]: /);
  });

  it('the restricted context is forbidden', async () => {
    const r = await kubectl(['--context', 'sandbox-restricted', 'get', '--raw', '/api/v1/nodes/worker-1/proxy/logs/?query=kubelet&tailLines=5']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (Forbidden): nodes "worker-1" is forbidden: User "sandbox-restricted" cannot get resource "nodes/proxy" in API group "" at the cluster scope');
  });

  it('kubectl auth can-i (protobuf SSAR) answers per user', async () => {
    expect((await kubectl(['auth', 'can-i', 'get', 'nodes', '--subresource=proxy'])).stdout.trim()).toBe('yes');
    expect((await kubectl(['--context', 'sandbox-restricted', 'auth', 'can-i', 'get', 'nodes', '--subresource=proxy'])).stdout.trim()).toBe('no');
  });
});

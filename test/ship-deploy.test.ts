import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAll } from 'js-yaml';
import { OPTION_DEFS, parseArgs } from '../src/config.js';

/**
 * The in-cluster manifests and the Dockerfile, read as Kubernetes and Docker would read them: the RBAC is
 * exactly the read-only rules the tools need, the pod is locked down, and the container's flags and
 * environment are ones the server really accepts (parsed by the server's own parser).
 */
const root = path.resolve(import.meta.dirname, '..');
const deployDir = path.join(root, 'deploy', 'base');

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const files = readdirSync(deployDir).filter((f) => f.endsWith('.yaml')).sort();
const docs = new Map<string, Obj[]>(files.map((f) => [f, (loadAll(readFileSync(path.join(deployDir, f), 'utf8')) as Obj[]).filter(Boolean)]));
const objects = [...docs.entries()].filter(([f]) => f !== 'kustomization.yaml').flatMap(([, d]) => d);
const one = (kind: string): Obj => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

describe('deploy/ manifests', () => {
  it('are namespace-agnostic, and the kustomization lists every one of them', () => {
    for (const o of objects) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBeUndefined();
    const kustomization = docs.get('kustomization.yaml')![0]!;
    expect(kustomization.kind).toBe('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml'));
    // The namespace and image are set where users apply: deploy/ (one replica) or deploy/multi-replica/.
    for (const variant of ['deploy/kustomization.yaml', 'deploy/multi-replica/kustomization.yaml']) {
      const k = loadAll(readFileSync(path.join(root, variant), 'utf8'))[0] as Obj;
      expect(typeof k.namespace, variant).toBe('string');
      expect(k.resources, variant).toContain(variant.includes('multi') ? '../base' : 'base');
      expect(k.images[0].name).toBe('kube-node-logs-mcp');
    }
    expect(objects.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'NetworkPolicy', 'Secret', 'Service', 'ServiceAccount']);
  });

  it('grant exactly get/list on nodes and get on nodes/proxy, to the server\'s ServiceAccount only', () => {
    const role = one('ClusterRole');
    const granted = new Set<string>();
    for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; [k: string]: unknown }[]) {
      expect(Object.keys(rule).sort()).toEqual(['apiGroups', 'resources', 'verbs']); // no resourceNames, nonResourceURLs
      for (const g of rule.apiGroups) for (const r of rule.resources) for (const v of rule.verbs) granted.add(`${g}|${r}|${v}`);
    }
    expect([...granted].sort()).toEqual(['|nodes/proxy|get', '|nodes|get', '|nodes|list']);
    expect(objects.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);

    const sa = one('ServiceAccount');
    const binding = one('ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toHaveLength(1);
    expect(binding.subjects[0]).toMatchObject({ kind: 'ServiceAccount', name: sa.metadata.name });
    expect(binding.subjects[0].namespace).toBe('default'); // what kustomize's namespace rewrites

    const pod = one('Deployment').spec.template.spec;
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('run the pod locked down: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp, bounded resources', () => {
    const deploy = one('Deployment');
    const pod = deploy.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext.capabilities.add).toBeUndefined();
    expect(c.securityContext.privileged ?? false).toBe(false);
    for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) expect(c.resources?.[kind]?.[r], `${kind}.${r}`).toBeTruthy();
    // Nothing but a scratch /tmp is mounted: in particular no kubeconfig.
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual(['/tmp']);
    expect(pod.volumes.map((v: { emptyDir?: unknown }) => Boolean(v.emptyDir))).toEqual([true]);
  });

  it('start the server with flags and environment it accepts: HTTP on all interfaces, token from the Secret, in-cluster credentials', () => {
    const deploy = one('Deployment');
    const c = deploy.spec.template.spec.containers[0];
    const secret = one('Secret');
    const env: Record<string, string> = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    for (const e of c.env as { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[]) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.secretKeyRef) {
        expect(e.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
        env[e.name] = secret.stringData[e.valueFrom.secretKeyRef.key];
        expect(env[e.name], `Secret key ${e.valueFrom.secretKeyRef.key}`).toBeTruthy();
      } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = 'team-sre';
      else throw new Error(`unexpected env source for ${e.name}`);
    }
    const known = new Set([...OPTION_DEFS.map((d) => d.env), 'KUBE_NODE_LOGS_AUTH_TOKEN', 'POD_NAMESPACE']);
    for (const name of Object.keys(env)) if (name !== 'KUBERNETES_SERVICE_HOST') expect(known.has(name), `${name} is not read by the server`).toBe(true);
    expect(env.KUBECONFIG).toBeUndefined();
    expect(secret.stringData.token).toMatch(/REPLACE-ME/);
    expect(Object.keys(env)).toContain('KUBE_NODE_LOGS_AUTH_TOKEN');

    // The kubelet expands $(VAR) in args from the container's env.
    const args = (c.args as string[]).map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? `$(${v})`));
    expect(args.join(' ')).not.toMatch(/\$\(/);
    const parsed = parseArgs(args, env);
    expect(parsed.demo).toBe(false);
    expect(parsed.config).toMatchObject({ transport: 'http', host: '0.0.0.0', port: 8080, maxConcurrency: 8, maxNodes: 50 });
    expect(parsed.config.kubeconfig).toBeUndefined();
    expect(parsed.config.authTokenFile).toBeUndefined();

    // In-cluster clients send the Service's DNS name as Host; probes hit /healthz on the named port.
    const svc = one('Service');
    expect(parsed.config.allowedHosts!.split(',')).toEqual(
      expect.arrayContaining([svc.metadata.name, `${svc.metadata.name}.team-sre.svc`, `${svc.metadata.name}.team-sre.svc.cluster.local`]),
    );
    const port = c.ports.find((p: { name: string }) => p.name === 'http');
    expect(port.containerPort).toBe(parsed.config.port);
    for (const probe of [c.readinessProbe, c.livenessProbe]) expect(probe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  });

  it('expose the pod on the port it listens on, to selected clients only', () => {
    const deploy = one('Deployment');
    const labels = deploy.spec.template.metadata.labels;
    expect(deploy.spec.selector.matchLabels).toEqual(labels);
    const svc = one('Service');
    expect(svc.spec.selector).toEqual(labels);
    // The server checks the Host header's port against its own: the Service must not remap it.
    expect(svc.spec.ports).toEqual([expect.objectContaining({ port: 8080, targetPort: 'http' })]);
    const np = one('NetworkPolicy');
    expect(np.spec.podSelector.matchLabels).toEqual(labels);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port))).toEqual([8080]);
    for (const rule of np.spec.ingress) expect(rule.from.length).toBeGreaterThan(0);
    // Egress: DNS, and the apiserver by address only — never "any address on 443" (issue 17).
    for (const rule of np.spec.egress as { to?: { ipBlock?: { cidr: string } }[]; ports: { port: number }[] }[]) {
      expect(rule.to?.length, JSON.stringify(rule)).toBeGreaterThan(0);
      for (const peer of rule.to!) if (peer.ipBlock) expect(peer.ipBlock.cidr).toMatch(/\/32$/);
    }
    expect(readFileSync(path.join(root, 'deploy/base/networkpolicy.yaml'), 'utf8')).toMatch(/kubectl get endpointslices[\s\S]*kubectl get service kubernetes/);
  });
});

describe('deploy/multi-replica/: several replicas sharing limits and sessions through Redis', () => {
  const dir = path.join(root, 'deploy', 'multi-replica');
  const load = (f: string) => (loadAll(readFileSync(path.join(dir, f), 'utf8')) as Obj[]).filter(Boolean);
  const k = load('kustomization.yaml')[0]!;
  const patch = load('deployment-patch.yaml')[0]!;
  const npPatch = load('networkpolicy-patch.yaml')[0]!;
  const redisSecret = load('redis-secret.yaml')[0]!;
  const pdb = load('pdb.yaml')[0]!;

  it('lists its files, and patches the base Deployment and NetworkPolicy by name', () => {
    expect([...k.resources, ...k.patches.map((p: { path: string }) => p.path)].sort()).toEqual(
      ['../base', ...readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')].sort(),
    );
    expect(patch.kind).toBe('Deployment');
    expect(patch.metadata.name).toBe(one('Deployment').metadata.name);
    expect(npPatch.metadata.name).toBe(one('NetworkPolicy').metadata.name);
  });

  it('runs several replicas with the Redis URL from a Secret through the environment, ready only once the limits are shared', () => {
    expect(patch.spec.replicas).toBeGreaterThanOrEqual(2);
    const c = patch.spec.template.spec.containers[0];
    expect(c.name).toBe(one('Deployment').spec.template.spec.containers[0].name);
    const redisEnv = c.env.find((e: { name: string }) => e.name === 'KUBE_NODE_LOGS_REDIS_URL');
    expect(redisEnv.valueFrom.secretKeyRef).toEqual({ name: redisSecret.metadata.name, key: 'url' });
    expect(redisSecret.stringData.url).toMatch(/^redis:\/\/REPLACE-ME/);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    // The base's args with the Redis URL from the environment: accepted by the server's own parser.
    const base = one('Deployment').spec.template.spec.containers[0];
    const args = (base.args as string[]).map((a) => a.replace(/\$\(POD_NAMESPACE\)/g, 'team-sre'));
    const parsed = parseArgs(args, { KUBE_NODE_LOGS_REDIS_URL: 'redis://:pw@redis.redis.svc:6379/0' });
    expect(parsed.config).toMatchObject({ transport: 'http', redisUrl: 'redis://:pw@redis.redis.svc:6379/0', redisFallback: 'reject' });
    // Grace period covers a request's timeout plus the slot margin, so slots are given back before the kill.
    expect(patch.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(parsed.config.requestTimeoutMs + parsed.config.redisSlotMarginMs);
  });

  it('keeps a PodDisruptionBudget on the same pods, and lets them reach Redis besides DNS and the apiserver', () => {
    expect(pdb.kind).toBe('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(one('Deployment').spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable).toBe(1);
    // A NetworkPolicy egress list is replaced, not merged, by the patch: it must still hold the base's rules.
    expect(npPatch.spec.egress).toEqual(expect.arrayContaining(one('NetworkPolicy').spec.egress));
    expect(npPatch.spec.egress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port))).toContain(6379);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  // Join continuation lines, drop comments: one instruction per entry.
  const instructions = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), arg: m[2]! };
    });
  const stages: { from: string; name?: string; body: { op: string; arg: string }[] }[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.arg)!;
      stages.push({ from: m[1]!, name: m[2], body: [] });
    } else stages.at(-1)?.body.push(ins);
  }

  it('is multi-stage on a slim Node 26 image (the LTS every test runs on in CI): npm ci and build in one stage, pruned production files in the last', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^node:26[\w.-]*-slim$/);
    const build = stages[0]!;
    const runs = build.body.filter((i) => i.op === 'RUN').map((i) => i.arg).join('\n');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
    const final = stages.at(-1)!;
    const copies = final.body.filter((i) => i.op === 'COPY').map((i) => i.arg);
    expect(copies.every((c) => c.startsWith(`--from=${build.name}`))).toBe(true);
    expect(copies.some((c) => /\/app\/dist\b/.test(c))).toBe(true);
    expect(final.body.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.arg))).toBe(false);
  });

  it('runs as a numeric non-root user, with node dist/index.js as the entry point', () => {
    const final = stages.at(-1)!;
    const users = final.body.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.arg.split(':')[0]!;
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    const entry = final.body.find((i) => i.op === 'ENTRYPOINT')!;
    expect(JSON.parse(entry.arg)).toEqual(['node', 'dist/index.js']);
    const cmd = JSON.parse(final.body.find((i) => i.op === 'CMD')!.arg) as string[];
    expect(parseArgs(cmd, {}).config).toMatchObject({ transport: 'http', host: '0.0.0.0' });
    // The Deployment's runAsUser matches the image's user.
    const pod = (docs.get('deployment.yaml')![0]! as Obj).spec.template.spec;
    expect(pod.securityContext.runAsUser).toBe(Number(user));
  });

  it('keeps the build context small and free of local state', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.git', '*.mcpb', '.env*']) expect(ignored).toContain(p);
  });
});

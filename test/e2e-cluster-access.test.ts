import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { loadKubeConfig, KubeConfigError } from '../src/kube/kubeconfig.js';
import { startMcp } from './support/mcp.js';

/** How the server finds a cluster: kubeconfig paths, contexts, exec plugins, MCPB placeholders, no cluster. */
let sandbox: Sandbox;
let dir: string;

function kubeconfigWithUser(user: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: ${JSON.stringify(sandbox.apiserverUrl)}
    certificate-authority: ${JSON.stringify(sandbox.caPath)}
users:
- name: u
  user:
${user}
contexts:
- name: c
  context: { cluster: sandbox, user: u }
current-context: c
`;
}

beforeAll(async () => {
  sandbox = await startSandbox({ nodes: [{ name: NODE_NAMES.worker1, profile: 'healthy' }] });
  dir = mkdtempSync(path.join(tmpdir(), 'knl-access-'));
});

afterAll(async () => {
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loading cluster access', () => {
  it('merges several KUBECONFIG paths and picks a context from any of them', () => {
    const second = path.join(dir, 'second.yaml');
    writeFileSync(second, kubeconfigWithUser(`    token: ${JSON.stringify(sandbox.tokens.restricted)}`).replace(/name: c\b/g, 'name: other').replace('current-context: c', 'current-context: other'));
    const kc = loadKubeConfig({ kubeconfig: `${sandbox.kubeconfigPath}${path.delimiter}${second}`, context: 'other', env: {} });
    expect(kc.getCurrentContext()).toBe('other');
    expect(kc.getContexts().map((c) => c.name)).toEqual(expect.arrayContaining(['sandbox-admin', 'sandbox-restricted', 'other']));
  });

  it('names an unknown context and lists the real ones', () => {
    expect(() => loadKubeConfig({ kubeconfig: sandbox.kubeconfigPath, context: 'prod', env: {} })).toThrow(/Context "prod" is not in the kubeconfig.*sandbox-admin, sandbox-restricted/);
  });

  it('says what to do when no cluster is configured', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'knl-home-'));
    const prev = process.env.HOME;
    process.env.HOME = home;
    try {
      expect(() => loadKubeConfig({ env: {} })).toThrow(KubeConfigError);
      expect(() => loadKubeConfig({ env: {} })).toThrow(/No cluster is configured.*--kubeconfig.*--demo/);
    } finally {
      process.env.HOME = prev;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('treats an MCPB placeholder as unset and a missing file as an error naming it', () => {
    expect(() => loadKubeConfig({ kubeconfig: '/nope/kubeconfig', env: {} })).toThrow(/\/nope\/kubeconfig does not exist/);
    const home = mkdtempSync(path.join(tmpdir(), 'knl-home-'));
    const prev = process.env.HOME;
    process.env.HOME = home;
    try {
      expect(() => loadKubeConfig({ kubeconfig: '${user_config.kubeconfig}', env: {} })).toThrow(/No cluster is configured/);
    } finally {
      process.env.HOME = prev;
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('over MCP', () => {
  it('gets credentials from an exec plugin', async () => {
    const plugin = path.join(dir, 'token-plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${sandbox.tokens.admin}"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const kc = path.join(dir, 'exec.yaml');
    writeFileSync(kc, kubeconfigWithUser(`    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${JSON.stringify(plugin)}\n      interactiveMode: Never`));
    const mcp = await startMcp({ args: ['--kubeconfig', kc] });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError, res.text).toBeFalsy();
      expect(res.text).toContain(NODE_NAMES.worker1);
    } finally {
      await mcp.close();
    }
  });

  it('takes the kubeconfig from KUBECONFIG and the context from its environment twin', async () => {
    const mcp = await startMcp({ args: [], env: { KUBECONFIG: sandbox.kubeconfigPath, KUBE_NODE_LOGS_CONTEXT: 'sandbox-restricted' } });
    try {
      const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 1 });
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/sandbox-restricted.*nodes\/proxy/);
    } finally {
      await mcp.close();
    }
  });

  it('exits with a clear message when the context does not exist', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['dist/index.js', '--kubeconfig', sandbox.kubeconfigPath, '--context', 'nope'], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Context "nope" is not in the kubeconfig/);
    expect(r.stdout).toBe('');
  });
});

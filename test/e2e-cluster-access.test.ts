import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { loadKubeConfig, KubeConfigError } from '../src/kube/kubeconfig.js';
import { DIST_ENTRY, startMcp } from './support/mcp.js';
import { startInProcessMcp } from './support/fault-mcp.js';
import { hasKubectl, kubectl, rawLogsArgs } from './support/kubectl.js';

/**
 * How the server finds and reaches a cluster: kubeconfig paths, contexts, exec plugins, token files,
 * impersonation, http servers, MCPB placeholders, no cluster; compared with real kubectl where it can be.
 */
if (!hasKubectl) console.warn('SKIPPED (kubectl comparisons only): /usr/bin/kubectl is not installed');
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
  it('merges several KUBECONFIG paths and picks a context from any of them', async () => {
    const second = path.join(dir, 'second.yaml');
    writeFileSync(second, kubeconfigWithUser(`    token: ${JSON.stringify(sandbox.tokens.restricted)}`).replace(/name: c\b/g, 'name: other').replace('current-context: c', 'current-context: other'));
    const kc = await loadKubeConfig({ kubeconfig: `${sandbox.kubeconfigPath}${path.delimiter}${second}`, context: 'other', env: {} });
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

  it('over stdio, answers tools/list and says what is wrong with the kubeconfig on the first call that needs the cluster', async () => {
    // The cluster client loads on first use (start-up), so a bad context cannot stop initialize: the call
    // that needs it gets the message, which an assistant shows its user, instead of a dead server.
    const mcp = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--context', 'nope'] });
    try {
      const { tools } = await mcp.client.listTools();
      expect(tools).toHaveLength(3);
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/Context "nope" is not in the kubeconfig/);
      expect(mcp.stderr()).toMatch(/Context "nope" is not in the kubeconfig/);
    } finally {
      await mcp.close();
    }
  });

  it('over HTTP, exits with code 2 and a clear message when the context does not exist (a deployment fails at once)', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [DIST_ENTRY, '--transport', 'http', '--port', '0', '--kubeconfig', sandbox.kubeconfigPath, '--context', 'nope'], { encoding: 'utf8', input: '', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Context "nope" is not in the kubeconfig/);
    expect(r.stderr).not.toMatch(/serving MCP/);
    expect(r.stdout).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Cluster access exactly like kubectl: each case through the built server over MCP and through real kubectl.

const NODE = NODE_NAMES.worker1;

function kubeconfigFile(name: string, text: string, inDir = dir): string {
  const file = path.join(inDir, name);
  writeFileSync(file, text);
  return file;
}

function sandboxCluster(extra = ''): string {
  return `- name: sandbox
  cluster:
    server: ${JSON.stringify(sandbox.apiserverUrl)}
    certificate-authority: ${JSON.stringify(sandbox.caPath)}
${extra}`;
}

function oneContext(user: string, clusterExtra = ''): string {
  return `apiVersion: v1
kind: Config
clusters:
${sandboxCluster(clusterExtra)}users:
- name: u
  user:
${user}
contexts:
- name: c
  context: { cluster: sandbox, user: u }
current-context: c
`;
}

function script(name: string, body: string, inDir = dir): string {
  const file = path.join(inDir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const cred = (token: string, extra = '') => `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"${extra}}}`;

/** Spawned like a client spawns it when the case needs its own environment; otherwise in this process (faster). */
async function queryLogs(kc: string, env?: Record<string, string>, args: string[] = []) {
  const mcp = env ? await startMcp({ args: ['--kubeconfig', kc, ...args], env }) : await startInProcessMcp(['--kubeconfig', kc, ...args]);
  try {
    return await mcp.call('query_node_logs', { node: NODE, query: 'kubelet', tailLines: 5 });
  } finally {
    await mcp.close();
  }
}

async function kubectlLogs(kc: string, env: Record<string, string> = {}) {
  return kubectl(rawLogsArgs(NODE), { kubeconfig: kc, home: dir, env });
}

/**
 * Start-up errors in HTTP mode, where a bad kubeconfig stops the server with exit code 2. Over stdio the
 * server answers tools/list first and the same message comes back from the first tool call (see above).
 */
async function startupError(kc: string, env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [DIST_ENTRY, '--transport', 'http', '--port', '0', '--kubeconfig', kc], { encoding: 'utf8', input: '', timeout: 20_000, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env } });
  return { status: r.status, stderr: r.stderr };
}

describe('kubeconfig files are loaded as kubectl loads them', () => {
  it('an empty file in the list, and broken entries the chosen context does not use, are ignored', async () => {
    const empty = kubeconfigFile('empty.yaml', '');
    const messy = kubeconfigFile(
      'messy.yaml',
      `apiVersion: v1
kind: Config
clusters:
- name: placeholder
  cluster: {}
${sandboxCluster()}users:
- name: unused-broken
  user:
    tokenFile: /nope/token
- name: u
  user:
    token: ${JSON.stringify(sandbox.tokens.admin)}
contexts:
- name: half-made
  context: { cluster: "", namespace: kube-system }
- name: c
  context: { cluster: sandbox, user: u }
current-context: c
`,
    );
    const list = `${empty}${path.delimiter}${messy}`;
    const res = await queryLogs(list);
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/kubelet/);
    if (hasKubectl) {
      const k = await kubectl(rawLogsArgs(NODE), { home: dir, env: { KUBECONFIG: list } });
      expect(k.code, k.stderr).toBe(0);
    }
  });

  it('a broken entry that IS in use is named precisely at startup', async () => {
    const kc = kubeconfigFile(
      'no-server.yaml',
      `apiVersion: v1
kind: Config
clusters:
- name: placeholder
  cluster: {}
users:
- name: u
  user: { token: x }
contexts:
- name: c
  context: { cluster: placeholder, user: u }
current-context: c
`,
    );
    const r = await startupError(kc);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cluster "placeholder" \(.*no-server\.yaml\) has no server\. Set it/);
    if (hasKubectl) expect((await kubectlLogs(kc)).code).not.toBe(0);
  });

  it('a context naming a user that does not exist: says so at startup instead of a misleading TLS error', async () => {
    const kc = kubeconfigFile('ghost-user.yaml', oneContext(`    token: x`).replace('user: u }', 'user: ghost }'));
    const r = await startupError(kc);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/context "c" .* names user "ghost", which is not in the kubeconfig\. Users: u\./);
    expect(r.stderr).not.toMatch(/certificate|TLS/i);
    if (hasKubectl) {
      const k = await kubectlLogs(kc);
      expect(k.code).not.toBe(0);
      console.info(`kubectl, context with an unknown user: ${k.stderr.trim()}`);
    }
  });

  it('a proxy setting that cannot work stops startup with a message naming it', async () => {
    const kc = kubeconfigFile('bad-proxy.yaml', oneContext(`    token: x`).replace('https://127.0.0.1', 'https://api.corp.example'));
    const r = await startupError(kc, { HTTPS_PROXY: 'ftp://proxy.corp:21' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Cannot use the proxy for https:\/\/api\.corp\.example:\d+: HTTPS_PROXY="ftp:\/\/proxy\.corp:21" is not an http, https, socks5 or socks5h URL/);
  });

  it('a context without a user goes out anonymous with the cluster TLS intact: a 401, not a CA error', async () => {
    const kc = kubeconfigFile('no-user.yaml', oneContext(`    token: x`).replace('{ cluster: sandbox, user: u }', '{ cluster: sandbox }'));
    const res = await queryLogs(kc);
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/401.*context "c" has no user, so requests went out anonymous/);
    expect(res.text).not.toMatch(/TLS|certificate-authority/i);
    if (hasKubectl) {
      const k = await kubectlLogs(kc);
      // kubectl, without a user, tries to prompt for a username and fails on the closed stdin.
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/EOF|Unauthorized/i);
    }
  });

  it('a plain http:// server (kubectl proxy style) works, and gets no credentials in clear text, as from kubectl', async () => {
    const { startFaultApiserver, serveLog } = await import('./support/fault-apiserver.js');
    const plain = await startFaultApiserver({ http: true, anonymous: true, nodes: { [NODE]: serveLog('Nov 27 04:00:01 n kubelet[1]: I1127 plain http fine\n') } });
    try {
      // The fault kubeconfig carries a token: neither kubectl nor the server may send it over http://.
      const kc = await plain.kubeconfig();
      const mcp = await startMcp({ args: ['--kubeconfig', kc] });
      try {
        const nodes = await mcp.call('list_nodes', {});
        expect(nodes.isError, nodes.text).toBeFalsy();
        const logs = await mcp.call('query_node_logs', { node: NODE, query: 'kubelet', tailLines: 5 });
        expect(logs.isError, logs.text).toBeFalsy();
        expect(logs.text).toMatch(/plain http fine/);
      } finally {
        await mcp.close();
      }
      expect(plain.records.some((r) => r.path === '/api/v1/nodes')).toBe(true);
      expect(plain.records.filter((r) => r.sentAuthorization)).toEqual([]);
      if (hasKubectl) {
        plain.records.length = 0;
        const k = await kubectlLogs(kc);
        expect(k.code, k.stderr).toBe(0);
        expect(k.stdout).toMatch(/plain http fine/);
        expect(plain.records.filter((r) => r.sentAuthorization)).toEqual([]);
      }
    } finally {
      await plain.close();
    }
  });

  it('an http:// server that wants credentials: the 401 says why none were sent', async () => {
    const { startFaultApiserver, serveLog } = await import('./support/fault-apiserver.js');
    const plain = await startFaultApiserver({ http: true, nodes: { [NODE]: serveLog('x\n') } });
    try {
      const mcp = await startMcp({ args: ['--kubeconfig', await plain.kubeconfig()] });
      try {
        const res = await mcp.call('list_nodes', {});
        expect(res.isError).toBe(true);
        expect(res.text).toMatch(/401.*never sent to a plain http:\/\/ server/);
      } finally {
        await mcp.close();
      }
    } finally {
      await plain.close();
    }
  });
});

describe('tokenFile', () => {
  it('relative to the kubeconfig, trailing newline trimmed; token-file too', async () => {
    const sub = mkdtempSync(path.join(dir, 'tf-'));
    writeFileSync(path.join(sub, 'token'), `${sandbox.tokens.admin}\n`);
    for (const field of ['tokenFile', 'token-file']) {
      const kc = kubeconfigFile(`${field}.yaml`, oneContext(`    ${field}: token`), sub);
      const res = await queryLogs(kc);
      expect(res.isError, `${field}: ${res.text}`).toBeFalsy();
      expect(res.text).toMatch(/kubelet/);
      if (hasKubectl && field === 'tokenFile') {
        const k = await kubectlLogs(kc);
        expect(k.code, k.stderr).toBe(0);
      }
    }
  });

  it('a rotated token is picked up: after a 401 the file is read again', async () => {
    const sub = mkdtempSync(path.join(dir, 'rot-'));
    const tokenPath = path.join(sub, 'token');
    writeFileSync(tokenPath, 'expired-token\n');
    const kc = kubeconfigFile('rot.yaml', oneContext(`    tokenFile: ${JSON.stringify(tokenPath)}`), sub);
    const mcp = await startMcp({ args: ['--kubeconfig', kc] });
    try {
      const first = await mcp.call('list_nodes', {});
      expect(first.isError).toBe(true);
      expect(first.text).toMatch(/401/);
      writeFileSync(tokenPath, `${sandbox.tokens.admin}\n`);
      const second = await mcp.call('list_nodes', {});
      expect(second.isError, second.text).toBeFalsy();
      expect(second.text).toContain(NODE);
    } finally {
      await mcp.close();
    }
  });

  it('a missing tokenFile names the field, the user and the path', async () => {
    const kc = kubeconfigFile('tf-missing.yaml', oneContext(`    tokenFile: does-not-exist`));
    const mcp = await startMcp({ args: ['--kubeconfig', kc] });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toContain(`Cannot read tokenFile of user "u" ${path.join(dir, 'does-not-exist')} (ENOENT)`);
    } finally {
      await mcp.close();
    }
  });
});

describe('auth-provider users (client-node serves them, loaded only for them)', () => {
  it('a gcp auth-provider with an unexpired access-token authenticates', async () => {
    const kc = kubeconfigFile(
      'auth-provider.yaml',
      oneContext(`    auth-provider:
      name: gcp
      config:
        access-token: ${JSON.stringify(sandbox.tokens.admin)}
        expiry: "2099-01-01T00:00:00Z"`),
    );
    const res = await queryLogs(kc);
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/kubelet/);
  });
});

describe('impersonation', () => {
  it('as, as-groups, as-uid and as-user-extra all reach the apiserver, exactly as kubectl sends them', async () => {
    const kc = kubeconfigFile(
      'impersonate.yaml',
      oneContext(`    token: ${JSON.stringify(sandbox.tokens.admin)}
    as: alice
    as-uid: "1234"
    as-groups: [system:masters, team-a]
    as-user-extra:
      scopes: [view, "cluster/read"]
      reason: [oncall]`),
    );
    sandbox.requestLog.clear();
    const res = await queryLogs(kc);
    expect(res.isError, res.text).toBeFalsy();
    const ours = sandbox.requestLog.entries.filter((e) => e.node === NODE).map((e) => e.impersonated);
    const want = { user: 'alice', uid: '1234', groups: ['system:masters', 'team-a'], extra: { scopes: ['view', 'cluster/read'], reason: ['oncall'] } };
    expect(ours[0]).toEqual(want);
    if (hasKubectl) {
      sandbox.requestLog.clear();
      const k = await kubectlLogs(kc);
      expect(k.code, k.stderr).toBe(0);
      const theirs = sandbox.requestLog.entries.filter((e) => e.node === NODE).map((e) => e.impersonated);
      expect(theirs[0]).toEqual(want);
    }
  });

  it('as without the groups is a different identity: the answer names the impersonated user', async () => {
    const kc = kubeconfigFile('impersonate-restricted.yaml', oneContext(`    token: ${JSON.stringify(sandbox.tokens.admin)}\n    as: sandbox-restricted`));
    const res = await queryLogs(kc);
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/sandbox-restricted.*nodes\/proxy/);
  });
});

describe('exec credential plugins, run the way client-go runs them', () => {
  function execUser(command: string, more = ''): string {
    return `    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${JSON.stringify(command)}
      interactiveMode: IfAvailable
${more}`;
  }

  it('relative command resolved against the kubeconfig, env entries, KUBERNETES_EXEC_INFO (interactive false, cluster info) and no stdin: same as kubectl', async () => {
    const sub = mkdtempSync(path.join(dir, 'exec-rel-'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(sub, 'bin'));
    script(
      'bin/plugin.sh',
      `printf '%s' "$KUBERNETES_EXEC_INFO" > "$DUMP.info"
printf '%s' "$PLUGIN_GREETING" > "$DUMP.env"
if read -r line; then echo "read:$line"; else echo eof; fi > "$DUMP.stdin"
echo '${cred(sandbox.tokens.admin)}'`,
      sub,
    );
    const kc = kubeconfigFile(
      'exec-rel.yaml',
      oneContext(
        execUser('./bin/plugin.sh', `      env:\n      - name: PLUGIN_GREETING\n        value: hello from the kubeconfig\n      provideClusterInfo: true\n`),
        `    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension:\n        audience: sandbox-audience\n`,
      ),
      sub,
    );
    const ours = path.join(sub, 'ours');
    const res = await queryLogs(kc, { DUMP: ours });
    expect(res.isError, res.text).toBeFalsy();
    const { readFileSync } = await import('node:fs');
    const info = JSON.parse(readFileSync(`${ours}.info`, 'utf8'));
    expect(info).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: sandbox.apiserverUrl, config: { audience: 'sandbox-audience' } } },
    });
    expect(info.spec.cluster['certificate-authority-data']).toBe(readFileSync(sandbox.caPath).toString('base64'));
    expect(readFileSync(`${ours}.env`, 'utf8')).toBe('hello from the kubeconfig');
    expect(readFileSync(`${ours}.stdin`, 'utf8').trim()).toBe('eof');
    if (hasKubectl) {
      const theirs = path.join(sub, 'theirs');
      const k = await kubectlLogs(kc, { DUMP: theirs });
      expect(k.code, k.stderr).toBe(0);
      expect(info).toEqual(JSON.parse(readFileSync(`${theirs}.info`, 'utf8')));
      expect(readFileSync(`${theirs}.env`, 'utf8')).toBe('hello from the kubeconfig');
      expect(readFileSync(`${theirs}.stdin`, 'utf8').trim()).toBe('eof');
    }
  });

  it('a plugin that prompts on stdin fails at once with its own message (it used to hang every call)', async () => {
    const plugin = script('prompting.sh', `printf 'Password: ' >&2\nif ! read -r pw; then echo "session expired and no terminal to ask for the password" >&2; exit 1; fi\necho '${cred(sandbox.tokens.admin)}'`);
    const kc = kubeconfigFile('exec-prompt.yaml', oneContext(execUser(plugin)));
    const mcp = await startMcp({ args: ['--kubeconfig', kc, '--api-timeout', '5s', '--call-timeout', '8s'] });
    try {
      const t0 = Date.now();
      const res = await mcp.call('list_nodes', {});
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(res.isError).toBe(true);
      // What follows "Password:" on the plugin's stderr is redacted as if it were one (error text is an output
      // path like any other, and a plugin may well print a secret there): the plugin and its exit are named.
      expect(res.text).toMatch(/credential plugin "prompting\.sh" failed \(exit code 1\): Password: \[REDACTED/);
    } finally {
      await mcp.close();
    }
    if (hasKubectl) {
      const k = await kubectlLogs(kc);
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/session expired and no terminal/);
    }
  });

  it('a plugin that never answers: each call errors within its timeout naming the plugin, the plugin is killed, the server keeps serving', async () => {
    const pids = path.join(dir, 'hanging.pids');
    const plugin = script('hanging.sh', `echo $$ >> ${JSON.stringify(pids)}\nexec sleep 600`);
    const kc = kubeconfigFile('exec-hang.yaml', oneContext(execUser(plugin)));
    const mcp = await startMcp({ args: ['--kubeconfig', kc, '--api-timeout', '2s', '--call-timeout', '4s'] });
    try {
      for (let i = 0; i < 2; i++) {
        const t0 = Date.now();
        const res = await mcp.call(i === 0 ? 'list_nodes' : 'query_node_logs', i === 0 ? {} : { node: NODE, query: 'kubelet' });
        const took = Date.now() - t0;
        expect(res.isError).toBe(true);
        expect(took).toBeLessThan(6000);
        expect(res.text).toMatch(/credential plugin "hanging\.sh" gave no credentials within \d+(\.\d)? s/);
      }
      const { readFileSync } = await import('node:fs');
      const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
      expect(started.length).toBeGreaterThanOrEqual(2);
      // Every run was killed when its last caller gave up: none is left behind.
      const alive = () =>
        started.filter((pid) => {
          try {
            process.kill(pid, 0);
            return true;
          } catch {
            return false;
          }
        });
      const deadline = Date.now() + 3000;
      while (alive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toEqual([]);
    } finally {
      await mcp.close();
    }
  });

  it('one run however many calls wait, cached until expirationTimestamp; an expired credential is renewed', async () => {
    const runs = path.join(dir, 'cache.runs');
    const far = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const plugin = script('caching.sh', `echo run >> ${JSON.stringify(runs)}\nsleep 0.5\necho '${cred(sandbox.tokens.admin, `,"expirationTimestamp":"'"$EXPIRES"'"`)}'`);
    const kc = kubeconfigFile('exec-cache.yaml', oneContext(execUser(plugin)));
    const { readFileSync, rmSync: rm } = await import('node:fs');
    const count = () => readFileSync(runs, 'utf8').trim().split('\n').length;
    let mcp = await startMcp({ args: ['--kubeconfig', kc], env: { EXPIRES: far } });
    try {
      const all = await Promise.all([
        mcp.call('list_nodes', {}),
        mcp.call('query_node_logs', { node: NODE, query: 'kubelet', tailLines: 2 }),
        mcp.call('check_node_log_support', { node: NODE }),
        mcp.call('list_nodes', {}),
      ]);
      for (const r of all) expect(r.isError, r.text).toBeFalsy();
      expect(count()).toBe(1);
    } finally {
      await mcp.close();
    }
    rm(runs);
    mcp = await startMcp({ args: ['--kubeconfig', kc], env: { EXPIRES: '2020-01-01T00:00:00Z' } });
    try {
      expect((await mcp.call('list_nodes', {})).isError).toBeFalsy();
      expect((await mcp.call('list_nodes', {})).isError).toBeFalsy();
      expect(count()).toBe(2);
    } finally {
      await mcp.close();
    }
  });

  it('a cached credential the apiserver rejects (401) is dropped and the plugin asked again', async () => {
    const tokenPath = path.join(dir, 'plugin-token');
    writeFileSync(tokenPath, 'stale-token');
    const plugin = script('rotating.sh', `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"'"$(cat ${JSON.stringify(tokenPath)})"'"}}'`);
    const kc = kubeconfigFile('exec-401.yaml', oneContext(execUser(plugin)));
    const mcp = await startMcp({ args: ['--kubeconfig', kc] });
    try {
      expect((await mcp.call('list_nodes', {})).text).toMatch(/401/);
      writeFileSync(tokenPath, sandbox.tokens.admin);
      const res = await mcp.call('list_nodes', {});
      expect(res.isError, res.text).toBeFalsy();
    } finally {
      await mcp.close();
    }
  });

  it('a plugin that is not installed: the message carries its installHint', async () => {
    const kc = kubeconfigFile(
      'exec-missing.yaml',
      oneContext(execUser('kubectl-oidc_login-not-installed', `      args: [get-token]\n      installHint: |\n        kubelogin is required: brew install int128/kubelogin/kubelogin\n`)),
    );
    const mcp = await startMcp({ args: ['--kubeconfig', kc] });
    try {
      const res = await mcp.call('list_nodes', {});
      expect(res.isError).toBe(true);
      expect(res.text).toMatch(/credential plugin "kubectl-oidc_login-not-installed" was not found.*Its install hint: kubelogin is required: brew install int128\/kubelogin\/kubelogin/);
    } finally {
      await mcp.close();
    }
    if (hasKubectl) {
      const k = await kubectlLogs(kc);
      expect(k.code).not.toBe(0);
      expect(k.stderr).toMatch(/kubelogin is required/);
    }
  });
});

describe('client certificates from an exec plugin', () => {
  it('are presented in the TLS handshake (no token at all), as kubectl presents them', async () => {
    const { execFileSync } = await import('node:child_process');
    const { readFileSync } = await import('node:fs');
    const { startFaultApiserver, serveLog } = await import('./support/fault-apiserver.js');
    const sub = mkdtempSync(path.join(dir, 'client-cert-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: sub, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=client-ca', '-days', '2');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=fault-admin');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '2');
    writeFileSync(
      path.join(sub, 'cred.json'),
      JSON.stringify({
        apiVersion: 'client.authentication.k8s.io/v1',
        kind: 'ExecCredential',
        status: { clientCertificateData: readFileSync(path.join(sub, 'client.crt'), 'utf8'), clientKeyData: readFileSync(path.join(sub, 'client.key'), 'utf8') },
      }),
    );
    const plugin = script('cert-plugin.sh', `cat ${JSON.stringify(path.join(sub, 'cred.json'))}`, sub);
    const fault = await startFaultApiserver({ clientCaPem: readFileSync(path.join(sub, 'ca.crt'), 'utf8'), nodes: { [NODE]: serveLog('Nov 27 04:00:01 n kubelet[1]: I1127 by client certificate\n') } });
    try {
      const kc = await fault.kubeconfig({ exec: { command: plugin } });
      const res = await queryLogs(kc);
      expect(res.isError, res.text).toBeFalsy();
      expect(res.text).toMatch(/by client certificate/);
      expect(fault.records.length).toBeGreaterThan(0);
      expect(fault.records.every((r) => r.clientCertCN === 'fault-admin' && !r.sentAuthorization)).toBe(true);
      if (hasKubectl) {
        fault.records.length = 0;
        const k = await kubectlLogs(kc);
        expect(k.code, k.stderr).toBe(0);
        expect(fault.records.every((r) => r.clientCertCN === 'fault-admin' && !r.sentAuthorization)).toBe(true);
      }
    } finally {
      await fault.close();
    }
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { OPTION_DEFS } from '../src/config.js';
import { NODE_NAMES } from '../src/sandbox/index.js';

/**
 * The Claude Desktop bundle: the manifest validates and matches the server, `scripts/pack-bundle.mjs`
 * packs it offline, and the unpacked bundle — on its own, away from the repository's node_modules —
 * starts with the command line and environment the manifest gives Claude Desktop and serves its tools.
 */
const root = path.resolve(import.meta.dirname, '..');
const MCPB_CLI = path.join(root, 'node_modules/@anthropic-ai/mcpb/dist/cli/cli.js');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; engines: { node: string }; dependencies: Record<string, string>; devDependencies: Record<string, string> };

interface Manifest {
  manifest_version: string;
  version: string;
  server: { type: string; entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  user_config: Record<string, { type: string; required?: boolean; default?: unknown; min?: number; max?: number }>;
  tools: { name: string; description?: string }[];
  prompts: { name: string; arguments?: string[]; text: string }[];
  compatibility: { platforms: string[]; runtimes: { node: string } };
  license: string;
}
const manifest = JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8')) as Manifest;

function mcpb(args: string[]) {
  return spawnSync(process.execPath, [MCPB_CLI, ...args], { cwd: root, encoding: 'utf8' });
}

let work: string;
let bundle: string;
let unpacked: string;

beforeAll(() => {
  // Under the OS temp dir, so that nothing can resolve modules from the repository's node_modules.
  work = mkdtempSync(path.join(tmpdir(), 'ship-bundle-'));
  bundle = path.join(work, 'kube-node-logs-mcp.mcpb');
  unpacked = path.join(work, 'installed');
  const packed = spawnSync(process.execPath, [path.join(root, 'scripts/pack-bundle.mjs'), '--quiet', '--out', bundle], { cwd: root, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`pack-bundle failed:\n${packed.stdout}\n${packed.stderr}`);
  const un = mcpb(['unpack', bundle, unpacked]);
  if (un.status !== 0) throw new Error(`mcpb unpack failed:\n${un.stdout}\n${un.stderr}`);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('manifest.json', () => {
  it('passes mcpb validate', () => {
    const r = mcpb(['validate', 'manifest.json']);
    expect(r.stdout + r.stderr).toMatch(/validation passes/i);
    expect(r.status).toBe(0);
  });

  it('describes this server: version, entry point, runtime, platforms', () => {
    expect(manifest.manifest_version).toBe('0.3');
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.server).toMatchObject({ type: 'node', entry_point: 'dist/index.js', mcp_config: { command: 'node', args: ['${__dirname}/dist/index.js'] } });
    expect(manifest.compatibility.runtimes.node).toBe(pkg.engines.node);
    expect([...manifest.compatibility.platforms].sort()).toEqual(['darwin', 'linux', 'win32']);
    expect(manifest.license).toBe('Apache-2.0');
  });

  it('maps every user_config field to a real environment variable of the server, with matching defaults and bounds', () => {
    const byEnv = new Map(OPTION_DEFS.map((d) => [d.env, d]));
    const referenced = new Set<string>();
    for (const [env, value] of Object.entries(manifest.server.mcp_config.env)) {
      const def = byEnv.get(env);
      expect(def, `${env} is not an environment variable in OPTION_DEFS`).toBeDefined();
      const m = /^\$\{user_config\.(\w+)\}$/.exec(value);
      expect(m, `${env} should be exactly one user_config placeholder`).not.toBeNull();
      const field = manifest.user_config[m![1]!];
      expect(field, `user_config.${m![1]} is not defined`).toBeDefined();
      referenced.add(m![1]!);
      if (field!.type === 'number') {
        expect(def!.kind).toBe('int');
        expect(field!.default, env).toBe(def!.default);
        expect(field!.min, env).toBeGreaterThanOrEqual(def!.min ?? -Infinity);
        expect(field!.max, env).toBeLessThanOrEqual(def!.max ?? Infinity);
      }
    }
    expect([...referenced].sort()).toEqual(Object.keys(manifest.user_config).sort());
    // mcpb cannot expand ${HOME} in defaults (mcpb #251): the kubeconfig stays optional with no default.
    expect(manifest.user_config.kubeconfig).toMatchObject({ type: 'file', required: false });
    expect(manifest.user_config.kubeconfig!.default).toBeUndefined();
    expect(manifest.server.mcp_config.env.KUBECONFIG).toBe('${user_config.kubeconfig}');
    expect(manifest.server.mcp_config.env.KUBE_NODE_LOGS_CONTEXT).toBe('${user_config.context}');
  });
});

describe('the packed bundle', () => {
  it('holds the server, its production dependencies and their licences, and nothing from development', () => {
    expect(statSync(bundle).size).toBeGreaterThan(1024 * 1024);
    expect(existsSync(path.join(unpacked, 'manifest.json'))).toBe(true);
    expect(existsSync(path.join(unpacked, 'dist/index.js'))).toBe(true);
    expect(existsSync(path.join(unpacked, 'dist/sandbox/index.js'))).toBe(true); // --demo needs it
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(path.join(unpacked, 'node_modules', dep, 'package.json')), dep).toBe(true);
    for (const dev of Object.keys(pkg.devDependencies)) expect(existsSync(path.join(unpacked, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(path.join(unpacked, 'node_modules/@kubernetes/client-node/LICENSE'))).toBe(true);
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else files.push(e.name);
      }
    };
    walk(unpacked);
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.d.ts'))).toEqual([]);
    expect(existsSync(path.join(unpacked, 'src'))).toBe(false);
    expect(existsSync(path.join(unpacked, 'test'))).toBe(false);
    const bundledPkg = JSON.parse(readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(bundledPkg.devDependencies).toBeUndefined();
  });

  it('starts as Claude Desktop would start it (--demo), lists its tools and prompt, and answers a call', async () => {
    // Claude Desktop's substitution: ${__dirname} is the install dir, number fields get their defaults,
    // and blank optional fields arrive as the literal placeholder (mcpb #252), which the server ignores.
    const defaults = (name: string) => {
      const f = manifest.user_config[name]!;
      return f.default === undefined ? `\${user_config.${name}}` : String(f.default);
    };
    const env = Object.fromEntries(Object.entries(manifest.server.mcp_config.env).map(([k, v]) => [k, v.replace(/^\$\{user_config\.(\w+)\}$/, (_, n: string) => defaults(n))]));
    expect(env.KUBECONFIG).toBe('${user_config.kubeconfig}');
    const args = manifest.server.mcp_config.args.map((a) => a.replace('${__dirname}', unpacked));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...args, '--demo'],
      cwd: unpacked,
      env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'ship-bundle', version: '0.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(manifest.tools.map((t) => t.name).sort());
      expect(tools.map((t) => t.name).sort()).toEqual(['check_node_log_support', 'list_nodes', 'query_node_logs']);
      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name)).toEqual(manifest.prompts.map((p) => p.name));
      expect(prompts[0]!.arguments?.map((a) => a.name)).toEqual(manifest.prompts[0]!.arguments);

      const res = (await client.callTool({ name: 'list_nodes', arguments: {} })) as CallToolResult;
      expect(res.isError).toBeFalsy();
      const names = (res.structuredContent as { nodes: { name: string }[] }).nodes.map((n) => n.name);
      expect(names).toEqual(expect.arrayContaining(Object.values(NODE_NAMES)));
      expect(stderr).toMatch(/--demo: serving the built-in sandbox cluster/);
    } finally {
      await client.close();
    }
  });
});

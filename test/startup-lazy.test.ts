import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { startMcp } from './support/mcp.js';

/**
 * Start-up: the built server answers initialize and tools/list over stdio before it loads client-node, the
 * sandbox, metrics or the HTTP stack; the first tool call loads what it needs, and client-node (≈0.4 s,
 * ≈60 MB) only for an auth-provider user. Observed from outside, with a module-resolution trace preloaded
 * into the server process.
 */
const TRACER = path.resolve(import.meta.dirname, 'support/module-trace.mjs');
const DIST = `file://${path.resolve(import.meta.dirname, '../dist')}/`.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const HEAVY = {
  'client-node': /node_modules\/@kubernetes\/client-node\//,
  // dist/ is the bundle of scripts/bundle.mjs (entry + chunks named after their modules); tsc's layout also matches.
  sandbox: new RegExp(`^${DIST}(sandbox/|chunks/sandbox-)`),
  metrics: new RegExp(`node_modules/prom-client/|^${DIST}(metrics\\.js$|chunks/metrics-)`),
  'HTTP stack': new RegExp(`^${DIST}(http/|chunks/http-server-)|/sdk/dist/esm/server/streamableHttp\\.js$`),
};
let sandbox: Sandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ journalBackend: 'inprocess' });
  dir = mkdtempSync(path.join(tmpdir(), 'startup-lazy-'));
});

afterAll(async () => {
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const loaded = (trace: string) => Object.entries(HEAVY).filter(([, re]) => readFileSync(trace, 'utf8').split('\n').some((u) => re.test(u))).map(([k]) => k);

describe('start-up over stdio', () => {
  it('answers tools/list with none of client-node, sandbox, metrics or HTTP stack loaded; a token user\'s first call loads none of them either', async () => {
    const trace = path.join(dir, 'stdio.trace');
    writeFileSync(trace, '');
    const mcp = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath], env: { NODE_OPTIONS: `--import ${TRACER}`, MODULE_TRACE_FILE: trace } });
    try {
      const { tools } = await mcp.client.listTools();
      expect(tools).toHaveLength(3);
      await mcp.client.listPrompts();
      expect(readFileSync(trace, 'utf8')).toMatch(/\/dist\/(server\.js|chunks\/server-)/); // the trace works
      expect(loaded(trace)).toEqual([]);
      const res = await mcp.call('list_nodes', {});
      expect(res.isError, res.text).toBeFalsy();
      expect(res.text).toContain(NODE_NAMES.worker1);
      expect(loaded(trace)).toEqual([]);
    } finally {
      await mcp.close();
    }
  });

  it('with --demo, starts the sandbox on the first call, not before tools/list', async () => {
    const trace = path.join(dir, 'demo.trace');
    writeFileSync(trace, '');
    const mcp = await startMcp({ args: ['--demo'], env: { NODE_OPTIONS: `--import ${TRACER}`, MODULE_TRACE_FILE: trace } });
    try {
      await mcp.client.listTools();
      expect(loaded(trace)).toEqual([]);
      expect(mcp.stderr()).not.toMatch(/--demo: serving the built-in sandbox/);
      const res = await mcp.call('list_nodes', {});
      expect(res.isError, res.text).toBeFalsy();
      expect(loaded(trace).sort()).toEqual(['sandbox']);
      expect(mcp.stderr()).toMatch(/--demo: serving the built-in sandbox/);
    } finally {
      await mcp.close();
    }
  });
});

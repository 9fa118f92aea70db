import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { startMcp, type McpSession } from './support/mcp.js';

/** list_nodes on a cluster larger than one apiserver page. */
let sandbox: Sandbox;
let mcp: McpSession;
const FLEET = 620;

beforeAll(async () => {
  sandbox = await startSandbox({ nodes: [], fleet: FLEET });
  mcp = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath] });
}, 120_000);

afterAll(async () => {
  await mcp?.close();
  await sandbox?.close();
});

describe('list_nodes at scale', () => {
  it('pages with limit/continue and counts every node, showing only the cap', async () => {
    sandbox.requestLog.clear();
    const res = await mcp.call('list_nodes', { limit: 3 });
    const s = res.structuredContent as { nodes: { name: string }[]; total: number; leftOut: number; shown: number };
    expect(s.shown).toBe(3);
    expect(s.total).toBe(FLEET);
    expect(s.leftOut).toBe(FLEET - 3);
    expect(res.text).toMatch(new RegExp(`${FLEET} nodes; showing 3, ${FLEET - 3} left out`));
    const lists = sandbox.requestLog.entries.filter((e) => e.path === '/api/v1/nodes');
    expect(lists[0]!.query.limit).toEqual(['500']);
    expect(lists[0]!.query.continue).toBeUndefined();
  });

  it('keeps the answer within the output budget and says how many were left out', async () => {
    const res = await mcp.call('list_nodes', {});
    const s = res.structuredContent as { shown: number; total: number; leftOut: number };
    expect(res.text.length).toBeLessThanOrEqual(20000);
    expect(JSON.stringify(s).length).toBeLessThanOrEqual(60000);
    expect(s.shown).toBeGreaterThan(100);
    expect(s.shown).toBeLessThan(500);
    expect(s.total).toBe(FLEET);
    expect(s.leftOut).toBe(FLEET - s.shown);
    expect(res.text).toMatch(new RegExp(`showing ${s.shown}, ${FLEET - s.shown} left out`));
  });

  it('reads every page when the whole list is wanted', async () => {
    const wide = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--list-nodes-max', '1000', '--output-chars', '200000', '--max-output-chars', '400000'] });
    try {
      sandbox.requestLog.clear();
      const res = await wide.call('list_nodes', {});
      const s = res.structuredContent as { nodes: { name: string }[]; total: number; leftOut: number };
      expect(s.nodes).toHaveLength(FLEET);
      expect(new Set(s.nodes.map((n) => n.name)).size).toBe(FLEET);
      expect(s.leftOut).toBe(0);
      const lists = sandbox.requestLog.entries.filter((e) => e.path === '/api/v1/nodes');
      expect(lists).toHaveLength(2);
      expect(lists[1]!.query.continue).toHaveLength(1);
    } finally {
      await wide.close();
    }
  });
});

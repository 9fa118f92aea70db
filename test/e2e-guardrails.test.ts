import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, peakInFlight, NODE_NAMES, fleetNodeName, type Sandbox, type RequestRecord } from '../src/sandbox/index.js';
import { startMcp, type McpSession } from './support/mcp.js';

/**
 * Guardrails end to end: the built server over stdio against the sandbox, judged by what the sandbox saw
 * (its request log), not by what the server says about itself.
 */
const FLEET = 12;
const FLEET_LATENCY_MS = 150;
// Long enough that a slow-node request only ends early when someone aborts it.
const DEADLINE_MS = 20_000;
const POOL = 'sandbox.example.com/pool=fleet';

let sandbox: Sandbox;
/** Tight limits, a roomy queue: for "never above the limits". */
let limited: McpSession;
/** One slot, a queue of two: for the busy error. */
let tiny: McpSession;
/** Free global slots but one per node, a queue of two: the bound must hold behind one busy node too. */
let perNodeQueue: McpSession;
/** One slot, a roomy queue: a fan-out runs node after node. */
let serial: McpSession;
/** A short overall deadline. */
let deadline: McpSession;
/** Defaults apart from the kubeconfig: fan-out, progress, merging, cancellation. */
let plain: McpSession;

const LIMITS = { global: 3, perNode: 1 };
const CALL_TIMEOUT_MS = 1500;

const logRequests = (): RequestRecord[] => sandbox.requestLog.entries.filter((e) => e.proxyPath?.startsWith('logs'));


async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  sandbox = await startSandbox({ fleet: FLEET, fleetLatencyMs: FLEET_LATENCY_MS, deadlineMs: DEADLINE_MS, journalBackend: 'inprocess' });
  const base = ['--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', `${DEADLINE_MS}ms`, '--request-timeout', '30s'];
  [limited, tiny, perNodeQueue, serial, deadline, plain] = await Promise.all([
    startMcp({ args: [...base, '--max-concurrency', String(LIMITS.global), '--max-concurrency-per-node', String(LIMITS.perNode), '--requests-per-second', '1000', '--max-queue', '1000'] }),
    startMcp({ args: [...base, '--max-concurrency', '1', '--max-concurrency-per-node', '1', '--max-queue', '2'] }),
    startMcp({ args: [...base, '--max-concurrency', '4', '--max-concurrency-per-node', '1', '--max-queue', '2'] }),
    startMcp({ args: [...base, '--max-concurrency', '1', '--max-queue', '1000'] }),
    // A cancelled journal query keeps its node slot until the kubelet's deadline: here the kubelet deadline
    // it assumes is the call timeout, so each test starts with the slow node free again.
    startMcp({ args: [...base.slice(0, 2), '--kubelet-deadline', `${CALL_TIMEOUT_MS}ms`, ...base.slice(4), '--call-timeout', `${CALL_TIMEOUT_MS}ms`, '--max-concurrency-per-node', '1'] }),
    startMcp({ args: base }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([limited, tiny, perNodeQueue, serial, deadline, plain].map((m) => m?.close()));
  await sandbox?.close();
});

beforeEach(async () => {
  await sandbox.requestLog.waitIdle(10_000);
  sandbox.requestLog.clear();
});

describe('limits, checked on the sandbox side', () => {
  it('never exceeds --max-concurrency and --max-concurrency-per-node under many concurrent calls', async () => {
    const one = fleetNodeName(0);
    const calls = [
      ...Array.from({ length: 8 }, () => limited.call('query_node_logs', { node: one, query: 'kubelet', tailLines: 20 })),
      ...Array.from({ length: 4 }, () => limited.call('query_node_logs', { labelSelector: POOL, query: 'kubelet', tailLines: 20 })),
      ...Array.from({ length: 4 }, (_, i) => limited.call('query_node_logs', { node: fleetNodeName(1 + i), query: 'kubelet', tailLines: 20 })),
    ];
    const results = await Promise.all(calls);
    for (const r of results) expect(r.isError, r.text).toBeFalsy();
    await sandbox.requestLog.waitIdle(10_000);
    const logs = logRequests();
    expect(logs).toHaveLength(8 + 4 * FLEET + 4);
    expect(logs.every((r) => r.status === 200)).toBe(true);
    const perNode = Math.max(...[...sandbox.requestLog.maxConcurrentPerNode.values()]);
    expect(perNode).toBe(LIMITS.perNode);
    const overall = peakInFlight(logs);
    expect(overall).toBeLessThanOrEqual(LIMITS.global);
    // The limit is reached, not just respected by running one at a time.
    expect(overall).toBeGreaterThanOrEqual(2);
  });

  it('answers "busy, retry in N s" at once past --max-queue, while earlier calls still run', async () => {
    const ctrl = new AbortController();
    const holder = tiny.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 }, { signal: ctrl.signal });
    holder.catch(() => undefined);
    await until('the slow request to start', () => logRequests().length === 1);
    // These two fill the queue (one slot, queue of two) ...
    const queuedCtrl = new AbortController();
    const queued = [0, 1].map(() => tiny.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 10 }, { signal: queuedCtrl.signal }));
    for (const q of queued) q.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    // ... so the next one is turned away without waiting for any of them.
    let holderDone = false;
    void holder.finally(() => (holderDone = true)).catch(() => undefined);
    const busy = await tiny.call('query_node_logs', { node: NODE_NAMES.worker2, query: 'kubelet', tailLines: 10 });
    expect(holderDone).toBe(false);
    expect(busy.isError).toBe(true);
    expect(busy.text).toMatch(/busy/i);
    expect(busy.text).toMatch(/retry in about \d+ s/i);
    // Nothing but the slow request went to a node.
    expect(logRequests().map((r) => r.node)).toEqual([NODE_NAMES.slow]);
    // The queued calls are cancelled first: with one abort for all three, the holder's cancellation could
    // free the slot before the server had read the queued calls' cancellations (seen under heavy load).
    queuedCtrl.abort();
    await Promise.allSettled(queued);
    ctrl.abort();
    await expect(holder).rejects.toThrow();
    await sandbox.requestLog.waitIdle(10_000);
    // The queued calls were cancelled before their turn: they never reached a node.
    expect(logRequests().map((r) => r.node)).toEqual([NODE_NAMES.slow]);
  });

  it('bounds the queue behind one busy node too, while global slots are free', async () => {
    const ctrl = new AbortController();
    const slow = () => perNodeQueue.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 }, { signal: ctrl.signal });
    const held = [slow()];
    await until('the slow request to start', () => logRequests().length === 1);
    held.push(slow(), slow()); // the queue of two, both behind the slow node's single slot
    for (const h of held) h.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const busy = await slow();
    expect(busy.isError).toBe(true);
    expect(busy.text).toMatch(/busy.*retry in about \d+ s/is);
    // Another node still gets one of the free global slots at once.
    const other = await perNodeQueue.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
    expect(other.isError, other.text).toBeFalsy();
    expect(logRequests().map((r) => r.node)).toEqual([NODE_NAMES.slow, NODE_NAMES.worker1]);
    ctrl.abort();
    await Promise.allSettled(held);
  });

  it('a fan-out larger than the queue reports the turned-away nodes as busy, not the whole call as failed', async () => {
    const res = await tiny.call('query_node_logs', { labelSelector: POOL, query: 'kubelet', tailLines: 10 });
    expect(res.isError, res.text).toBeFalsy();
    const s = res.structuredContent as { nodes: { node: string; ok: boolean; error?: string }[] };
    const ok = s.nodes.filter((n) => n.ok);
    const busy = s.nodes.filter((n) => !n.ok);
    // One slot and a queue of two: three nodes are served, the rest are told to retry.
    expect(ok).toHaveLength(3);
    expect(busy).toHaveLength(FLEET - 3);
    for (const b of busy) expect(b.error).toMatch(/busy.*retry in about \d+ s/is);
    expect(logRequests()).toHaveLength(3);
    expect(sandbox.requestLog.maxConcurrent).toBeGreaterThanOrEqual(1);
    expect(peakInFlight(logRequests())).toBe(1);
  });
});

describe('cancellation', () => {
  it('reaches the node as an aborted request within a few seconds, and nothing keeps reading', async () => {
    const ctrl = new AbortController();
    const call = plain.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 }, { signal: ctrl.signal });
    call.catch(() => undefined);
    const rec = await until('the slow request to start', () => logRequests().find((r) => r.node === NODE_NAMES.slow));
    await new Promise((r) => setTimeout(r, 500)); // let it stream a few lines
    const abortedAt = Date.now();
    ctrl.abort();
    await expect(call).rejects.toThrow();
    await until('the sandbox to see the request end', () => rec.durationMs > 0 || rec.aborted, 5000);
    expect(rec.aborted).toBe(true);
    expect(rec.start + rec.durationMs).toBeLessThan(abortedAt + 3000);
    // The server is still healthy and the node is free again.
    await sandbox.requestLog.waitIdle(5000);
    const after = await plain.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5 });
    expect(after.isError, after.text).toBeFalsy();
  });

  it('cancels a fan-out: the in-flight request is aborted and queued nodes are never asked', async () => {
    const ctrl = new AbortController();
    const sel = `kubernetes.io/hostname in (${NODE_NAMES.slow},${NODE_NAMES.worker1},${NODE_NAMES.worker2},${NODE_NAMES.controlPlane})`;
    const call = serial.call('query_node_logs', { labelSelector: sel, query: 'kubelet', tailLines: 100000 }, { signal: ctrl.signal });
    call.catch(() => undefined);
    const slow = await until('the slow node to be asked', () => logRequests().find((r) => r.node === NODE_NAMES.slow), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const askedBeforeAbort = logRequests().length;
    ctrl.abort();
    await expect(call).rejects.toThrow();
    await sandbox.requestLog.waitIdle(5000);
    await new Promise((r) => setTimeout(r, 500)); // a queued job that wrongly started would show up by now
    expect(slow.aborted).toBe(true);
    expect(logRequests()).toHaveLength(askedBeforeAbort);
    // One slot: while the slow node held it, at least one other node was still waiting.
    expect(askedBeforeAbort).toBeLessThan(4);
  });
});

describe('a client that goes away', () => {
  it('takes its requests with it: the server stops reading from the node', async () => {
    const gone = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', `${DEADLINE_MS}ms`] });
    const call = gone.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 });
    call.catch(() => undefined);
    const rec = await until('the slow request to start', () => logRequests().find((r) => r.node === NODE_NAMES.slow));
    await gone.close(); // closes the server's stdin, as a client that quits does
    await until('the sandbox to see the request end', () => rec.durationMs > 0 || rec.aborted, 5000);
    expect(rec.aborted).toBe(true);
    expect(rec.durationMs).toBeLessThan(DEADLINE_MS / 2);
  });
});

describe('fan-out by labelSelector', () => {
  it('sends increasing progress notifications with the total', async () => {
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const res = await plain.call('query_node_logs', { labelSelector: POOL, query: 'kubelet', tailLines: 20 }, { onprogress: (p) => seen.push(p) });
    expect(res.isError, res.text).toBeFalsy();
    expect(seen.length).toBeGreaterThanOrEqual(FLEET);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
    expect(seen.every((p) => p.total === FLEET)).toBe(true);
    expect(seen.at(-1)!.progress).toBe(FLEET);
    expect(seen.some((p) => /fleet-\d{4}/.test(p.message ?? ''))).toBe(true);
  });

  it('reports each node: healthy ones answer, unreachable and feature-off ones fail with their own reason', async () => {
    const sel = `kubernetes.io/hostname in (${NODE_NAMES.worker1},${NODE_NAMES.unreachable},${NODE_NAMES.featureOff})`;
    const res = await plain.call('query_node_logs', { labelSelector: sel, query: 'kubelet', tailLines: 50 });
    expect(res.isError, res.text).toBeFalsy();
    const s = res.structuredContent as { nodes: { node: string; ok: boolean; error?: string }[]; truncated: boolean };
    const by = new Map(s.nodes.map((n) => [n.node, n]));
    expect(by.get(NODE_NAMES.worker1)!.ok).toBe(true);
    expect(by.get(NODE_NAMES.unreachable)).toMatchObject({ ok: false });
    expect(by.get(NODE_NAMES.unreachable)!.error).toMatch(/could not reach the kubelet/);
    expect(by.get(NODE_NAMES.featureOff)).toMatchObject({ ok: false });
    expect(by.get(NODE_NAMES.featureOff)!.error).toMatch(/enableSystemLogQuery|NodeLogQuery/);
    expect(s.truncated).toBe(true);
    expect(res.text).toMatch(/3 queried, 1 answered, 2 failed/);
    expect(res.text).toContain(`${NODE_NAMES.unreachable} failed:`);
    expect(res.text).toContain(`${NODE_NAMES.featureOff} failed:`);
    // Each node was asked exactly once.
    expect(logRequests().map((r) => r.node).sort()).toEqual([NODE_NAMES.featureOff, NODE_NAMES.unreachable, NODE_NAMES.worker1].sort());
  });

  it('merges the answers: templates seen on N of M nodes, lines tagged with their node, within the budget', async () => {
    const budget = 6000;
    const sel = `kubernetes.io/hostname in (${NODE_NAMES.worker1},${NODE_NAMES.worker2},${NODE_NAMES.controlPlane})`;
    const res = await plain.call('query_node_logs', { labelSelector: sel, query: 'kubelet', tailLines: 300, maxOutputChars: budget });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text.length).toBeLessThanOrEqual(budget);
    // Node sets said briefly, per-node counts for errors, examples tagged with their node.
    expect(res.text).toMatch(/^\[T\d+ \w+ ×[\d,]+ [^\]]* on all 3 nodes\]/m);
    expect(res.text).toMatch(/^\[T\d+ \w+ ×[\d,]+ [^\]]* only on [\w-]+\]/m);
    expect(res.text).toMatch(/^\[T\d+ error ×[\d,]+ [^\]]* on [\w-]+ ×\d+, [\w-]+ ×\d+/m);
    const tagged = [NODE_NAMES.controlPlane, NODE_NAMES.worker1, NODE_NAMES.worker2].filter((n) => res.text.includes(`e.g. ${n}: `));
    expect(tagged.length).toBeGreaterThanOrEqual(1);
    const s = res.structuredContent as { nodes: { ok: boolean }[]; topTemplates: { nodes?: number }[] };
    expect(s.nodes.filter((n) => n.ok)).toHaveLength(3);
    expect(s.topTemplates.some((t) => t.nodes === 3)).toBe(true);
  });

  it('caps the fan-out at maxNodes and counts the nodes left out', async () => {
    const res = await plain.call('query_node_logs', { labelSelector: POOL, maxNodes: 4, query: 'kubelet', tailLines: 10 });
    expect(res.isError, res.text).toBeFalsy();
    const s = res.structuredContent as { nodes: unknown[]; leftOutNodes?: number; truncated: boolean };
    expect(s.nodes).toHaveLength(4);
    expect(s.leftOutNodes).toBe(FLEET - 4);
    expect(s.truncated).toBe(true);
    expect(res.text).toContain(`${FLEET - 4} more not queried`);
    expect(logRequests()).toHaveLength(4);
  });
});

describe('--call-timeout', () => {
  it('is an overall deadline: the slow request is aborted and the answer says why', async () => {
    const res = await deadline.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/--call-timeout/);
    await sandbox.requestLog.waitIdle(5000);
    const [rec] = logRequests();
    expect(rec!.aborted).toBe(true);
    expect(rec!.durationMs).toBeLessThan(DEADLINE_MS / 2);
  });

  it('in a fan-out, cuts only the nodes that ran out of time: the others still answer', async () => {
    const sel = `kubernetes.io/hostname in (${NODE_NAMES.worker1},${NODE_NAMES.slow})`;
    const res = await deadline.call('query_node_logs', { labelSelector: sel, query: 'kubelet', tailLines: 100000 });
    expect(res.isError, res.text).toBeFalsy();
    const s = res.structuredContent as { nodes: { node: string; ok: boolean; error?: string }[]; truncated: boolean };
    const by = new Map(s.nodes.map((n) => [n.node, n]));
    expect(by.get(NODE_NAMES.worker1)!.ok).toBe(true);
    expect(by.get(NODE_NAMES.slow)!.ok).toBe(false);
    expect(by.get(NODE_NAMES.slow)!.error).toMatch(/--call-timeout/);
    expect(s.truncated).toBe(true);
    await sandbox.requestLog.waitIdle(5000);
    expect(logRequests().find((r) => r.node === NODE_NAMES.slow)!.aborted).toBe(true);
  });

  it('counts queue wait: a call stuck behind a busy node does not get a fresh deadline when its turn comes', async () => {
    const first = deadline.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 });
    await until('the first slow request to start', () => logRequests().length === 1);
    const second = await deadline.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 });
    expect(second.isError).toBe(true);
    expect(second.text).toMatch(/--call-timeout/);
    await first;
    await sandbox.requestLog.waitIdle(5000);
    const logs = logRequests();
    // The second request can only start when the first one's deadline frees the node; by then most of its
    // own time is gone. Had the wait not counted, it would have run for a whole --call-timeout.
    if (logs.length === 2) expect(logs[1]!.durationMs).toBeLessThan(CALL_TIMEOUT_MS * 0.67);
    else expect(second.text).toMatch(/waiting .* for a free slot \(other queries hold the concurrency limits\); nothing was sent/);
    expect(logs.length).toBeLessThanOrEqual(2);
  });
});

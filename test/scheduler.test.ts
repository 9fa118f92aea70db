import { describe, expect, it } from 'vitest';
import { BusyError, CancelledError, RequestScheduler } from '../src/limits/scheduler.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('RequestScheduler', () => {
  it('never runs more than the per-node and global limits at once', async () => {
    const s = new RequestScheduler({ maxConcurrency: 3, maxConcurrencyPerNode: 2, requestsPerSecond: 1000, maxQueue: 1000 });
    const running = new Map<string, number>();
    let overall = 0;
    let maxOverall = 0;
    const maxPerNode = new Map<string, number>();
    const job = (node: string) => async () => {
      overall++;
      running.set(node, (running.get(node) ?? 0) + 1);
      maxOverall = Math.max(maxOverall, overall);
      maxPerNode.set(node, Math.max(maxPerNode.get(node) ?? 0, running.get(node)!));
      await new Promise((r) => setTimeout(r, 30));
      overall--;
      running.set(node, running.get(node)! - 1);
      return node;
    };
    const ctrl = new AbortController();
    const nodes = ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'd'];
    const out = await Promise.all(nodes.map((n) => s.run(n, ctrl.signal, job(n))));
    expect(out).toEqual(nodes);
    expect(maxOverall).toBeLessThanOrEqual(3);
    expect(maxOverall).toBeGreaterThanOrEqual(2);
    expect(Math.max(...maxPerNode.values())).toBeLessThanOrEqual(2);
    await s.stop();
  });

  it('a busy node does not hold global slots while its jobs wait', async () => {
    const s = new RequestScheduler({ maxConcurrency: 2, maxConcurrencyPerNode: 1, requestsPerSecond: 1000, maxQueue: 100 });
    const gate = deferred();
    const ctrl = new AbortController();
    const slow = [s.run('busy', ctrl.signal, () => gate.promise), s.run('busy', ctrl.signal, () => gate.promise), s.run('busy', ctrl.signal, () => gate.promise)];
    // Only one 'busy' job runs; the second global slot must stay free for another node.
    const other = await s.run('free', ctrl.signal, async () => 'ok');
    expect(other).toBe('ok');
    gate.resolve();
    await Promise.all(slow);
    await s.stop();
  });

  it('rejects at once with a retry hint past the queue bound', async () => {
    const s = new RequestScheduler({ maxConcurrency: 1, maxConcurrencyPerNode: 1, requestsPerSecond: 1000, maxQueue: 2 });
    const gate = deferred();
    const ctrl = new AbortController();
    const held = [1, 2, 3].map(() => s.run('n', ctrl.signal, () => gate.promise));
    await new Promise((r) => setTimeout(r, 20));
    const err = await s.run('n', ctrl.signal, async () => 'never').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusyError);
    expect((err as BusyError).message).toMatch(/busy.*Retry in about \d+ s/);
    gate.resolve();
    await Promise.all(held);
    await s.stop();
  });

  it('cancelling a queued job settles it at once and never runs it', async () => {
    const s = new RequestScheduler({ maxConcurrency: 1, maxConcurrencyPerNode: 1, requestsPerSecond: 1000, maxQueue: 10 });
    const gate = deferred();
    const first = s.run('n', new AbortController().signal, () => gate.promise);
    // Under CI load the first job may take more than a few ms to start.
    for (let i = 0; i < 200 && s.stats.running === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.stats).toEqual({ waiting: 0, running: 1 });
    const ctrl = new AbortController();
    let ran = false;
    const queued = s.run('n', ctrl.signal, async () => {
      ran = true;
    });
    ctrl.abort();
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    expect(s.stats.waiting).toBe(0);
    gate.resolve();
    await first;
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toBe(false);
    await s.stop();
  });

  it('holdNode keeps the node slot (not the global one) after the job is done, until the hold settles', async () => {
    // One global slot: the other node can only run if the held job gave its global slot back.
    const s = new RequestScheduler({ maxConcurrency: 1, maxConcurrencyPerNode: 1, requestsPerSecond: 1000, maxQueue: 10 });
    const hold = deferred();
    await s.run('n', new AbortController().signal, async (_signal, holdNode) => holdNode(hold.promise));
    const order: string[] = [];
    const sameNode = s.run('n', new AbortController().signal, async () => void order.push('n'));
    const otherNode = s.run('m', new AbortController().signal, async () => void order.push('m'));
    await otherNode;
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['m']); // the held node waits, another node does not
    hold.resolve();
    await sameNode;
    expect(order).toEqual(['m', 'n']);
    await s.stop();
  });

  it('passes the signal into the running job', async () => {
    const s = new RequestScheduler({ maxConcurrency: 1, maxConcurrencyPerNode: 1, requestsPerSecond: 1000, maxQueue: 10 });
    const ctrl = new AbortController();
    const p = s.run('n', ctrl.signal, (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted inside')))));
    await new Promise((r) => setTimeout(r, 10));
    ctrl.abort();
    await expect(p).rejects.toThrow();
    await s.stop();
  });
});

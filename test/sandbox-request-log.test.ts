import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { SandboxRequestLog } from '../src/sandbox/request-log.js';
import { JournalWarmup } from '../src/sandbox/journal-warmup.js';
import type { JournalBackend } from '../src/sandbox/journal/types.js';

const start = (log: SandboxRequestLog, rawQuery = '') => log.begin({ method: 'GET', path: '/api/v1/nodes/n1/proxy/logs/', rawQuery, headers: {} });
const done = { status: 200, bytes: 10, aborted: false };

describe('SandboxRequestLog', () => {
  it('tracks in-flight requests and maxima, overall and per node; clear keeps what is still running', () => {
    const log = new SandboxRequestLog();
    const a = start(log, 'query=a&query=b');
    const b = start(log);
    log.proxying(a, 'n1', 'logs/');
    log.proxying(b, 'n1', 'logs/');
    expect(a.query).toEqual({ query: ['a', 'b'] });
    expect([log.inFlight, log.maxConcurrent, log.maxConcurrentPerNode.get('n1')]).toEqual([2, 2, 2]);
    log.end(a, done, false);
    log.clear();
    expect(log.entries).toHaveLength(0);
    expect([log.inFlight, log.maxConcurrent, log.maxConcurrentPerNode.get('n1')]).toEqual([1, 1, 1]);
    log.end(b, { ...done, aborted: true }, true);
    expect(log.inFlight).toBe(0);
    expect(log.writes()).toEqual([b]);
  });

  it('waitIdle rejects while a request stays in flight and resolves once it ends', async () => {
    const log = new SandboxRequestLog();
    const a = start(log);
    await expect(log.waitIdle(30)).rejects.toThrow(/not idle/);
    const idle = log.waitIdle(1000);
    log.end(a, done, false);
    await expect(idle).resolves.toBeUndefined();
  });

  it('attaches the kubelet record to the proxied request it served and waits for it', async () => {
    const log = new SandboxRequestLog();
    const a = start(log, 'query=kubelet');
    const b = start(log, 'query=containerd');
    for (const r of [a, b]) {
      log.proxying(r, 'n1', 'logs/');
      log.dispatched(r, '/logs/');
      log.end(r, done, false);
    }
    let idle = false;
    const waiting = log.waitIdle(1000).then(() => (idle = true));
    const base = { node: 'n1', method: 'GET', path: '/logs/', status: 200, bytes: 10, durationMs: 1, aborted: false };
    log.kubeletReported({ ...base, rawQuery: 'query=other' }); // e.g. a direct kubelet request: ignored
    log.kubeletReported({ ...base, rawQuery: 'query=containerd', journalArgs: ['--unit=containerd'] });
    await new Promise((r) => setTimeout(r, 10));
    expect(idle).toBe(false);
    log.kubeletReported({ ...base, rawQuery: 'query=kubelet', journalArgs: ['--unit=kubelet'] });
    await waiting;
    expect(a.journalArgs).toEqual(['--unit=kubelet']);
    expect(b.journalArgs).toEqual(['--unit=containerd']);
    expect(b.kubelet?.rawQuery).toBe('query=containerd');
  });
});

function fakeBackend(out: string, calls: string[][]): JournalBackend {
  return {
    kind: 'inprocess',
    run: (args) => {
      calls.push(args);
      return { output: Readable.from([out]), exited: Promise.resolve(0) };
    },
    close: async () => undefined,
  };
}

describe('JournalWarmup', () => {
  it('builds a backend on first use only, then relays its output', async () => {
    const w = new JournalWarmup();
    let builds = 0;
    const calls: string[][] = [];
    const lazy = w.lazy('journalctl', async () => {
      builds++;
      return fakeBackend('line\n', calls);
    });
    expect(builds).toBe(0);
    const r = lazy.run(['--lines=1'], new AbortController().signal);
    expect(await text(r.output)).toBe('line\n');
    expect(await r.exited).toBe(0);
    lazy.run(['--lines=2'], new AbortController().signal);
    await w.stop();
    expect(builds).toBe(1);
    expect(calls).toEqual([['--lines=1'], ['--lines=2']]);
  });

  it('ends the output without running when aborted before the build finished, and fails it when the build fails', async () => {
    const w = new JournalWarmup();
    const calls: string[][] = [];
    const ac = new AbortController();
    const lazy = w.lazy('journalctl', async () => fakeBackend('x', calls));
    const r = lazy.run([], ac.signal);
    ac.abort();
    expect(await text(r.output)).toBe('');
    expect(await r.exited).toBeNull();
    expect(calls).toHaveLength(0);
    const broken = w.lazy('journalctl', async () => {
      throw new Error('journal-remote failed');
    });
    await expect(text(broken.run([], new AbortController().signal).output)).rejects.toThrow('journal-remote failed');
  });

  it('start() builds the queued backends one at a time', async () => {
    const w = new JournalWarmup();
    let running = 0;
    let max = 0;
    let built = 0;
    for (let i = 0; i < 3; i++) {
      w.lazy('journalctl', async () => {
        max = Math.max(max, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        built++;
        return fakeBackend('', []);
      });
    }
    w.start();
    while (built < 3) await new Promise((r) => setTimeout(r, 5));
    expect(max).toBe(1);
    await w.stop();
  });
});

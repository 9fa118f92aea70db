import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../src/config.js';
import { deadlineSignal } from '../src/limits/deadline.js';
import { callSignal } from '../src/tools/common.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('callSignal (the per-call deadline)', () => {
  it('fires its deadline even when a garbage collection runs meanwhile (Node 20 drops AbortSignal.timeout inside AbortSignal.any)', async () => {
    const signal = callSignal(new AbortController().signal, { callTimeoutMs: 150 } as ServerConfig);
    await new Promise((r) => setTimeout(r, 20));
    gc();
    await new Promise((r) => setTimeout(r, 500));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });

  it('the kube transport\'s request deadline (deadlineSignal with a caller signal) survives a garbage collection too', async () => {
    const signal = deadlineSignal(150, new AbortController().signal);
    gc();
    await new Promise((r) => setTimeout(r, 500));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });

  it('follows the request\'s own cancellation', () => {
    const request = new AbortController();
    const signal = callSignal(request.signal, { callTimeoutMs: 60_000 } as ServerConfig);
    request.abort(new Error('cancelled by the client'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('cancelled by the client');
  });
});

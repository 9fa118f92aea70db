import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sandbox } from '../src/sandbox/index.js';
import { SOAK_LIMITS, runSoak, startSoakSandbox, type SoakResult } from '../bench/soak.js';

/**
 * The short soak: 400 mixed calls (half concurrent, half sequential) against healthy and faulty sandbox nodes through the built server.
 * Limits hold on the sandbox side; RSS and file descriptors settle back after warm-up; SIGTERM and stdin
 * close end the process cleanly with the in-flight kubelet request aborted. The long run is bench/soak.ts.
 */
let sandbox: Sandbox;
let r: SoakResult;

beforeAll(async () => {
  sandbox = await startSoakSandbox();
  r = await runSoak({ sandbox, calls: 400, warmup: 80, concurrency: 12, batch: 80 });
  process.stdout.write(`soak (short): ${JSON.stringify(r)}\n`);
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
});

it('answers every call with a result, never a protocol error', () => {
  expect(r.calls).toBe(400);
  expect(r.protocolErrors).toBe(0);
  expect(r.errors).toBeGreaterThan(0); // the faulty nodes and invalid calls in the mix do fail
  expect(r.errors).toBeLessThan(r.calls);
});

it('keeps the per-node limit on the sandbox side', () => {
  // huge-1's streams are cut by this server at the byte cap; the sandbox counts such a request until its
  // side of the connection closes, which can overlap the next one by a moment: allowed one extra there.
  for (const [node, n] of Object.entries(r.perNode)) expect(n, node).toBeLessThanOrEqual(SOAK_LIMITS.maxConcurrencyPerNode + (node === 'huge-1' ? 1 : 0));
});

it('returns to its warm-up level of file descriptors and memory', () => {
  // Keep-alive sockets to the apiserver come and go; a leak grows with the calls, this allows a few.
  expect(r.after.fds).toBeLessThanOrEqual(r.warm.fds + 6);
  expect(r.after.rssMiB).toBeLessThan(r.warm.rssMiB * 1.5 + 64);
});

it('shuts down on SIGTERM and on stdin close, aborting the request in flight', () => {
  expect(r.sigterm.code).toBe(0);
  expect(r.sigterm.inFlightAborted).toBe(true);
  expect(r.stdinClose.code).toBe(0);
  expect(r.stdinClose.inFlightAborted).toBe(true);
});

it('sent no write request', () => {
  expect(r.writes).toBe(0);
});

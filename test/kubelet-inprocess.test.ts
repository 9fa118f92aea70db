import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJournalBackend } from '../src/sandbox/journal/index.js';
import type { JournalBackend, JournalEntry } from '../src/sandbox/journal/types.js';
import { Harness, makeVarLog, request } from './kubelet-helpers.js';

const h = new Harness();
let varLog: string;
let journal: JournalBackend;
let url: string;

const BOOT = '0123456789abcdef0123456789abcdef';
const base = BigInt(Date.UTC(2026, 10, 27, 3, 44, 0)) * 1000n;
function entry(i: number, unit: string, message: string): JournalEntry {
  const id = unit.replace('.service', '');
  return { realtimeUsec: base + BigInt(i) * 1_000_000n, monotonicUsec: BigInt(i) * 1_000_000n + 5n, bootId: BOOT, unit, identifier: id, pid: 100 + i, hostname: 'node-1', priority: 6, message };
}

beforeAll(async () => {
  varLog = makeVarLog();
  journal = await createJournalBackend(
    [entry(0, 'kubelet.service', 'Starting kubelet'), entry(1, 'containerd.service', 'containerd up'), entry(2, 'kubelet.service', 'ERROR pulling image'), entry(3, 'kubelet.service', 'Container started')],
    { prefer: 'inprocess', workDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-journal-')) },
  );
  url = (await h.start(varLog, { journal })).url;
});
afterAll(async () => {
  await h.closeAll();
  await journal.close();
  fs.rmSync(varLog, { recursive: true, force: true });
});

describe('kubelet over the in-process journal', () => {
  it('tailLines gives the last N kubelet lines in short-precise format', async () => {
    const r = await request(url, '/logs/?query=kubelet&tailLines=2');
    expect(r.status).toBe(200);
    const lines = r.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Nov 27 03:44:02\.000000 node-1 kubelet\[102\]: ERROR pulling image$/);
    expect(lines[1]).toContain('Container started');
  });

  it('two native services interleave in one journalctl run; a lowercase pattern matches case-insensitively', async () => {
    const both = await request(url, '/logs/?query=kubelet&query=containerd');
    expect(both.text).toContain('containerd up');
    expect(both.text).toContain('Starting kubelet');
    const grep = await request(url, '/logs/?query=kubelet&pattern=error');
    expect(grep.text).toContain('ERROR pulling image');
    expect(grep.text).not.toContain('Container started');
  });

  it('an empty window prints "-- No entries --" in a 200; an unknown service falls back to files', async () => {
    const r = await request(url, '/logs/?query=kubelet&sinceTime=2030-01-01T00:00:00Z');
    expect(r.status).toBe(200);
    expect(r.text).toContain('-- No entries --');
    expect((await request(url, '/logs/?query=nope')).text).toBe('\nlog not found for nope\n');
  });
});

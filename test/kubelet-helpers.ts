import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { startKubelet } from '../src/sandbox/kubelet/server.js';
import type { KubeletOptions, KubeletRequestRecord, RunningKubelet } from '../src/sandbox/kubelet/types.js';
import type { JournalBackend } from '../src/sandbox/journal/types.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** Raw HTTP so the path goes out exactly as written (fetch would normalize "..", decode gzip, …). */
export function request(base: string, rawPath: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export interface FakeJournal extends JournalBackend {
  calls: { args: string[]; signal: AbortSignal }[];
}

/** Units known to journald plus a script for the main run. */
export function fakeJournal(units: string[], answer: (args: string[], signal: AbortSignal) => { output: Readable; exited: Promise<number | null> } = () => ({
  output: Readable.from([Buffer.from('-- No entries --\n')]),
  exited: Promise.resolve(0),
})): FakeJournal {
  const calls: FakeJournal['calls'] = [];
  return {
    kind: 'inprocess',
    calls,
    run(args, signal) {
      calls.push({ args, signal });
      if (args[0] === '--field') {
        return { output: Readable.from([Buffer.from(units.map((u) => u + '\n').join(''))]), exited: Promise.resolve(0) };
      }
      return answer(args, signal);
    },
    async close() {},
  };
}

export function makeVarLog(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-varlog-'));
  fs.writeFileSync(path.join(dir, 'kube-proxy.log'), 'I1127 03:44:01.000000 1 proxier.go:1] proxy started\n');
  fs.writeFileSync(path.join(dir, 'range.log'), '0123456789');
  fs.mkdirSync(path.join(dir, 'pods'));
  fs.mkdirSync(path.join(dir, 'containers'));
  return dir;
}

export function mkfifo(p: string): void {
  execFileSync('mkfifo', [p]);
}

export const ON = { enableDebuggingHandlers: true, enableSystemLogHandler: true, enableSystemLogQuery: true, featureGates: {} };

export class Harness {
  records: KubeletRequestRecord[] = [];
  private started: RunningKubelet[] = [];

  async start(varLogDir: string, over: Partial<KubeletOptions> = {}): Promise<RunningKubelet> {
    const k = await startKubelet({
      nodeName: 'node-1',
      os: 'linux',
      kubeletVersion: 'v1.36.1',
      config: ON,
      varLogDir,
      deadlineMs: 30_000,
      onRequest: (r) => this.records.push(r),
      ...over,
    });
    this.started.push(k);
    return k;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.started.splice(0).map((k) => k.close()));
  }
}

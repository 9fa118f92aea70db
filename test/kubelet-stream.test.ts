import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WinEvent } from '../src/sandbox/journal/types.js';
import { fakeJournal, Harness, makeVarLog, mkfifo, ON, request } from './kubelet-helpers.js';

const h = new Harness();
let varLog: string;
let outside: string;

beforeAll(() => {
  varLog = makeVarLog();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.log'), 'SECRET\n');
  fs.symlinkSync(path.join(outside, 'secret.log'), path.join(varLog, 'escape.log'));
  fs.symlinkSync('/', path.join(varLog, 'rootlink'));
  fs.symlinkSync('kube-proxy.log', path.join(varLog, 'inside.log'));
});
afterAll(async () => {
  await h.closeAll();
  fs.rmSync(varLog, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

/** A journal that writes one line, then holds the stream open until its signal fires. */
function hangingJournal() {
  let resolveAbort!: () => void;
  const aborted = new Promise<void>((r) => (resolveAbort = r));
  const j = fakeJournal(['kubelet.service'], (_args, signal) => {
    const out = new PassThrough();
    out.write('Nov 27 03:44:01.000001 node-1 kubelet[2291]: first\n');
    signal.addEventListener('abort', () => { resolveAbort(); out.end(); }, { once: true });
    return { output: out, exited: new Promise((r) => signal.addEventListener('abort', () => r(null), { once: true })) };
  });
  return { j, aborted };
}

describe('traversal never leaves varLogDir', () => {
  it.each(['/logs/../../etc/passwd', '/logs/%2e%2e/%2e%2e/etc/passwd', '/logs/..%2f..%2fetc%2fpasswd'])('%s is redirected to a clean path, not served', async (p) => {
    const k = await h.start(varLog);
    const r = await request(k.url, p);
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/etc/passwd');
  });

  it('file queries with .. clamp at the root', async () => {
    const k = await h.start(varLog);
    const r = await request(k.url, '/logs/?query=/../../etc/passwd');
    expect(r.status).toBe(406);
    expect(r.text).toBe('query: Invalid value: []string{"/../../etc/passwd"}: stat /var/log/etc/passwd: no such file or directory\n');
  });

  it('symlinks resolve inside the root: an absolute link out of it is a miss, a relative one inside works', async () => {
    const k = await h.start(varLog);
    for (const p of ['/logs/escape.log', '/logs/rootlink/etc/passwd', '/logs/rootlink' + outside + '/secret.log']) {
      const r = await request(k.url, p);
      expect(r.status, p).toBe(404);
      expect(r.text).not.toContain('SECRET');
    }
    const q = await request(k.url, '/logs/?query=/escape.log');
    expect(q.status).toBe(406);
    expect(q.text).toContain(`stat /var/log${outside}/secret.log: no such file or directory`);
    expect((await request(k.url, '/logs/?query=escape')).text).toBe('\nlog not found for escape\n');
    expect((await request(k.url, '/logs/inside.log')).text).toContain('proxy started');
  });
});

describe('deadline and client abort', () => {
  it('the deadline kills journalctl and ends a 200 stream; later file services get the context error', async () => {
    const { j, aborted } = hangingJournal();
    const k = await h.start(varLog, { journal: j, deadlineMs: 150 });
    const r = await request(k.url, '/logs/?query=kubelet&query=kube-proxy');
    await aborted;
    expect(r.status).toBe(200);
    expect(r.text).toBe('Nov 27 03:44:01.000001 node-1 kubelet[2291]: first\n\ncontext error: context deadline exceeded\n');
    expect(j.calls.at(-1)!.signal.aborted).toBe(true);
  });

  it('a heuristic file read past the deadline ends with "error getting log for svc: context deadline exceeded"', async () => {
    const fifo = path.join(varLog, 'slowsvc.log');
    mkfifo(fifo);
    const k = await h.start(varLog, { deadlineMs: 150 });
    const got = request(k.url, '/logs/?query=slowsvc');
    const w = await fs.promises.open(fifo, 'w');
    await w.write('one\n');
    await new Promise((r) => setTimeout(r, 300)); // let the deadline pass while the reader waits
    await w.write('two\n');
    await w.close();
    const r = await got;
    expect(r.status).toBe(200);
    expect(r.text).toBe('one\ntwo\n\nerror getting log for slowsvc: context deadline exceeded\n');
    fs.rmSync(fifo);
  });

  it('a client that goes away aborts journalctl at once and is recorded as aborted', async () => {
    const { j, aborted } = hangingJournal();
    const k = await h.start(varLog, { journal: j, deadlineMs: 60_000 });
    const u = new URL(k.url);
    await new Promise<void>((resolve) => {
      const req = http.get({ host: u.hostname, port: u.port, path: '/logs/?query=kubelet', agent: false }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', () => {});
    });
    await aborted;
    expect(j.calls.at(-1)!.signal.aborted).toBe(true);
    await expect.poll(() => h.records.find((r) => r.rawQuery === 'query=kubelet' && r.aborted)).toBeTruthy();
  });

  it("'slow' drips lines until the deadline cuts the stream", async () => {
    const k = await h.start(varLog, { journal: fakeJournal(['kubelet.service']), behavior: { dripIntervalMs: 20 }, deadlineMs: 200 });
    const r = await request(k.url, '/logs/?query=kubelet');
    expect(r.status).toBe(200);
    const lines = r.text.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(/^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} node-1 kubelet\[2291\]: /);
  });

  it("'huge' streams the synthetic journal with backpressure", async () => {
    const k = await h.start(varLog, { journal: fakeJournal(['kubelet.service']), behavior: { hugeBytes: 300_000 } });
    const r = await request(k.url, '/logs/?query=kubelet');
    expect(r.status).toBe(200);
    expect(r.body.length).toBeGreaterThanOrEqual(290_000);
    expect(r.text.split('\n')[0]).toMatch(/^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\.\d{6} /);
    expect(h.records.at(-1)?.bytes).toBe(r.body.length);
  });
});

describe('Windows', () => {
  const at = (s: string) => new Date(s);
  const events: WinEvent[] = [
    { timeCreated: at('2026-11-27T03:44:01Z'), id: 16384, level: 'Information', provider: 'Microsoft-Windows-Security-SPP', message: 'Successfully scheduled Software Protection service for re-start' },
    { timeCreated: at('2026-11-27T03:45:00Z'), id: 7, level: 'Warning', provider: 'containerd', message: 'health check failed' },
    { timeCreated: at('2026-11-27T15:46:02Z'), id: 900, level: 'Information', provider: 'Microsoft-Windows-Security-SPP', message: 'The Software Protection service is starting.' },
    { timeCreated: at('2026-11-27T16:00:00Z'), id: 902, level: 'Information', provider: 'Microsoft-Windows-Security-SPP', message: 'Health OK' },
  ];
  const win = { os: 'windows' as const, winEvents: events };

  it('renders Format-Table -AutoSize -Wrap grouped by provider, records script and env', async () => {
    const k = await h.start(varLog, win);
    const r = await request(k.url, '/logs/?query=Microsoft-Windows-Security-SPP&query=containerd');
    expect(r.status).toBe(200);
    const header = 'TimeCreated              Id LevelDisplayName Message\r\n-----------              -- ---------------- -------\r\n';
    expect(r.text).toBe(
      '\r\n   ProviderName: Microsoft-Windows-Security-SPP\r\n\r\n' + header +
        '11/27/2026 3:44:01 AM 16384 Information      Successfully scheduled Software Protection service for re-start\r\n' +
        '\r\n\r\n   ProviderName: containerd\r\n\r\n' + header +
        '11/27/2026 3:45:00 AM     7 Warning          health check failed\r\n' +
        '\r\n\r\n   ProviderName: Microsoft-Windows-Security-SPP\r\n\r\n' + header +
        '11/27/2026 3:46:02 PM   900 Information      The Software Protection service is starting.\r\n' +
        '11/27/2026 4:00:00 PM   902 Information      Health OK\r\n\r\n\r\n',
    );
    const rec = h.records.at(-1)!;
    expect(rec.powershell).toBe("Get-WinEvent -FilterHashtable @{LogName='Application'; ProviderName=$Env:kubelet_provider0,$Env:kubelet_provider1} | Sort-Object TimeCreated | Format-Table -AutoSize -Wrap");
    expect(rec.powershellEnv).toEqual({ kubelet_provider0: 'Microsoft-Windows-Security-SPP', kubelet_provider1: 'containerd' });
  });

  it('-MaxEvents keeps the newest N before the case-insensitive -Match filter', async () => {
    const k = await h.start(varLog, win);
    const r = await request(k.url, '/logs/?query=Microsoft-Windows-Security-SPP&tailLines=2&pattern=software&sinceTime=2026-11-27T00:00:00Z');
    expect(r.text).toContain('The Software Protection service is starting.');
    expect(r.text).not.toContain('Successfully scheduled');
    expect(r.text).not.toContain('Health OK');
    const rec = h.records.at(-1)!;
    expect(rec.powershell).toBe(
      "Get-WinEvent -FilterHashtable @{LogName='Application'; StartTime=\"$Env:kubelet_sinceTime\"; ProviderName=$Env:kubelet_provider0} -MaxEvents $Env:kubelet_tailLines | Sort-Object TimeCreated | Where-Object -Property Message -Match \"$Env:kubelet_pattern\" | Format-Table -AutoSize -Wrap",
    );
    expect(rec.powershellEnv).toEqual({ kubelet_sinceTime: '2026-11-27 0:0:0', kubelet_provider0: 'Microsoft-Windows-Security-SPP', kubelet_tailLines: '2', kubelet_pattern: 'software' });
  });

  it('rejects boot with 406', async () => {
    const k = await h.start(varLog, win);
    const r = await request(k.url, '/logs/?query=containerd&boot=0');
    expect(r.status).toBe(406);
    expect(r.text).toBe('boot: Invalid value: 0: boot is not supported on Windows\n');
  });

  it('non-providers use the file heuristics; backslash file queries become slash paths', async () => {
    const k = await h.start(varLog, win);
    expect((await request(k.url, '/logs/?query=kube-proxy')).text).toContain('proxy started');
    const f = await request(k.url, '/logs/?query=%5Ckube-proxy.log');
    expect(f.status).toBe(200);
    expect(f.text).toContain('proxy started');
  });
});

describe('configz, healthz, methods, garbage', () => {
  it('/configz reports the three log flags always and featureGates only when set', async () => {
    const a = JSON.parse((await request((await h.start(varLog)).url, '/configz')).text);
    expect(Object.keys(a)).toEqual(['kubeletconfig']);
    expect(a.kubeletconfig).toMatchObject({ enableDebuggingHandlers: true, enableSystemLogHandler: true, enableSystemLogQuery: true, staticPodPath: '/etc/kubernetes/manifests' });
    expect(a.kubeletconfig).not.toHaveProperty('featureGates');
    expect(a.kubeletconfig.authentication.webhook.enabled).toBe(true);
    const k = await h.start(varLog, { config: { ...ON, enableSystemLogQuery: false, featureGates: { NodeLogQuery: true } } });
    const b = JSON.parse((await request(k.url, '/configz')).text);
    expect(b.kubeletconfig.enableSystemLogQuery).toBe(false);
    expect(b.kubeletconfig.featureGates).toEqual({ NodeLogQuery: true });
  });

  it('/healthz is ok; unknown paths are 404', async () => {
    const k = await h.start(varLog);
    expect((await request(k.url, '/healthz')).text).toBe('ok');
    const r = await request(k.url, '/nope');
    expect(r.status).toBe(404);
    expect(r.text).toBe('404 page not found\n');
  });

  it('/logs routes are GET-only in every version: go-restful answers any other method first', async () => {
    for (const version of ['v1.36.1', 'v1.34.2', 'v1.29.3']) {
      const k = await h.start(varLog, { kubeletVersion: version, config: { ...ON, featureGates: { NodeLogQuery: true } }, journal: fakeJournal(['kubelet.service']) });
      for (const method of ['POST', 'PUT', 'HEAD']) {
        const p = await request(k.url, '/logs/?query=kubelet', { method });
        expect(p.status, `${version} ${method}`).toBe(405);
        expect(p.headers.allow).toBe('GET');
        if (method !== 'HEAD') expect(p.text).toBe('405: Method Not Allowed');
      }
    }
  });

  it('survives garbage: huge query strings, bad escapes, NUL', async () => {
    const k = await h.start(varLog, { journal: fakeJournal(['kubelet.service']) });
    const huge = await request(k.url, '/logs/?query=' + 'k'.repeat(200_000));
    expect(huge.status).toBe(406);
    expect(huge.text).toContain('length must be less than 100');
    expect((await request(k.url, '/logs/%zz')).status).toBe(400);
    const badQuery = await request(k.url, '/logs/?query=%zz');
    expect(badQuery.status).toBe(200); // Go drops the malformed pair: no query, so the listing
    expect(badQuery.text).toContain('<pre>');
    expect((await request(k.url, '/logs/a%00b')).status).toBe(500);
    const nul = await request(k.url, '/logs/?query=kube%00let');
    expect(nul.status).toBe(406);
    expect(nul.text).toBe('query: Invalid value: "kube\\x00let": input contains unsupported characters\n');
    expect((await request(k.url, '/logs/?' + '&'.repeat(20_000) + 'query=kubelet')).status).toBe(200);
    expect((await request(k.url, '/healthz')).text).toBe('ok');
  });
});

it('streams journal output read from a real Readable in order', async () => {
  const lines = Array.from({ length: 2000 }, (_, i) => `Nov 27 03:44:01.${String(i).padStart(6, '0')} node-1 kubelet[2291]: line ${i}\n`);
  const k = await h.start(varLog, { journal: fakeJournal(['kubelet.service'], () => ({ output: Readable.from(lines.map((l) => Buffer.from(l))), exited: Promise.resolve(0) })) });
  expect((await request(k.url, '/logs/?query=kubelet')).text).toBe(lines.join(''));
});

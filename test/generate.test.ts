import { describe, it, expect } from 'vitest';
import { generateNodeLogs, SECRET_KINDS } from '../src/sandbox/generate/node-logs.js';
import { generateWinEvents, generateWindowsVarLog } from '../src/sandbox/generate/windows.js';
import { hugeJournalStream } from '../src/sandbox/generate/huge.js';

const NOW = new Date('2026-11-27T03:44:00Z');
const nowUsec = BigInt(NOW.getTime()) * 1000n;
const worker = generateNodeLogs({ nodeName: 'worker-1', seed: 11, now: NOW });
const cp = generateNodeLogs({ nodeName: 'cp-1', seed: 11, now: NOW, role: 'control-plane' });
const messages = worker.journal.map((e) => e.message);
const allText = (g: typeof worker): string => g.journal.map((e) => e.message).join('\n') + [...g.varLog.values()].join('\n');

describe('generateNodeLogs', () => {
  it('is deterministic for the same inputs and differs for another seed', () => {
    const again = generateNodeLogs({ nodeName: 'worker-1', seed: 11, now: NOW });
    expect(again.journal).toEqual(worker.journal);
    expect([...again.varLog]).toEqual([...worker.varLog]);
    expect(again.plantedSecrets).toEqual(worker.plantedSecrets);
    expect(again.lookalikes).toEqual(worker.lookalikes);
    const other = generateNodeLogs({ nodeName: 'worker-1', seed: 12, now: NOW });
    expect(other.journal.map((e) => e.message)).not.toEqual(messages);
  });

  it('lays out sorted boots with restarting monotonic clocks, the current one ending just before now', () => {
    const j = worker.journal;
    for (let i = 1; i < j.length; i++) expect(j[i]!.realtimeUsec >= j[i - 1]!.realtimeUsec).toBe(true);
    const boots = [...new Set(j.map((e) => e.bootId))];
    expect(boots).toHaveLength(3);
    for (const b of boots) expect(b).toMatch(/^[0-9a-f]{32}$/);
    for (let i = 1; i < j.length; i++) {
      if (j[i]!.bootId !== j[i - 1]!.bootId) expect(j[i]!.monotonicUsec < j[i - 1]!.monotonicUsec).toBe(true);
    }
    const current = j.filter((e) => e.bootId === boots[2]);
    expect(current.length).toBeGreaterThanOrEqual(3000);
    expect(current.at(-1)!.realtimeUsec < nowUsec).toBe(true);
    expect(nowUsec - current.at(-1)!.realtimeUsec < 60_000_000n).toBe(true);
    expect(nowUsec - current[0]!.realtimeUsec > 2n * 3600n * 1_000_000n).toBe(true);
    expect(new Set(generateNodeLogs({ nodeName: 'n', seed: 1, now: NOW, boots: 1 }).journal.map((e) => e.bootId)).size).toBe(1);
    expect(new Set(generateNodeLogs({ nodeName: 'n', seed: 1, now: NOW, boots: 5 }).journal.map((e) => e.bootId)).size).toBe(5);
  });

  it('writes each unit in its real format', () => {
    const kubelet = worker.journal.filter((e) => e.unit === 'kubelet.service');
    expect(kubelet.length).toBeGreaterThan(500);
    for (const e of kubelet) {
      expect(e.identifier).toBe('kubelet');
      expect(e.message).toMatch(/^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.]+\.go:\d+\] /);
    }
    expect(kubelet.some((e) => /kubelet\.go:\d+\] "SyncLoop ADD" source="api" pods=\["kube-system\/kube-proxy-/.test(e.message))).toBe(true);
    const containerd = worker.journal.filter((e) => e.unit === 'containerd.service');
    for (const e of containerd) expect(e.message).toMatch(/^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z" level=(info|warning|error) msg="/);
    const kernel = worker.journal.filter((e) => e.identifier === 'kernel');
    expect(kernel.length).toBeGreaterThan(10);
    for (const e of kernel) {
      expect(e.unit).toBeUndefined();
      expect(e.pid).toBeUndefined();
    }
    const units = new Set(worker.journal.map((e) => e.unit));
    for (const u of ['kubelet.service', 'containerd.service', 'kube-proxy.service', 'ssh.service', 'init.scope']) expect(units.has(u)).toBe(true);
  });

  it('keeps every MESSAGE single-line valid UTF-8', () => {
    for (const m of messages) {
      expect(m).not.toMatch(/[\n\r]/);
      expect(Buffer.from(m, 'utf8').toString('utf8')).toBe(m);
    }
  });

  it('seeds the incidents into the current boot', () => {
    const current = worker.journal.filter((e) => e.bootId === worker.journal.at(-1)!.bootId).map((e) => e.message);
    const backoff = current.filter((m) => m.includes('Back-off restarting failed container'));
    expect(backoff.length).toBeGreaterThanOrEqual(5);
    expect(new Set(backoff.map((m) => /object="([^"]+)"/.exec(m)![1])).size).toBe(1);
    expect(current.some((m) => m.startsWith('Out of memory: Killed process 4242 (java)'))).toBe(true);
    expect(current.some((m) => m.includes('TaskOOM event'))).toBe(true);
    expect(current.some((m) => m.includes('reason="OOMKilled"'))).toBe(true);
    expect(current.some((m) => /x509: certificate has expired or is not yet valid: current time \S+ is after \S+/.test(m))).toBe(true);
    expect(current.filter((m) => m.includes('PLEG is not healthy')).length).toBeGreaterThanOrEqual(3);
    expect(current.some((m) => m.startsWith('W'))).toBe(true);
  });

  it('plants a secret of every class and lists only the secret value', () => {
    for (const g of [worker, cp]) {
      const kinds = new Set(g.plantedSecrets.map((s) => s.kind));
      for (const k of SECRET_KINDS) expect(kinds.has(k)).toBe(true);
      for (const s of g.plantedSecrets) {
        const haystack = s.source === 'journal' ? g.journal.map((e) => e.message).join('\n') : g.varLog.get(s.source)!;
        expect(haystack).toContain(s.value);
        expect(s.value).not.toMatch(/^(Bearer|Basic|password|token|api_key)\b/);
      }
    }
    const byKind = (k: string) => worker.plantedSecrets.filter((s) => s.kind === k).map((s) => s.value);
    expect(byKind('bearer')[0]).toMatch(/^ey[\w-]{15,}\.ey[\w-]{15,}\.[\w-]+$/);
    expect(byKind('aws-access-key-id')[0]).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(byKind('bootstrap-token')[0]).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(messages.some((m) => m.includes(`Authorization: Bearer ${byKind('bearer')[0]}`))).toBe(true);
    expect(messages.some((m) => m.includes(`"Basic ${byKind('basic-auth')[0]}"`))).toBe(true);
    expect(messages.some((m) => m.includes(`:${byKind('url-credentials')[0]}@registry.example.com`))).toBe(true);
    expect(messages.some((m) => m.includes(`password=${byKind('password-kv')[0]}`))).toBe(true);
    expect(messages.some((m) => m.includes(`token: ${byKind('token-kv')[0]}`))).toBe(true);
    expect(messages.some((m) => m.includes(`api_key=${byKind('api-key-kv')[0]}`))).toBe(true);
    expect(messages.some((m) => m.includes(`"password":"${byKind('json-password')[0]}"`))).toBe(true);
    expect(messages.some((m) => m.includes(`"auth":"${byKind('docker-auth')[0]}"`))).toBe(true);
    // The PEM block arrives as separate journal entries, one per line.
    const begin = messages.indexOf('-----BEGIN RSA PRIVATE KEY-----');
    const end = messages.indexOf('-----END RSA PRIVATE KEY-----');
    expect(begin).toBeGreaterThan(0);
    expect(messages.slice(begin + 1, end)).toEqual(byKind('private-key'));
  });

  it('lists look-alike negatives that appear in the logs and are not secrets', () => {
    const text = allText(worker);
    const secrets = new Set(worker.plantedSecrets.map((s) => s.value));
    expect(worker.lookalikes.some((l) => /^[0-9a-f]{64}$/.test(l))).toBe(true);
    expect(worker.lookalikes.some((l) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(l))).toBe(true);
    expect(worker.lookalikes.some((l) => /^sha256:[0-9a-f]{64}$/.test(l))).toBe(true);
    for (const l of worker.lookalikes) {
      expect(text).toContain(l);
      expect(secrets.has(l)).toBe(false);
    }
  });

  it('includes hostile text', () => {
    expect(messages.some((m) => m.includes('IGNORE ALL PREVIOUS INSTRUCTIONS') && m.includes('kubectl delete'))).toBe(true);
    expect(messages.some((m) => m.includes('</untrusted-node-log>'))).toBe(true);
    expect(messages.some((m) => m.includes('[server] tool result:'))).toBe(true);
    expect(messages.some((m) => /\x1b\[[0-9;]*m/.test(m))).toBe(true);
    expect(messages.some((m) => m.includes('\u202e'))).toBe(true);
    expect(messages.some((m) => m.includes('\u200b'))).toBe(true);
    expect(Math.max(...messages.map((m) => m.length))).toBeGreaterThanOrEqual(19_000);
    const podLogs = [...worker.varLog].filter(([p]) => p.startsWith('pods/')).map(([, c]) => c).join('');
    expect(podLogs).toContain('IGNORE ALL PREVIOUS INSTRUCTIONS');
    expect(podLogs).toContain('\x1b[31m');
  });

  it('fills /var/log by role, in the formats the files really have', () => {
    expect(worker.varLog.has('kube-apiserver.log')).toBe(false);
    const api = cp.varLog.get('kube-apiserver.log')!;
    expect(api.length).toBeGreaterThan(1_000_000);
    expect(api.length).toBeLessThan(2_100_000);
    for (const l of api.trimEnd().split('\n').slice(0, 200)) expect(l).toMatch(/^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.]+\.go:\d+\] /);
    expect(api).toContain('x509: certificate has expired or is not yet valid');
    expect(cp.varLog.get('etcd/etcd.log')!.split('\n')[0]).toMatch(/^\{"level":"\w+","ts":"/);
    for (const g of [worker, cp]) {
      // logrotate: the oldest third is syslog.2.gz, then syslog.1, then the live file.
      expect(g.varLog.get('syslog.2.gz')).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d [\w-]+ kernel: Linux version/);
      for (const f of ['syslog.1', 'syslog']) expect(g.varLog.get(f)).toMatch(/^\w{3} \d\d \d\d:\d\d:\d\d [\w-]+ /);
      for (const [link, target] of g.varLogLinks) {
        expect(link).toMatch(/^containers\/[a-z0-9-]+_[a-z0-9-]+_[a-z0-9-]+-[0-9a-f]{64}\.log$/);
        expect(g.varLog.has(target.replace(/^\.\.\//, ''))).toBe(true);
      }
      expect(g.varLog.has('kube-proxy.log')).toBe(true);
      const pods = [...g.varLog.keys()].filter((p) => p.startsWith('pods/'));
      expect(pods.length).toBeGreaterThan(5);
      for (const p of pods) {
        expect(p).toMatch(/^pods\/[a-z0-9-]+_[a-z0-9-]+_[0-9a-f-]+\/[a-z0-9-]+\/\d+\.log$/);
        for (const l of g.varLog.get(p)!.trimEnd().split('\n')) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] /);
      }
    }
  });
});

describe('Windows generators', () => {
  it('produces deterministic, sorted Application-log events from the expected providers', () => {
    const a = generateWinEvents({ nodeName: 'win-1', seed: 4, now: NOW });
    expect(generateWinEvents({ nodeName: 'win-1', seed: 4, now: NOW })).toEqual(a);
    expect(a).toHaveLength(400);
    expect(generateWinEvents({ nodeName: 'win-1', seed: 4, now: NOW, count: 12 })).toHaveLength(12);
    for (let i = 1; i < a.length; i++) expect(a[i]!.timeCreated >= a[i - 1]!.timeCreated).toBe(true);
    expect(a.at(-1)!.timeCreated < NOW).toBe(true);
    const providers = new Set(a.map((e) => e.provider));
    for (const p of ['Microsoft-Windows-Security-SPP', 'Application Error', 'containerd', 'kubelet', 'Microsoft-Windows-WMI']) expect(providers.has(p)).toBe(true);
    expect(new Set(a.map((e) => e.level))).toEqual(new Set(['Information', 'Warning', 'Error']));
  });

  it('writes kubelet and kube-proxy logs under C:\\var\\log', () => {
    const files = generateWindowsVarLog({ nodeName: 'win-1', seed: 4, now: NOW });
    expect([...files.keys()]).toEqual(expect.arrayContaining(['kubelet/kubelet.log', 'kube-proxy/kube-proxy.log']));
    expect(files.get('kubelet/kubelet.log')).toMatch(/^[IE]\d{4} /);
  });
});

describe('hugeJournalStream', () => {
  async function read(bytes: number, seed = 1, freshIds = false): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of hugeJournalStream({ bytes, seed, hostname: 'big-1', start: new Date('2026-11-20T00:00:00Z'), freshIds })) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('yields exactly the requested byte count of short-precise lines', async () => {
    for (const n of [0, 1, 41, 300, 4096, (1 << 20) + 17, 5_000_000]) {
      const buf = await read(n);
      expect(buf.length).toBe(n);
      if (n < 100) continue;
      expect(buf[buf.length - 1]).toBe(10);
      const text = buf.toString('utf8');
      expect(Buffer.byteLength(text)).toBe(n);
      for (const line of text.slice(0, -1).split('\n')) {
        expect(line).toMatch(/^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{6} big-1 [\w.-]+(\[\d+\])?: \S/);
      }
    }
  });

  it('is seeded and realistic', async () => {
    const a = await read(2_000_000, 9);
    expect((await read(2_000_000, 9)).equals(a)).toBe(true);
    expect((await read(2_000_000, 10)).equals(a)).toBe(false);
    const text = a.toString();
    expect(text).toMatch(/ big-1 kubelet\[\d+\]: I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ /);
    expect(text).toMatch(/ big-1 containerd\[\d+\]: time="2026-11-\d\dT/);
    expect(text).toMatch(/ big-1 kernel: /);
    const stamps = text.split('\n').filter(Boolean).map((l) => l.slice(0, 22));
    expect([...stamps].sort()).toEqual(stamps);
  });

  it('with freshIds gives each line its own ids and numbers, and is otherwise the same stream', async () => {
    const plain = (await read(3_000_000, 5)).toString().split('\n');
    const fresh = (await read(3_000_000, 5, true)).toString().split('\n');
    expect(fresh.length).toBe(plain.length);
    const hex64 = (lines: string[]): string[] => lines.flatMap((l) => l.match(/\b[0-9a-f]{64}\b/g) ?? []);
    const uuids = (lines: string[]): string[] => lines.flatMap((l) => l.match(/\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b/g) ?? []);
    let changed = 0;
    for (let i = 0; i < plain.length; i++) {
      const [a, b] = [plain[i]!, fresh[i]!];
      // Same time, program and length; only the drawn parts differ, and they keep their shape.
      expect(b.length).toBe(a.length);
      expect(b.slice(0, 40)).toBe(a.slice(0, 40));
      expect(b.replace(/[\w-]/g, '.')).toBe(a.replace(/[\w-]/g, '.'));
      if (a !== b) changed++;
    }
    expect(changed).toBeGreaterThan(plain.length * 0.9);
    // The plain stream reuses a few dozen bodies per template; fresh ids do not repeat.
    const [ph, fh] = [hex64(plain), hex64(fresh)];
    expect(fh.length).toBe(ph.length);
    expect(new Set(ph).size).toBeLessThan(ph.length / 10);
    expect(new Set(fh).size).toBe(fh.length);
    const [pu, fu] = [uuids(plain), uuids(fresh)];
    expect(fu.length).toBe(pu.length);
    expect(new Set(fu).size).toBe(fu.length);
    expect(fresh.join('\n')).toMatch(/http:\/\/10\.244\.\d\.\d{1,3}:8080\/healthz/);
  });

  it('stops when destroyed', async () => {
    const s = hugeJournalStream({ bytes: 10_000_000_000, seed: 2 });
    let got = 0;
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got > 3_000_000) s.destroy();
    });
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    expect(got).toBeGreaterThan(3_000_000);
    expect(got).toBeLessThan(10_000_000);
    expect(s.destroyed).toBe(true);
  });
});

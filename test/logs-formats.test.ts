import { afterEach, describe, expect, it } from 'vitest';
import { Header, scanHeader, setNowForTests } from '../src/logs/header.js';
import { maskVariables } from '../src/logs/mask.js';
import { digestLines, type LogDigest } from '../src/logs/pipeline.js';
import { MAX_RECORD_CHARS, MAX_RECORD_LINES } from '../src/logs/records.js';
import { detectSeverity, NODE_TROUBLE_LEXICON, troubleTerm } from '../src/logs/severity.js';
import { loadFormats, scoreFormat } from '../bench/ga.js';

const h = new Header();
function head(line: string) {
  scanHeader(line, h, 2026);
  return {
    time: Number.isNaN(h.time) ? undefined : new Date(h.time).toISOString(),
    ident: h.ident,
    level: h.level,
    message: h.message(line),
  };
}

/** Records of a digest: template text → exemplar of its first record and count. */
function digest(lines: string[]): LogDigest {
  return digestLines(lines, { maxBytes: 1e9, yearHint: 2026, exemplarsPerTemplate: 1 });
}

afterEach(() => setNowForTests(undefined));

describe('header recognition, per format, without being told the format', () => {
  it.each([
    // journald short-precise and RFC 3164 syslog: host stripped, identifier kept
    ['Nov 27 03:44:01.123456 node-a kubelet[2291]: I1127 03:44:01.123456    2291 kubelet.go:2455] "SyncLoop ADD"', '2026-11-27T03:44:01.123Z', 'kubelet', 'info', '"SyncLoop ADD"'],
    ['Nov  7 03:44:01 node-a sshd[812]: Accepted publickey for root', '2026-11-07T03:44:01.000Z', 'sshd', undefined, 'Accepted publickey for root'],
    // Ubuntu 24.04 rsyslog RFC 3339 header: the hostname must not reach the template
    ['2024-05-01T10:00:00.123456+02:00 ubuntu-node-2 systemd[1]: Started motd-news.service.', '2024-05-01T08:00:00.123Z', 'systemd', undefined, 'Started motd-news.service.'],
    // kern.log with the printk uptime stamp
    ['Nov 27 03:44:01 node-a kernel: [  123.456789] eth0: link up', '2026-11-27T03:44:01.000Z', 'kernel', undefined, 'eth0: link up'],
    // containerd logfmt inside the journal
    ['Nov 27 03:44:01.1 n containerd[9]: time="2026-11-27T03:44:01.5Z" level=warning msg="slow"', '2026-11-27T03:44:01.100Z', 'containerd', 'warning', 'msg="slow"'],
    // klog file
    ['E1127 03:44:01.123456       1 authentication.go:73] "Unable to authenticate"', '2026-11-27T03:44:01.123Z', undefined, 'error', '"Unable to authenticate"'],
    // cloud-init: "- file.py[LEVEL]: "
    ['2026-11-27 03:44:01,123 - util.py[WARNING]: Running module ssh failed', '2026-11-27T03:44:01.123Z', 'util.py', 'warning', 'Running module ssh failed'],
    // dpkg: time, then the message
    ['2026-11-27 03:44:07 status installed libc6:amd64 2.36-9', '2026-11-27T03:44:07.000Z', undefined, undefined, 'status installed libc6:amd64 2.36-9'],
    // nginx error_log: yyyy/mm/dd, [level], pid#tid:
    ['2026/11/27 03:44:08 [error] 31#31: *5 connect() failed', '2026-11-27T03:44:08.000Z', undefined, 'error', '*5 connect() failed'],
    // logback / Spring Boot: thread, level, logger kept as the identifier
    ['2026-11-27 03:44:01.123 [main] INFO  c.e.inventory.StockConsumer - Processed 3 records', '2026-11-27T03:44:01.123Z', 'c.e.inventory.StockConsumer', 'info', 'Processed 3 records'],
    ['2026-11-27 03:44:01.123  WARN 1 --- [           main] o.s.b.App                 : Slow start', '2026-11-27T03:44:01.123Z', 'o.s.b.App', 'warning', 'Slow start'],
    // Python logging layouts
    ['2026-11-27 03:44:01,123 - app.worker - ERROR - Job 12 failed', '2026-11-27T03:44:01.123Z', 'app.worker', 'error', 'Job 12 failed'],
    ['INFO:root:hello there', undefined, 'root', 'info', 'hello there'],
    // Apache [Day Mon dd hh:mm:ss yyyy] [level]
    ['[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok', '2005-12-04T04:47:44.000Z', undefined, 'info', 'workerEnv.init() ok'],
    // Windows Format-Table row: M/d/yyyy h:mm:ss tt, event id, level
    ['11/27/2026 3:44:01 PM      7036 Information      The Windows Update service entered the running state.', '2026-11-27T15:44:01.000Z', undefined, 'info', 'The Windows Update service entered the running state.'],
    // yy-mm-dd and yy/mm/dd, epoch seconds, Android mm-dd with pid/tid and a one-letter level
    ['26-11-27 03:44:01,250 INFO worker started', '2026-11-27T03:44:01.250Z', undefined, 'info', 'worker started'],
    ['26/11/27 03:44:01 WARN scheduler.TaskSetManager: Lost task 1.0', '2026-11-27T03:44:01.000Z', 'scheduler.TaskSetManager', 'warning', 'Lost task 1.0'],
    ['1795830241 node-7 kernel: eth0 down', '2026-11-28T01:44:01.000Z', 'kernel', undefined, 'eth0 down'],
    ['11-27 03:44:01.811  1702  2395 D WindowManager: freezing display', '2026-11-27T03:44:01.811Z', 'WindowManager', 'debug', 'freezing display'],
    // RFC 5424 with PRI, version, app name and structured data
    ['<13>1 2026-11-27T03:44:01.123Z host app 1234 ID47 [exampleSDID@32473 iut="3"] message text', '2026-11-27T03:44:01.123Z', 'app', undefined, 'message text'],
    // go-kit logfmt: ts, caller, level
    ['ts=2026-11-27T03:44:01.123Z caller=main.go:12 level=warn msg="slow"', '2026-11-27T03:44:01.123Z', undefined, 'warning', 'msg="slow"'],
  ])('%s', (line, time, ident, level, message) => {
    expect(head(line)).toEqual({ time, ident, level, message });
  });

  it('reads CRI container lines: the CRI time and stream, then the container\'s own header', () => {
    const line = '2026-11-27T03:44:01.123456789Z stdout F 2026-11-27 03:40:00,000 ERROR [worker-1] indexer.jobs: shard 3 failed';
    scanHeader(line, h, 2026);
    expect(new Date(h.time).toISOString()).toBe('2026-11-27T03:44:01.123Z');
    expect(h.stream).toBe(1);
    expect(h.partial).toBe(false);
    expect(h.level).toBe('error');
    expect(h.ident).toBe('indexer.jobs');
    expect(h.message(line)).toBe('shard 3 failed');
  });

  it('reads JSON lines: message, level and time from their fields', () => {
    const zap = '{"level":"warn","ts":"2026-11-27T03:44:05.123Z","caller":"etcdserver/util.go:170","msg":"apply request took too long","took":"123ms"}';
    expect(head(zap)).toEqual({ time: '2026-11-27T03:44:05.123Z', ident: undefined, level: 'warning', message: 'apply request took too long' });
    const docker = '{"log":"2026/11/27 03:44:05 [ warn] retrying\\n","stream":"stderr","time":"2026-11-27T03:44:06.5Z"}';
    expect(head(docker)).toMatchObject({ time: '2026-11-27T03:44:06.500Z', level: 'warning', message: 'retrying' });
    expect(h.stream).toBe(2);
    const pino = '{"level":50,"time":1795830241000,"name":"api","msg":"boom"}';
    expect(head(pino)).toEqual({ time: '2026-11-28T01:44:01.000Z', ident: 'api', level: 'error', message: 'boom' });
    // No message field: the fields, key=value
    expect(head('{"ts":"2026-11-27T03:44:05Z","event":"resize","disk":"sda","from":10,"to":20}').message).toBe('event=resize disk=sda from=10 to=20');
  });

  it('leaves unheaded prose alone', () => {
    expect(head('Error opening file /etc/x: permission denied')).toMatchObject({ ident: undefined, level: undefined, message: 'Error opening file /etc/x: permission denied' });
    expect(head('hello world').message).toBe('hello world');
  });

  it('rolls yearless dates more than a day ahead of now back a year', () => {
    // A December line read on January 2nd: the year taken from the clock (2027) would put it ahead.
    setNowForTests(Date.UTC(2027, 0, 2, 12));
    const at = (line: string) => {
      scanHeader(line, h, 2027);
      return new Date(h.time).toISOString();
    };
    expect(at('Dec 31 23:59:00 n sshd[1]: x')).toBe('2026-12-31T23:59:00.000Z');
    expect(at('Jan  3 10:00:00 n sshd[1]: x')).toBe('2027-01-03T10:00:00.000Z'); // within a day: kept
    expect(at('Jan  4 12:00:01 n sshd[1]: x')).toBe('2026-01-04T12:00:01.000Z');
    expect(at('E1231 23:59:00.000001    1 x.go:1] x')).toBe('2026-12-31T23:59:00.000Z');
    expect(at('12-31 23:59:00.000  1  2 I Tag: android')).toBe('2026-12-31T23:59:00.000Z');
    // Dates with a year are never moved.
    expect(at('2027-12-31T00:00:00Z x')).toBe('2027-12-31T00:00:00.000Z');
  });
});

describe('record assembly', () => {
  it('joins a Go panic with its goroutine dump (journal lines, one entry per line)', () => {
    const j = (m: string) => `Nov 27 03:44:01.000001 n kubelet[2291]: ${m}`;
    const d = digest([
      j('I1127 03:44:00.000001    2291 kubelet.go:1] "ok"'),
      j('panic: assignment to entry in nil map'),
      j(''),
      j('goroutine 512 [running]:'),
      j('k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncPod(0xc000123, {0x1, 0xc0002})'),
      j('\t/workspace/pkg/kubelet/kubelet.go:1712 +0x1d'),
      j('created by k8s.io/kubernetes/pkg/kubelet.(*podWorkers).UpdatePod in goroutine 220'),
      j('\t/workspace/pkg/kubelet/pod_workers.go:951 +0x2a5'),
      'Nov 27 03:44:01.000002 n systemd[1]: kubelet.service: Main process exited, code=exited, status=2/INVALIDARGUMENT',
    ]);
    expect(d.recordsScanned).toBe(3);
    const p = d.templates.find((t) => t.template.includes('panic:'))!;
    expect(p.template).toBe('kubelet: panic: assignment to entry in nil map');
    expect(p.exemplars[0]!.split('\n')).toHaveLength(7);
    expect(p.severity).toBe('fatal');
    expect(d.templates.find((t) => t.template.includes('Main process exited'))!.severity).toBe('warning');
  });

  it('joins a Java trace (\\tat, Caused by, … N more) to the error line that logged it', () => {
    const d = digest([
      '2026-11-27 03:44:01.123 [main] ERROR c.e.App - Request failed',
      'java.lang.IllegalStateException: boom',
      '\tat com.example.App.handle(App.java:42)',
      'Caused by: java.io.IOException: nope',
      '\tat com.example.Io.read(Io.java:7)',
      '\t... 2 more',
      '2026-11-27 03:44:02.123 [main] INFO  c.e.App - Next request',
    ]);
    expect(d.recordsScanned).toBe(2);
    const e = d.templates.find((t) => t.severity === 'error')!;
    expect(e.template).toBe('c.e.App: Request failed');
    expect(e.exemplars[0]).toContain('Caused by: java.io.IOException: nope');
    expect(e.exemplars[0]).toContain('\t... 2 more');
  });

  it('joins a Python traceback; a bare one is templated on its exception', () => {
    const d = digest([
      '2026-11-27 03:44:01,000 - app - ERROR - job failed',
      'Traceback (most recent call last):',
      '  File "/app/x.py", line 3, in <module>',
      '    main()',
      'ValueError: bad input',
      'Traceback (most recent call last):',
      '  File "/app/y.py", line 9, in run',
      "KeyError: 'CONFIG_PATH'",
      'plain line after',
    ]);
    expect(d.recordsScanned).toBe(3);
    expect(d.templates.map((t) => t.template).sort()).toEqual(["Traceback: KeyError: 'CONFIG_PATH'", 'app: job failed', 'plain line after']);
    expect(d.templates.find((t) => t.template === 'app: job failed')!.exemplars[0]).toContain('ValueError: bad input');
  });

  it('joins CRI partials (P) with their end (F) on the same stream, and keeps streams apart', () => {
    const d = digest([
      '2026-11-27T03:44:01.000000001Z stdout P {"msg":"long ',
      '2026-11-27T03:44:01.000000002Z stderr F unrelated stderr line',
      '2026-11-27T03:44:01.000000003Z stdout P line split ',
      '2026-11-27T03:44:01.000000004Z stdout F by the runtime"}',
    ]);
    // The stderr line does not belong to the stdout partial: it breaks the chain (the runtime writes the
    // parts of one line back to back per stream; an interleaved line means a new record).
    expect(d.templates.some((t) => t.template.startsWith('stderr'))).toBe(true);
    const d2 = digest([
      '2026-11-27T03:44:01.000000001Z stdout P {"msg":"long ',
      '2026-11-27T03:44:01.000000003Z stdout P line split ',
      '2026-11-27T03:44:01.000000004Z stdout F by the runtime"}',
    ]);
    expect(d2.recordsScanned).toBe(1);
    expect(d2.templates[0]!.template).toBe('stdout {"msg":"long line split by the runtime"}');
    expect(d2.templates[0]!.exemplars[0]).toBe('2026-11-27T03:44:01.000000001Z stdout P {"msg":"long line split by the runtime"}');
    expect(d2.firstTime).toBe('2026-11-27T03:44:01.000Z');
  });

  it('joins indented journal continuations and Windows Format-Table wraps, templated with the head', () => {
    const d = digest([
      '11/27/2026 3:44:01 AM      7036 Information      The WinHTTP Web Proxy Auto-Discovery Service service entered',
      '                                                 the running state.',
      '11/27/2026 3:44:05 AM      7036 Information      The WinHTTP Web Proxy Auto-Discovery Service service entered the',
      '                                                 stopped state.',
    ]);
    expect(d.recordsScanned).toBe(2);
    expect(d.templates).toHaveLength(1);
    expect(d.templates[0]!.template).toBe('The WinHTTP Web Proxy Auto-Discovery Service service entered the <*> state.');
  });

  it('never joins ordinary lines, however they look', () => {
    const lines = [
      'Nov 27 03:44:01 n kubelet[1]: I1127 03:44:01.000000    1 a.go:1] "a"',
      'Nov 27 03:44:01 n kubelet[1]: I1127 03:44:01.000000    1 a.go:1] "b"',
      'Nov 27 03:44:01 n containerd[2]: time="2026-11-27T03:44:01Z" level=info msg="c"',
      'plain text',
      'java.lang.IllegalStateException: after an info line it is its own record',
      'Caused by: but a cause always continues',
    ];
    const d = digest(lines);
    expect(d.recordsScanned).toBe(5);
  });

  it('bounds a record by lines and by characters', () => {
    const frames = Array.from({ length: MAX_RECORD_LINES + 50 }, (_, i) => `\tat com.example.F${i}.run(F.java:${i})`);
    const d = digest(['Exception in thread "main" java.lang.RuntimeException: deep', ...frames]);
    expect(d.recordsScanned).toBe(2);
    expect(d.linesScanned).toBe(MAX_RECORD_LINES + 51);
    const longFrames = Array.from({ length: 150 }, (_, i) => `\tat com.example.${'x'.repeat(150)}${i}.run(F.java:${i})`);
    const d2 = digest(['Exception in thread "main" java.lang.RuntimeException: wide', ...longFrames]);
    expect(d2.recordsScanned).toBe(1);
    const ex = d2.templates[0]!.exemplars[0]!;
    expect(ex.length).toBeLessThanOrEqual(MAX_RECORD_CHARS + 100);
    expect(ex).toMatch(/…\[record cut: 151 lines in all\]$/);
  });
});

describe('masks', () => {
  it.each([
    ['backup at 03:00:00 done', 'backup at <TIME> done'],
    ['ratio 1:2:3 and addr fe80::1 and [2001:db8::5]:443', 'ratio <NUM>:<NUM>:<NUM> and addr <IP> and [<IP>]:<NUM>'],
    ['connect to etcd-0.etcd.kube-system.svc:2379 failed', 'connect to <ADDR> failed'],
    ['took 1.5s then 250ms then 2h45m0s', 'took <DUR> then <DUR> then <DUR>'],
    ['wrote 512KiB of 4.5GB (93%) and 1234 bytes', 'wrote <NUM> of <NUM> (<NUM>) and <NUM> bytes'],
    ['open /proc/12345/status and /var/log/pods/ns_pod_1/app/0.log', 'open /proc/<NUM>/status and /var/log/pods/ns_pod_<NUM>/app/<NUM>.log'],
    ['upgrade libc6:amd64 2.36-9+deb12u4 1:2.3.4-1ubuntu2', 'upgrade libc6:amd64 <VER> <VER>'],
    ['nginx *5 connect() and #12 retry', 'nginx <NUM> connect() and <NUM> retry'],
  ])('%s', (input, expected) => {
    expect(maskVariables(input)).toBe(expected);
  });

  it('shows the value instead of the placeholder when every member had the same one', () => {
    const d = digest([
      'Nov 27 03:44:01 n kubelet[1]: container app exited exitCode=137 after 10s',
      'Nov 27 03:44:02 n kubelet[1]: container app exited exitCode=137 after 25s',
      'Nov 27 03:44:03 n kubelet[1]: container app exited exitCode=137 after 3s',
    ]);
    expect(d.templates[0]!.template).toBe('kubelet: container app exited exitCode=137 after <DUR>');
  });
});

describe('severity', () => {
  it('strips ANSI colour before reading the level', () => {
    const d = digest(['2026-11-27T03:44:01.000000001Z stdout F \x1b[31mFATAL\x1b[0m java.lang.OutOfMemoryError: Java heap space']);
    expect(d.templates[0]!.severity).toBe('fatal');
    expect(d.templates[0]!.exemplars[0]).not.toContain('\x1b');
  });

  it.each(NODE_TROUBLE_LEXICON.map((e) => [e.term, e.severity]))('lexicon term %s lifts an info line to %s', (term, severity) => {
    expect(troubleTerm(`something ${term} happened`)?.term).toBe(term);
    expect(detectSeverity(`something ${term} happened`, 'info')).toBe(severity);
    // Never lowers: an error stays an error.
    expect(detectSeverity(`something ${term} happened`, 'fatal')).toBe('fatal');
  });

  it.each(NODE_TROUBLE_LEXICON.map((e) => [e.term, e.severity]))('the pipeline finds %s in its one pass over the message (→ %s)', (term, severity) => {
    const d = digest([`I1127 03:44:01.000001    1 x.go:1] "something" detail="a ${term} b"`]);
    expect(d.templates[0]!.severity).toBe(severity);
    const plain = digest([`I1127 03:44:01.000001    1 x.go:1] "nothing to see" detail="a ${term.slice(0, -1)}_ b"`]);
    expect(plain.templates[0]!.severity).toBe('info');
  });

  it('lifts real node lines that their writers log at info', () => {
    const d = digest([
      'Nov 27 03:44:01.1 n kubelet[1]: I1127 03:44:01.100000    1 eviction_manager.go:369] "Eviction manager: attempting to reclaim" resourceName="memory"',
      'Nov 27 03:44:01.2 n kubelet[1]: I1127 03:44:01.200000    1 kubelet.go:2429] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m1s ago"',
      'Nov 27 03:44:01.3 n systemd[1]: kubelet.service: Scheduled restart job, restart counter is at 5.',
      'Nov 27 03:44:01.4 n kernel: Memory cgroup out of memory: Killed process 4242 (java)',
    ]);
    expect(d.templates.map((t) => t.severity).sort()).toEqual(['error', 'warning', 'warning', 'warning']);
  });
});

describe('grouping accuracy on the labelled multi-format fixture', () => {
  const files = loadFormats();

  it('covers at least 12 formats and 4000 lines, with multi-line records', () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
    expect(files.reduce((n, f) => n + f.lines.length, 0)).toBeGreaterThanOrEqual(4000);
    expect(files.some((f) => f.lines.some((l) => l.includes('\tat ')))).toBe(true);
  });

  it('reaches GA ≥ 0.75 on every format and ≥ 0.9 on average, on raw lines with their headers', () => {
    const scores = files.map((f) => [f.name, scoreFormat(f).ga] as const);
    for (const [name, ga] of scores) expect(ga, name).toBeGreaterThanOrEqual(0.75);
    expect(scores.reduce((a, [, ga]) => a + ga, 0) / scores.length).toBeGreaterThanOrEqual(0.9);
  });
});

describe('a line cut inside its timestamp', () => {
  it('is not read as a header with an empty message (digits past the end of the line are no digits)', () => {
    for (const line of ['Nov 30 13:36:0', '2026-11-30T13:30:3', 'E1130 13:50:2']) {
      const h = new Header();
      scanHeader(line, h, 2026);
      expect(h.message(line), line).toBe(line);
      expect(h.found, line).toBe(false);
    }
  });
});

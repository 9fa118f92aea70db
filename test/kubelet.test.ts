import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeJournal, Harness, makeVarLog, ON, request } from './kubelet-helpers.js';

const h = new Harness();
let varLog: string;
let url: string;
let journal: ReturnType<typeof fakeJournal>;

beforeAll(async () => {
  varLog = makeVarLog();
  fs.writeFileSync(path.join(varLog, 'a b?&.log'), 'x');
  journal = fakeJournal(['kubelet.service', 'containerd.service', 'mykubelet2.service', 'docker.socket'], (args) => ({
    output: Readable.from([Buffer.from(`Nov 27 03:44:01.000001 node-1 kubelet[2291]: argv=${args.join('|')}\n`)]),
    exited: Promise.resolve(0),
  }));
  url = (await h.start(varLog, { journal })).url;
});
afterAll(async () => {
  await h.closeAll();
  fs.rmSync(varLog, { recursive: true, force: true });
});

const LISTING_HEAD = '<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n';

describe('gating', () => {
  it('405 "Debug endpoints are disabled." when debugging handlers are off', async () => {
    const k = await h.start(varLog, { config: { ...ON, enableDebuggingHandlers: false } });
    const r = await request(k.url, '/logs/?query=kubelet');
    expect(r.status).toBe(405);
    expect(r.text).toBe('Debug endpoints are disabled.\n');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('405 "logs endpoint is disabled." when the system log handler is off', async () => {
    const k = await h.start(varLog, { config: { ...ON, enableSystemLogHandler: false } });
    const r = await request(k.url, '/logs/');
    expect(r.status).toBe(405);
    expect(r.text).toBe('logs endpoint is disabled.\n');
  });

  it.each([
    ['enableSystemLogQuery false', 'v1.36.0', { ...ON, enableSystemLogQuery: false }],
    ['v1.30 without the gate', 'v1.30.2', ON],
    ['v1.26 (no gate at all)', 'v1.26.5', { ...ON, featureGates: { NodeLogQuery: true } }],
  ])('query mode off (%s): ?query= is ignored and the /var/log listing comes back', async (_n, version, config) => {
    const k = await h.start(varLog, { kubeletVersion: version, config, journal });
    const r = await request(k.url, '/logs/?query=kubelet');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.text.startsWith(LISTING_HEAD)).toBe(true);
  });

  it.each([
    ['v1.30 with NodeLogQuery=true', 'v1.30.2', { NodeLogQuery: true }],
    ['v1.31 with AllBeta', 'v1.31.0', { AllBeta: true }],
    ['v1.36 (gate locked on)', 'v1.36.0', {}],
  ])('query mode on (%s)', async (_n, version, featureGates) => {
    const k = await h.start(varLog, { kubeletVersion: version, config: { ...ON, featureGates }, journal });
    const r = await request(k.url, '/logs/?query=kubelet');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain;charset=UTF-8');
    expect(r.text).toContain('argv=--utc|--no-pager|--output=short-precise|--unit=kubelet');
  });

  it('/logs without the slash redirects to /logs/ keeping the query', async () => {
    const r = await request(url, '/logs?query=kubelet');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('/logs/?query=kubelet');
  });
});

describe('FileServer', () => {
  it('lists /var/log exactly like Go: sorted, dirs with a slash, escaped hrefs', async () => {
    const r = await request(url, '/logs/');
    expect(r.status).toBe(200);
    expect(r.headers['last-modified']).toMatch(/GMT$/);
    expect(r.text).toBe(
      LISTING_HEAD +
        '<a href="a%20b%3F&.log">a b?&amp;.log</a>\n' +
        '<a href="containers/">containers/</a>\n' +
        '<a href="kube-proxy.log">kube-proxy.log</a>\n' +
        '<a href="pods/">pods/</a>\n' +
        '<a href="range.log">range.log</a>\n' +
        '</pre>\n',
    );
  });

  it('nil query falls through to the FileServer: no params, unknown params, blank options', async () => {
    for (const p of ['/logs/?unknown=1', '/logs/?sinceTime=', '/logs/?tailLines=&pattern=']) {
      const r = await request(url, p);
      expect(r.status, p).toBe(200);
      expect(r.text.startsWith(LISTING_HEAD), p).toBe(true);
    }
    const f = await request(url, '/logs/kube-proxy.log');
    expect(f.text).toBe('I1127 03:44:01.000000 1 proxier.go:1] proxy started\n');
  });

  it('redirects a directory without its slash, 404s what is missing', async () => {
    const d = await request(url, '/logs/pods?x=1');
    expect(d.status).toBe(301);
    expect(d.headers.location).toBe('pods/?x=1');
    const m = await request(url, '/logs/nothing.log');
    expect(m.status).toBe(404);
    expect(m.text).toBe('404 page not found\n');
  });

  it('serves a file query with Content-Length, Last-Modified, Accept-Ranges and a sniffed text type', async () => {
    const r = await request(url, '/logs/?query=/range.log');
    expect(r.status).toBe(200);
    expect(r.text).toBe('0123456789');
    expect(r.headers['content-length']).toBe('10');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['last-modified']).toMatch(/GMT$/);
    expect(r.headers['content-encoding']).toBeUndefined();
  });

  it.each([
    ['bytes=2-4', '234', 'bytes 2-4/10'],
    ['bytes=-3', '789', 'bytes 7-9/10'],
    ['bytes=6-', '6789', 'bytes 6-9/10'],
    ['bytes=8-100', '89', 'bytes 8-9/10'],
  ])('Range %s → 206', async (range, body, contentRange) => {
    const r = await request(url, '/logs/?query=/range.log', { headers: { Range: range } });
    expect(r.status).toBe(206);
    expect(r.text).toBe(body);
    expect(r.headers['content-range']).toBe(contentRange);
    expect(r.headers['content-length']).toBe(String(body.length));
  });

  it('unsatisfiable range → 416 with bytes */size', async () => {
    const r = await request(url, '/logs/?query=/range.log', { headers: { Range: 'bytes=10-' } });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */10');
    expect(r.text).toBe('invalid range: failed to overlap\n');
  });
});

describe('400 parse errors', () => {
  it.each([
    ['/logs/?query', 'query: Invalid value: []string{""}: query cannot be empty'],
    ['/logs/?query=&query=', 'query: Invalid value: []string{"", ""}: query cannot be empty'],
    ['/logs/?query=%20%20&query=%20', 'query: Invalid value: []string{"  ", " "}: query cannot be empty'],
    ['/logs/?query=kubelet&sinceTime=2019-12-04%2002:00:00', 'sinceTime: Invalid value: "2019-12-04 02:00:00": invalid time format'],
    ['/logs/?query=kubelet&untilTime=2019-12-04T02:00:00', 'untilTime: Invalid value: "2019-12-04T02:00:00": invalid time format'],
    ['/logs/?query=kubelet&tailLines=foo', 'tailLines: Invalid value: "foo": strconv.Atoi: parsing "foo": invalid syntax'],
    ['/logs/?query=kubelet&tailLines=%20', 'tailLines: Invalid value: " ": strconv.Atoi: parsing " ": invalid syntax'],
    ['/logs/?query=kubelet&boot=foo', 'boot: Invalid value: "foo": strconv.Atoi: parsing "foo": invalid syntax'],
    [
      '/logs/?query&tailLines=x&boot=y&untilTime=u&sinceTime=s',
      '[query: Invalid value: []string{""}: query cannot be empty, sinceTime: Invalid value: "s": invalid time format, ' +
        'untilTime: Invalid value: "u": invalid time format, boot: Invalid value: "y": strconv.Atoi: parsing "y": invalid syntax, ' +
        'tailLines: Invalid value: "x": strconv.Atoi: parsing "x": invalid syntax]',
    ],
  ])('%s', async (p, msg) => {
    const r = await request(url, p);
    expect(r.status).toBe(400);
    expect(r.text).toBe(msg + '\n');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
  });
});

describe('406 path and validation', () => {
  it('a path next to a query → "path not allowed in query mode"', async () => {
    const r = await request(url, '/logs/kube-proxy.log?query=kubelet');
    expect(r.status).toBe(406);
    expect(r.text).toBe('path not allowed in query mode\n');
  });

  const long = 'a'.repeat(257);
  it.each([
    [`/logs/?query=${long}`, `query: Invalid value: "${long}": length must be less than 100`],
    ['/logs/?query=svc%0A', 'query: Invalid value: "svc\\n": input contains unsupported characters'],
    ['/logs/?query=%20kubelet', 'query: Invalid value: " kubelet": input contains unsupported characters'],
    ['/logs/?query=a&query=b&query=c&query=d&query=e', 'query: Too many: 5: must have at most 4 items'],
    ['/logs/?tailLines=5', 'query: Required value: cannot be empty with options'],
    ['/logs/?query=/a&query=svc', 'query: Invalid value: "[/a], [svc]": cannot specify a file and service'],
    ['/logs/?query=/a&query=%5Cb', 'query: Invalid value: []string{"/a", "\\\\b"}: cannot specify more than one file'],
    ['/logs/?query=/kube-proxy.log&tailLines=1', 'query: Invalid value: []string{"/kube-proxy.log"}: cannot specify file with options'],
    ['/logs/?query=/var/log/kubelet.log', 'query: Invalid value: []string{"/var/log/kubelet.log"}: stat /var/log/var/log/kubelet.log: no such file or directory'],
    [
      '/logs/?query=kubelet&sinceTime=2023-02-04T02:00:00Z&untilTime=2023-01-04T02:00:00Z',
      'untilTime: Invalid value: 2023-01-04 02:00:00 +0000 UTC: must be after `sinceTime`',
    ],
    [
      '/logs/?query=kubelet&sinceTime=2023-02-04T02:00:00Z&untilTime=2023-01-04T02:00:00.5%2B02:00',
      'untilTime: Invalid value: 2023-01-04 02:00:00.5 +0200 +0200: must be after `sinceTime`',
    ],
    ['/logs/?query=kubelet&boot=1', 'boot: Invalid value: 1: must be less than 1'],
    ['/logs/?query=kubelet&tailLines=100001', 'tailLines: Invalid value: 100001: must be between 0 and 100000, inclusive'],
    ['/logs/?query=kubelet&tailLines=-1', 'tailLines: Invalid value: -1: must be between 0 and 100000, inclusive'],
    ['/logs/?query=kubelet&pattern=foo%5C', 'pattern: Invalid value: "foo\\\\": error parsing regexp: trailing backslash at end of expression: ``'],
    ['/logs/?query=kubelet&pattern=(%3F%3Dx)', 'pattern: Invalid value: "(?=x)": error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['/logs/?query=kubelet&pattern=a**', 'pattern: Invalid value: "a**": error parsing regexp: invalid nested repetition operator: `**`'],
  ])('%s', async (p, msg) => {
    const r = await request(url, p);
    expect(r.status).toBe(406);
    expect(r.text).toBe(msg + '\n');
  });

  it('aggregates every validation error in upstream order', async () => {
    const r = await request(url, '/logs/?query=a%2Fb&query=s%21&query=c&query=d&query=e&query=f&sinceTime=2023-02-04T02:00:00Z&untilTime=2023-01-04T02:00:00Z&boot=2&tailLines=100001&pattern=(');
    expect(r.status).toBe(406);
    expect(r.text).toBe(
      '[query: Invalid value: "s!": input contains unsupported characters, query: Too many: 5: must have at most 4 items, ' +
        'query: Invalid value: "[a/b], [s! c d e f]": cannot specify a file and service, ' +
        'untilTime: Invalid value: 2023-01-04 02:00:00 +0000 UTC: must be after `sinceTime`, boot: Invalid value: 2: must be less than 1, ' +
        'tailLines: Invalid value: 100001: must be between 0 and 100000, inclusive, ' +
        'pattern: Invalid value: "(": error parsing regexp: missing closing ): `(`]\n',
    );
  });

  it.each([
    '/logs/?query=kubelet&tailLines=0',
    '/logs/?query=kubelet&tailLines=100000',
    '/logs/?query=kubelet&boot=-1',
    '/logs/?query=kubelet&sinceTime=2023-01-04T02:00:00Z&untilTime=2023-01-04T02:00:00Z',
    '/logs/?query=svc.foo&query=svc_foo&query=svc%40foo&query=svc:foo',
    `/logs/?query=${'a'.repeat(256)}`,
  ])('accepts %s', async (p) => {
    const r = await request(url, p);
    expect(r.status).toBe(200);
  });
});

describe('Linux journal path', () => {
  it('probes each service with --field _SYSTEMD_UNIT, then runs one journalctl with the upstream argv order', async () => {
    journal.calls.length = 0;
    h.records.length = 0;
    const r = await request(url, '/logs/?query=kubelet&query=containerd&sinceTime=2026-01-02T03:04:05%2B02:00&untilTime=2026-11-27T10:00:00.123Z&tailLines=7&pattern=err&boot=-2');
    expect(r.status).toBe(200);
    const want = [
      '--utc', '--no-pager', '--output=short-precise', '--since=2026-1-2 3:4:5', '--until=2026-11-27 10:0:0',
      '--pager-end', '--lines=7', '--unit=kubelet', '--unit=containerd', '--grep=err', '--boot', '-2',
    ];
    expect(journal.calls.map((c) => c.args)).toEqual([['--field', '_SYSTEMD_UNIT'], ['--field', '_SYSTEMD_UNIT'], want]);
    expect(r.text).toBe(`Nov 27 03:44:01.000001 node-1 kubelet[2291]: argv=${want.join('|')}\n`);
    expect(h.records.at(-1)?.journalArgs).toEqual(want);
  });

  it('with no services beyond the base flags the argv is exactly the three base flags plus units', async () => {
    journal.calls.length = 0;
    await request(url, '/logs/?query=kubelet');
    expect(journal.calls.at(-1)!.args).toEqual(['--utc', '--no-pager', '--output=short-precise', '--unit=kubelet']);
  });

  it('v1.29 builds --until from sinceTime (the pre-#122693 bug)', async () => {
    const j = fakeJournal(['kubelet.service']);
    const k = await h.start(varLog, { kubeletVersion: 'v1.29.3', config: { ...ON, featureGates: { NodeLogQuery: true } }, journal: j });
    await request(k.url, '/logs/?query=kubelet&sinceTime=2026-01-02T03:04:05Z&untilTime=2026-02-02T00:00:00Z');
    expect(j.calls.at(-1)!.args).toEqual(['--utc', '--no-pager', '--output=short-precise', '--since=2026-1-2 3:4:5', '--until=2026-1-2 3:4:5', '--unit=kubelet']);
  });

  it('native is a substring test in every released kubelet (exact only as a future profile); other unit types never count', async () => {
    const r = await request(url, '/logs/?query=docker');
    expect(r.text).toBe('\nlog not found for docker\n');
    for (const [version, exact, native] of [['v1.36.0', false, true], ['v1.35.0', false, true], ['v1.29.3', false, true], ['v1.37.0', true, false]] as const) {
      const j = fakeJournal(['mykubelet.service']);
      const k = await h.start(varLog, { kubeletVersion: version, exactUnitMatch: exact, config: { ...ON, featureGates: { NodeLogQuery: true } }, journal: j });
      const body = (await request(k.url, '/logs/?query=kubelet')).text;
      expect(j.calls.some((c) => c.args.includes('--unit=kubelet')), version).toBe(native);
      if (!native) expect(body).toBe('\nlog not found for kubelet\n');
    }
  });

  it('journalctl output such as "-- No entries --" and a non-zero exit stay in a 200 body', async () => {
    const j = fakeJournal(['kubelet.service'], () => ({ output: Readable.from([Buffer.from('-- No entries --\n')]), exited: Promise.resolve(1) }));
    const k = await h.start(varLog, { journal: j });
    const r = await request(k.url, '/logs/?query=kubelet');
    expect(r.status).toBe(200);
    expect(r.text).toBe('-- No entries --\n');
  });

  it('an exec failure appends "error: journal output not available" unless boot is non-zero', async () => {
    const j = fakeJournal(['kubelet.service'], () => { throw new Error('spawn journalctl ENOENT'); });
    const k = await h.start(varLog, { journal: j });
    expect((await request(k.url, '/logs/?query=kubelet')).text).toBe('\nerror: journal output not available\n');
    expect((await request(k.url, '/logs/?query=kubelet&boot=-1')).text).toBe('');
  });

  it('falls back to files: svc, svc.log, svc/svc.log, skipping directories; "log not found" otherwise', async () => {
    fs.mkdirSync(path.join(varLog, 'audit'));
    fs.writeFileSync(path.join(varLog, 'audit', 'audit.log'), 'nested audit\n');
    fs.writeFileSync(path.join(varLog, 'cloud-init'), 'bare name wins\n');
    fs.writeFileSync(path.join(varLog, 'cloud-init.log'), 'not this one\n');
    const r = await request(url, '/logs/?query=kube-proxy&query=audit&query=cloud-init&query=nope');
    expect(r.status).toBe(200);
    expect(r.text).toBe('I1127 03:44:01.000000 1 proxier.go:1] proxy started\nnested audit\nbare name wins\n\nlog not found for nope\n');
  });

  it('options with file loggers: journal output for native services first, then the notice', async () => {
    const r = await request(url, '/logs/?query=kubelet&query=kube-proxy&query=nope&tailLines=3');
    expect(r.text).toBe(
      'Nov 27 03:44:01.000001 node-1 kubelet[2291]: argv=--utc|--no-pager|--output=short-precise|--pager-end|--lines=3|--unit=kubelet\n' +
        '\noptions present and query resolved to log files for [kube-proxy nope]\ntry without specifying options\n',
    );
  });

  it('without a journal backend every service is a file logger', async () => {
    const k = await h.start(varLog, {});
    const r = await request(k.url, '/logs/?query=kubelet&query=kube-proxy');
    expect(r.text).toBe('\nlog not found for kubelet\nI1127 03:44:01.000000 1 proxier.go:1] proxy started\n');
  });

  it('gzips only when Accept-Encoding is exactly "gzip"', async () => {
    const g = await request(url, '/logs/?query=kubelet', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(g.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(g.body).toString()).toContain('argv=--utc');
    const p = await request(url, '/logs/?query=kubelet', { headers: { 'Accept-Encoding': 'gzip, deflate' } });
    expect(p.headers['content-encoding']).toBeUndefined();
    expect(p.text).toContain('argv=--utc');
    const f = await request(url, '/logs/?query=/range.log', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(f.headers['content-encoding']).toBeUndefined();
    expect(f.text).toBe('0123456789');
  });
});

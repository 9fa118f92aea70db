import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, quirkNodes, QUIRK_NODE_NAMES, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { generateNodeLogs } from '../src/sandbox/generate/node-logs.js';
import { renderShortPrecise } from '../src/sandbox/journal/render.js';
import type { JournalEntry } from '../src/sandbox/journal/types.js';
import { startMcp, type McpSession } from './support/mcp.js';

/**
 * What a real cluster answers differently from a naive reading of the API (kubelet-node-log-query.md
 * §3–§5, issue 10), end to end: the built server over MCP against sandbox nodes that reproduce each quirk.
 * Every test compares the answer with the lines the node's journal really holds.
 */
let sandbox: Sandbox;
let mcp: McpSession;
const DEADLINE_MS = 4000;
const Q = QUIRK_NODE_NAMES;

const settledLogRequests = async () => {
  await sandbox.requestLog.waitIdle(5000);
  return sandbox.requestLog.entries.filter((e) => e.proxyPath?.startsWith('logs'));
};

beforeAll(async () => {
  sandbox = await startSandbox({ deadlineMs: DEADLINE_MS, nodes: [{ name: NODE_NAMES.worker1, profile: 'healthy' }, { name: NODE_NAMES.slow, profile: 'slow' }, ...quirkNodes()] });
  mcp = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', `${DEADLINE_MS}ms`, '--request-timeout', '3s'] });
});

afterAll(async () => {
  await mcp?.close();
  await sandbox?.close();
});

beforeEach(async () => {
  await sandbox.requestLog.waitIdle(5000).catch(() => undefined);
  sandbox.requestLog.clear();
});

/** The node's journal as the sandbox generated it. */
function journalOf(node: string): JournalEntry[] {
  const spec = sandbox.nodes.find((n) => n.name === node)!;
  return generateNodeLogs({ nodeName: spec.name, seed: spec.seed!, now: sandbox.now!, role: 'worker', kubeletCrashLoop: spec.kubeletCrashLoop === true }).journal;
}

/** `journalctl --unit=<unit>` in the current boot: the unit's lines and PID 1's about it. */
function unitLines(node: string, unit: string, from?: number, to?: number): string[] {
  const all = journalOf(node);
  const boot = all[all.length - 1]!.bootId;
  const u = `${unit}.service`;
  return all
    .filter((e) => e.bootId === boot && (e.unit === u || (e.pid === 1 && e.unitField === u)))
    .filter((e) => (from === undefined || Number(e.realtimeUsec / 1000n) >= from) && (to === undefined || Number(e.realtimeUsec / 1000n) <= to))
    .map((e) => renderShortPrecise(e).trimEnd());
}

const stamp = (line: string): string => line.slice(0, 22);

/** The log lines of a `format: 'lines'` answer, in the order shown (journal lines, or any `pattern`). */
function shownLines(text: string, line = /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{6} /): string[] {
  const start = text.indexOf('<untrusted-node-log');
  const end = text.indexOf('</untrusted-node-log');
  if (start < 0) return [];
  return text
    .slice(text.indexOf('\n', start) + 1, end < 0 ? undefined : end)
    .split('\n')
    // Labels this server puts before log text: "[T3] ", "[node] ", "| ", and "  ↳ " on a record's continuation lines.
    .map((l) => l.replace(/^(?:\[[^\]]*\] |\| | {2}↳ )/, ''))
    .filter((l) => line.test(l));
}

const iso = (ms: number) => new Date(ms).toISOString();
const minutesAgo = (m: number) => sandbox.now!.getTime() - m * 60_000;

describe('1. the last N lines of a time window (journalctl < 254 quirks)', () => {
  it('untilTime + tailLines returns the last N lines before untilTime, in time order (not "-- No entries --")', async () => {
    const until = minutesAgo(30);
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', untilTime: iso(until), tailLines: 15, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const want = unitLines(NODE_NAMES.worker1, 'kubelet', undefined, until).slice(-15);
    expect(want).toHaveLength(15);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
    const req = (await settledLogRequests()).at(-1)!;
    expect(req.query.pattern).toEqual(['^']);
    expect(res.text).not.toMatch(/FIRST/);
  });

  it('sinceTime + tailLines returns the LAST N lines of the window, not the first, and no false "first N" warning', async () => {
    const since = minutesAgo(90);
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', sinceTime: iso(since), tailLines: 12, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const want = unitLines(NODE_NAMES.worker1, 'kubelet', since).slice(-12);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
    expect(res.text).not.toMatch(/FIRST/);
  });

  it('since + until + tailLines with a pattern: the newest matches inside the window, oldest first', async () => {
    const since = minutesAgo(100);
    const until = minutesAgo(20);
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', pattern: 'Error syncing', sinceTime: iso(since), untilTime: iso(until), tailLines: 5, format: 'lines' });
    const want = unitLines(NODE_NAMES.worker1, 'kubelet', since, until).filter((l) => /error syncing/i.test(l)).slice(-5);
    expect(want).toHaveLength(5);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
  });
});

describe('2. a service that is not a unit but shares a substring with one', () => {
  it('"syslog" beside rsyslog.service: the kubelet answers "-- No entries --", the server reads /var/log/syslog and says why', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'syslog', tailLines: 10, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const reqs = await settledLogRequests();
    expect(reqs[0]!.journalArgs).toContain('--unit=syslog'); // what a real kubelet runs
    expect(reqs.some((r) => r.path.endsWith('/proxy/logs/syslog'))).toBe(true);
    expect(res.text).toMatch(/substring/);
    expect(res.text).toMatch(/\/var\/log\/syslog/);
    expect(shownLines(res.text, /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [\w-]+ /)).toHaveLength(10);
  });

  it('with a pattern, it names the exact file query to try', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'syslog', pattern: 'kubelet', tailLines: 10 });
    expect(res.text).toMatch(/"\/syslog"/);
    expect(res.text).toMatch(/as a file/);
  });
});

describe('3. a node whose local time zone is not UTC', () => {
  it('returns exactly the UTC window asked for, the last N lines in time order, and says the node zone', async () => {
    const since = minutesAgo(80);
    const until = minutesAgo(40);
    const res = await mcp.call('query_node_logs', { node: Q.zoned, query: 'kubelet', sinceTime: iso(since), untilTime: iso(until), tailLines: 25, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const want = unitLines(Q.zoned, 'kubelet', since, until).slice(-25);
    expect(want).toHaveLength(25);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
    expect(res.text).toMatch(/UTC\+05:30/);
  });

  it('a window without tailLines: every line of the window and none outside it', async () => {
    const since = minutesAgo(45);
    const until = minutesAgo(41);
    const res = await mcp.call('query_node_logs', { node: Q.zoned, query: 'kubelet', sinceTime: iso(since), untilTime: iso(until), format: 'lines' });
    const want = unitLines(Q.zoned, 'kubelet', since, until);
    expect(want.length).toBeGreaterThan(3);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
  });

  it('Windows: event times are node-local, and the answer says so', async () => {
    const res = await mcp.call('query_node_logs', { node: Q.windowsFiles, query: 'Microsoft-Windows-Security-SPP', sinceTime: iso(minutesAgo(120)), tailLines: 5 });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/local time zone/);
    expect(res.text).toMatch(/not in UTC/);
  });
});

describe('4. v1.27–v1.29 kubelets build --until from sinceTime', () => {
  it('a since+until window with tailLines still gives the last N lines of the window', async () => {
    const since = minutesAgo(100);
    const until = minutesAgo(60);
    const res = await mcp.call('query_node_logs', { node: Q.v129, query: 'kubelet', sinceTime: iso(since), untilTime: iso(until), tailLines: 10, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const want = unitLines(Q.v129, 'kubelet', since, until).slice(-10);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
    const req = (await settledLogRequests()).at(-1)!;
    expect(req.query.untilTime).toBeUndefined();
    expect(res.text).toMatch(/older than v1\.30/);
  });

  it('untilTime goes out rounded up to the whole second and is cut exactly here', async () => {
    const until = Math.floor(minutesAgo(50) / 1000) * 1000 + 500;
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: 'kubelet', sinceTime: iso(until - 10 * 60_000), untilTime: iso(until), format: 'lines', maxOutputChars: 60_000 });
    const req = (await settledLogRequests()).at(-1)!;
    expect(req.query.untilTime).toEqual([iso(until + 500).replace(/\.000Z$/, 'Z')]);
    const want = unitLines(NODE_NAMES.worker1, 'kubelet', until - 10 * 60_000, until);
    expect(shownLines(res.text).map(stamp)).toEqual(want.map(stamp));
  });
});

describe('5. Windows nodes', () => {
  it('joins -Wrap continuation lines into one event and keeps the provider name visible', async () => {
    const res = await mcp.call('query_node_logs', { node: Q.windowsFiles, query: 'Microsoft-Windows-WMI', tailLines: 3, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const rows = shownLines(res.text, /^\d{1,2}\/\d{1,2}\/\d{4} /);
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r).toMatch(/ Error +Microsoft-Windows-WMI: Id = \{8F1E1B42-2D05-0002-7B4A-1E8F052DDB01\}; .* PossibleCause = Unknown$/);
      expect(r.length).toBeGreaterThan(200); // wrapped at 120 columns on the node
    }
    const kubelet = (await settledLogRequests()).at(-1)!;
    expect(kubelet.status).toBe(200);
  });

  it('the "No events were found" block is an empty answer, not error lines, and points at the log files', async () => {
    const res = await mcp.call('query_node_logs', { node: Q.windowsFiles, query: 'Microsoft-Windows-WMI', sinceTime: new Date(Date.now() + 20 * 3600_000).toISOString() });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/No events on .* matched/);
    expect(res.text).not.toMatch(/FullyQualifiedErrorId|CategoryInfo|At line:/);
    expect((res.structuredContent as { linesScanned: number }).linesScanned).toBe(0);
    expect(res.text).toMatch(/"\/kubelet\/kubelet\.log"/);
    expect(res.text).not.toMatch(/\/syslog/);
  });

  it('other PowerShell error blocks are said as in-band errors, not shown as log lines; event times are not passed off as UTC', async () => {
    const res = await mcp.call('query_node_logs', { node: Q.windowsFiles, query: 'Microsoft-Windows-WMI', tailLines: 0 });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/PowerShell on .* reported an error with the event-log query \(an in-band message, not a log line\): "Get-WinEvent : Cannot validate argument on parameter 'MaxEvents'/);
    expect((res.structuredContent as { linesScanned: number }).linesScanned).toBe(0);
    const rows = await mcp.call('query_node_logs', { node: Q.windowsFiles, query: 'Microsoft-Windows-WMI', tailLines: 3 });
    expect(rows.text).toMatch(/node's local time, not UTC/);
    expect(rows.text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/);
  });

  it('a kubelet that logs to a file: the file is read, and the answer says how to query it (never /syslog)', async () => {
    const res = await mcp.call('query_node_logs', { node: Q.windowsFiles, query: 'kubelet', tailLines: 5, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/not an event-log provider/);
    expect(res.text).toMatch(/kubelet\\kubelet\.log/);
    expect(res.text).not.toMatch(/\/syslog/);
    expect(shownLines(res.text, /^[IEW]\d{4} /)).toHaveLength(5);
  });
});

describe('6. a crash-looping kubelet', () => {
  it("systemd's unit lines lead the summary as errors/warnings with counts and first/last times, and the restarts are counted", async () => {
    const res = await mcp.call('query_node_logs', { node: Q.crashLoop, query: 'kubelet', sinceTime: iso(minutesAgo(60)) });
    expect(res.isError, res.text).toBeFalsy();
    const restarts = unitLines(Q.crashLoop, 'kubelet', minutesAgo(60)).filter((l) => /restart counter is at/.test(l)).length;
    expect(restarts).toBeGreaterThan(50);
    expect(res.text).toMatch(new RegExp(`kubelet\\.service on ${Q.crashLoop} is crash-looping: systemd restarted it ${restarts} times between \\S+Z and \\S+Z`));
    // The three systemd lines are the top three templates (structured ranks), each counted once per restart.
    const top = (res.structuredContent as { topTemplates: { rank: number; count: number; severity: string; firstTime?: string; lastTime?: string }[] }).topTemplates.filter((t) => t.rank <= 3);
    expect(top).toHaveLength(3);
    for (const t of top) {
      expect(['error', 'warning']).toContain(t.severity);
      expect(t.count).toBe(restarts);
      expect(t.firstTime).toMatch(/^\d{4}-/);
      expect(t.lastTime).toMatch(/^\d{4}-/);
    }
    // …and in the text they come before the kubelet's own (equally frequent) start-up error.
    const at = (re: RegExp) => res.text.search(re);
    const own = at(/"command failed" err="failed to run Kubelet/);
    for (const re of [/kubelet\.service: Main process exited/, /kubelet\.service: Failed with result/, /kubelet\.service: Scheduled restart job, restart counter is at/]) {
      expect(at(re)).toBeGreaterThan(0);
      expect(at(re)).toBeLessThan(own);
    }
  });
});

describe('8. cancelled queries keep the node busy until the kubelet deadline', () => {
  it('the node slot stays taken until the kubelet has stopped journalctl, so cancellations cannot stack processes', async () => {
    const one = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', `${DEADLINE_MS}ms`, '--max-concurrency-per-node', '1'] });
    try {
      const ctrl = new AbortController();
      const first = one.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 1000 }, { signal: ctrl.signal });
      first.catch(() => undefined);
      while (!sandbox.requestLog.entries.some((e) => e.node === NODE_NAMES.slow && e.proxyPath?.startsWith('logs'))) await new Promise((r) => setTimeout(r, 20));
      const sentAt = sandbox.requestLog.entries.find((e) => e.node === NODE_NAMES.slow)!.start;
      await new Promise((r) => setTimeout(r, 300));
      ctrl.abort();
      await expect(first).rejects.toThrow();
      const second = await one.call('query_node_logs', { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 1 });
      void second;
      const reqs = sandbox.requestLog.entries.filter((e) => e.node === NODE_NAMES.slow && e.proxyPath?.startsWith('logs'));
      expect(reqs).toHaveLength(2);
      // The second request reached the node only once the first one's kubelet deadline had passed.
      expect(reqs[1]!.start).toBeGreaterThanOrEqual(sentAt + DEADLINE_MS - 200);
      // From the first request's arrival: the first call of a stdio server also loads the cluster client.
      expect(Date.now() - sentAt).toBeLessThan(DEADLINE_MS + 5000);
    } finally {
      await one.close();
    }
  });
});

describe('sandbox fidelity', () => {
  it('every non-GET to /logs/ is "405: Method Not Allowed" with Allow: GET, on every kubelet version', async () => {
    for (const node of [NODE_NAMES.worker1, Q.v129, Q.windowsFiles, Q.debuggingOff]) {
      for (const method of ['POST', 'HEAD', 'PUT', 'DELETE']) {
        const r = await fetch(`${sandbox.kubeletUrls![node]}/logs/?query=kubelet`, { method });
        expect(r.status, `${node} ${method}`).toBe(405);
        expect(r.headers.get('allow')).toBe('GET');
        if (method !== 'HEAD') expect(await r.text()).toBe('405: Method Not Allowed');
      }
    }
  });

  it('a black-holed node (accepts, never answers) gives a clear timeout, not a hang', async () => {
    const t0 = Date.now();
    const res = await mcp.call('query_node_logs', { node: Q.blackHoled, query: 'kubelet', tailLines: 5 });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/3 s|timed out|No complete answer/i);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});

describe('7. debugging handlers off', () => {
  it('check_node_log_support says so (404 on /configz) and puts enableDebuggingHandlers: true in the fix', async () => {
    const res = await mcp.call('check_node_log_support', { node: Q.debuggingOff });
    expect((res.structuredContent as { verdict: string }).verdict).toBe('not supported');
    expect(res.text).toMatch(/debugging handlers are off/);
    const fixes = (res.structuredContent as { fixes: string[] }).fixes.join('\n');
    expect(fixes).toMatch(/enableDebuggingHandlers: true/);
    expect(res.text).not.toMatch(/use list_nodes/i);
    const reqs = sandbox.requestLog.entries.filter((e) => e.node === Q.debuggingOff);
    expect(reqs.find((r) => r.proxyPath === 'configz')?.status).toBe(404);
  });
});

describe('9. rotated, gzip-compressed files, directories and missing files', () => {
  it('a .gz rotated file is decompressed and tailed, never shown as binary', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/syslog.2.gz', tailLines: 8, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const lines = shownLines(res.text, /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [\w-]+ /);
    expect(lines).toHaveLength(8);
    // The last lines of the oldest third of the journal, as rsyslog wrote them.
    const j = journalOf(NODE_NAMES.worker1);
    const third = j.slice(0, Math.floor(j.length / 3));
    expect(lines.at(-1)).toContain(third.at(-1)!.message.slice(0, 40));
    expect(res.text).toMatch(/gzip/);
    expect(res.text).not.toMatch(/\u001f\u008b|\ufffd/);
  });

  it('a directory lists its entries (names only) so the model can pick', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/pods/' });
    expect(res.isError, res.text).toBeFalsy();
    expect(res.text).toMatch(/is a directory/);
    expect(res.text).toMatch(/"payments_[\w-]+_[0-9a-f-]+\/"/);
    const root = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/' });
    expect(root.text).toMatch(/"syslog\.2\.gz"/);
    expect(root.text).toMatch(/"containers\/"/);
  });

  it('a missing file says so and lists what exists in its directory', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/syslog.7.gz' });
    expect(res.isError).toBe(true);
    expect(res.text).toMatch(/does not exist/);
    expect(res.text).toMatch(/"syslog\.1"/);
  });
});

describe('10. container logs on the node (CRI format)', () => {
  it('joins P partial lines with their F end, keeps stdout/stderr and the stack trace, in time order', async () => {
    const listing = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: '/containers/' });
    const name = /"(ledger-api[\w-]*_payments_[\w-]+\.log)"/.exec(listing.text)?.[1] ?? /"([\w-]+_payments_[\w-]+\.log)"/.exec(listing.text)![1]!;
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: `/containers/${name}`, tailLines: 40, format: 'lines' });
    expect(res.isError, res.text).toBeFalsy();
    const lines = shownLines(res.text, /^\d{4}-\d\d-\d\dT/);
    const joined = lines.find((l) => l.includes('settlement batch failed'))!;
    expect(joined).toMatch(/ stdout F \{"level":"error".*giving up until the next schedule"\}$/);
    expect(lines.some((l) => / P /.test(l.slice(30, 40)))).toBe(false);
    expect(lines.some((l) => / stderr F \s*at com\.example\.payments\.Settlement\.run/.test(l))).toBe(true);
    const times = lines.map((l) => Date.parse(l.slice(0, l.indexOf(' '))));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type Sandbox } from '../src/sandbox/index.js';
import { CRASH_LOG_PATH } from '../src/sandbox/generate/crash-logs.js';
import { startMcp, type McpSession } from './support/mcp.js';

/**
 * Multi-line records end to end: the built server over MCP reads a crash-looping pod's CRI log from a
 * sandbox node (a Java stack trace with its cause, a JSON line split into partials, a Go panic) and
 * answers with one template per record, templated on the head line, the whole record as the example.
 */
let sandbox: Sandbox;
let mcp: McpSession;

beforeAll(async () => {
  sandbox = await startSandbox({ deadlineMs: 3000 });
  mcp = await startMcp({ args: ['--kubeconfig', sandbox.kubeconfigPath, '--request-timeout', '10s'] });
});

afterAll(async () => {
  await mcp?.close();
  await sandbox?.close();
});

/**
 * The labelled line of the template whose text matches `re` ("[T2 error ×1 05:41:48] <first line>"), and
 * the lines under it: a record's continuation lines ("  ↳ …") and examples ("  e.g. …").
 */
function templateBlock(text: string, re: RegExp): { template: string; example: string[] } {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\[T\d+ /.test(l) && re.test(l));
  expect(at, `no template matching ${re} in:\n${text}`).toBeGreaterThanOrEqual(0);
  const example: string[] = [];
  for (let k = at + 1; k < lines.length && /^ {2}(↳|e\.g\.) /.test(lines[k]!); k++) example.push(lines[k]!);
  return { template: lines[at]!, example };
}

describe('multi-line records over MCP', () => {
  it('answers a Go panic, a Java trace and CRI partials as one record each', async () => {
    // A budget under twice the log's size: the summary layout (templates), not the plain lines of a small result.
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: `/${CRASH_LOG_PATH}`, tailLines: 500, maxOutputChars: 8000 });
    expect(res.isError, res.text).toBeFalsy();
    const s = res.structuredContent as { linesScanned: number; topTemplates: { severity: string; count: number }[] };
    // 22 request lines + 8 Java + 1 line from 3 partials (the file reader joins CRI P pieces with their F end)
    // + 10 panic lines (the blank CRI line included).
    expect(s.linesScanned).toBe(41);

    const go = templateBlock(res.text, /panic: runtime error: invalid memory address/);
    // Seen once: the record itself stands on its template's line, its head first.
    expect(go.template).toMatch(/^\[T\d+ (fatal|error) ×1 [\d:]+\] \S+ stderr F panic: runtime error/);
    expect(go.template).not.toMatch(/goroutine|watcher\.go/);
    const goText = go.example.join('\n');
    expect(goText).toContain('[signal SIGSEGV');
    expect(goText).toContain('goroutine 41 [running]:');
    expect(goText).toContain('created by example.com/ledger/sidecar/watch.New in goroutine 1');
    expect(goText).toContain('/src/sidecar/watch/watcher.go:40 +0x11d');

    const java = templateBlock(res.text, /Balance lookup failed/);
    expect(java.template).not.toMatch(/\bat com\.|Caused by/);
    const javaText = java.example.join('\n');
    expect(javaText).toContain('java.lang.IllegalStateException: ledger shard 7 unavailable');
    expect(javaText).toContain('at com.example.ledger.ShardRouter.route(ShardRouter.java:88)');
    expect(javaText).toContain('Caused by: java.net.ConnectException: Connection refused');
    expect(javaText).toContain('... 42 more');

    // The three partials are one line of the container's output: one record, its parts joined without
    // their CRI headers (the example is clipped to the answer's per-line width).
    const json = templateBlock(res.text, /shard map snapshot/);
    expect(json.example).toHaveLength(0);
    expect(json.template.match(/ stdout [PF] /g)).toHaveLength(1);

    // No frame or goroutine line became a template of its own; the requests are one template.
    expect(res.text).not.toMatch(/^\[T\d+ [^\]]*\] \S+ (?:stdout|stderr) [PF] (?:\s*at |goroutine |created by |Caused by)/m);
    expect(templateBlock(res.text, /Served balance for account/).template).toMatch(/^\[T\d+ info ×22 /);
    const perRecordCounts = s.topTemplates.map((t) => t.count).sort((a, b) => b - a);
    expect(perRecordCounts[0]).toBe(22);
    expect(perRecordCounts.slice(1)).toEqual([1, 1, 1]);
    // The panic and the trace rank as errors; the panic's lexicon term lifts it even without a level.
    expect(s.topTemplates.filter((t) => t.severity === 'error' || t.severity === 'fatal').length).toBeGreaterThanOrEqual(2);
  });

  it('shows the joined partial line whole among the recent lines', async () => {
    const res = await mcp.call('query_node_logs', { node: NODE_NAMES.worker1, query: `/${CRASH_LOG_PATH}`, tailLines: 500, format: 'lines', maxOutputChars: 60000 });
    expect(res.isError, res.text).toBeFalsy();
    const joined = res.text.split('\n').filter((l) => l.includes('shard map snapshot'));
    expect(joined).toHaveLength(1);
    expect(joined[0]).toMatch(/"id":23,"leader":"ledger-2","lag":\d+\}\]\}$/);
    // The panic's lines follow its first line in order, as the runtime wrote them.
    const lines = res.text.split('\n');
    const at = lines.findIndex((l) => l.includes('stderr F panic: runtime error'));
    expect(lines[at + 1]).toMatch(/stderr F \[signal SIGSEGV/);
    // Continuation lines carry the server's mark, so no log text starts a line of the block.
    expect(lines[at + 3]).toMatch(/^ {2}↳ \S+ stderr F goroutine 41 \[running\]:$/);
  });
});

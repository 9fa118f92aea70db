import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runSummarize } from '../src/logs/summarize-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'knl-summarize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: Parameters<typeof runSummarize>[0], stdinText = ''): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const code = await runSummarize(args, { stdin: Readable.from([Buffer.from(stdinText)]), stdout });
  return { code, out: Buffer.concat(chunks).toString('utf8') };
}

describe('summarize subcommand', () => {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    lines.push(`Nov 27 03:${String(10 + (i % 50)).padStart(2, '0')}:00.000001 node-a kubelet[2291]: I1127 03:10:00.000001    2291 a.go:1] "SyncLoop UPDATE" source="api" n=${i}`);
  }
  lines.push('Nov 27 03:59:00.000001 node-a kubelet[2291]: E1127 03:59:00.000001    2291 b.go:1] "Failed to pull" password=hunter2secret');
  lines.push('-- No entries --');
  const file = join(dir, 'kubelet.log');
  writeFileSync(file, lines.join('\n') + '\n');

  it('summarizes a file within the budget, redacted, errors first', async () => {
    const { code, out } = await run({ file, budgetChars: 4000 });
    expect(code).toBe(0);
    expect(out.length).toBeLessThanOrEqual(4001); // + final newline
    expect(out).toContain(`Summary of file ${file}`);
    expect(out).toContain('Read 301 lines');
    expect(out).toMatch(/^\[T1 error ×1 03:59:00\] Nov 27 03:59:00\.000001 node-a kubelet/m);
    expect(out).not.toContain('hunter2secret');
    expect(out).toContain('Messages from the kubelet or journalctl (not log lines): "-- No entries --"');
  });

  it('reads stdin when no file is given, and honours lines format and the byte cap', async () => {
    const text = lines.join('\n') + '\n';
    const { code, out } = await run({ format: 'lines', maxBytes: 1000, budgetChars: 3000 }, text);
    expect(code).toBe(0);
    expect(out).toContain('Summary of standard input');
    expect(out).toContain('Reading stopped at the byte cap');
    expect(out).not.toContain('[T1]');
  });

  it('lists the grouping with --format assignments: one JSON line per record, redacted', async () => {
    const trace = [
      'Nov 27 04:00:00.000001 node-a app[7]: 2026-11-27 04:00:00,000 ERROR [main] c.e.App - Request failed token=abcdef0123456789abcdef',
      'Nov 27 04:00:00.000002 node-a app[7]: java.lang.IllegalStateException: boom',
      'Nov 27 04:00:00.000003 node-a app[7]: \tat com.example.App.handle(App.java:42)',
      'Nov 27 04:00:00.000004 node-a app[7]: \tat com.example.App.main(App.java:10)',
    ];
    const f = join(dir, 'assign.log');
    writeFileSync(f, [...lines.slice(0, 3), '', ...trace, lines[3]].join('\n') + '\n');
    const { code, out } = await run({ file: f, format: 'assignments' });
    expect(code).toBe(0);
    const rows = out.trim().split('\n').map((l) => JSON.parse(l) as { line: number; lines: number; template: number; text: string });
    expect(rows.map((r) => [r.line, r.lines])).toEqual([[1, 1], [2, 1], [3, 1], [5, 4], [9, 1]]);
    // The same template for every SyncLoop line, its final text; the trace is one record on its head.
    expect(new Set([rows[0]!.template, rows[1]!.template, rows[2]!.template, rows[4]!.template]).size).toBe(1);
    expect(rows[0]!.text).toBe('kubelet: "SyncLoop UPDATE" source="api" n=<NUM>');
    expect(rows[3]!.text).toBe('app: c.e.App - Request failed token=[REDACTED:key-value]');
    expect(out).not.toContain('abcdef0123456789abcdef');
  });

  it('fails with a non-zero code for a missing file', async () => {
    const { code, out } = await run({ file: join(dir, 'nope.log') });
    expect(code).toBe(1);
    expect(out).toBe('');
  });
});

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

  it('fails with a non-zero code for a missing file', async () => {
    const { code, out } = await run({ file: join(dir, 'nope.log') });
    expect(code).toBe(1);
    expect(out).toBe('');
  });
});

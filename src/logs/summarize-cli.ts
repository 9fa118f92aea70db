/**
 * `kube-node-logs-mcp summarize [FILE]`: the same pipeline and renderer the tools use, over a local file
 * or stdin, printing what the tool would return.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { renderLogAnswer } from '../render/answer.js';
import { classifyWindowsInbandLine } from './inband.js';
import { digestLogStream } from './pipeline.js';

export const SUMMARIZE_DEFAULTS = { budgetChars: 20_000, maxBytes: 512 * 1024 * 1024, format: 'summary' as const };

export async function runSummarize(
  args: { file?: string; budgetChars?: number; format?: 'summary' | 'lines'; maxBytes?: number },
  io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream },
): Promise<number> {
  const budgetChars = args.budgetChars ?? SUMMARIZE_DEFAULTS.budgetChars;
  const maxBytes = args.maxBytes ?? SUMMARIZE_DEFAULTS.maxBytes;
  const format = args.format ?? SUMMARIZE_DEFAULTS.format;
  if (!Number.isFinite(budgetChars) || budgetChars < 1 || !Number.isFinite(maxBytes) || maxBytes < 1) {
    process.stderr.write('summarize: budget and max bytes must be positive numbers\n');
    return 2;
  }
  let source: AsyncIterable<Uint8Array>;
  let what: string;
  if (args.file && args.file !== '-') {
    try {
      const st = await stat(args.file);
      if (!st.isFile()) throw new Error('not a regular file');
    } catch (err) {
      process.stderr.write(`summarize: cannot read ${args.file}: ${(err as Error).message}\n`);
      return 1;
    }
    source = createReadStream(args.file, { highWaterMark: 1 << 20 });
    what = `file ${args.file}`;
  } else {
    source = io.stdin as AsyncIterable<Uint8Array>;
    what = 'standard input';
  }
  try {
    const digest = await digestLogStream(source, { maxBytes, classifyInband: classifyWindowsInbandLine /* a local file may be either kind of answer */ });
    if (digest.byteCapHit && 'destroy' in source && typeof source.destroy === 'function') source.destroy();
    const result = renderLogAnswer({
      facts: [`Summary of ${what} (format ${format}, budget ${budgetChars} characters, byte cap ${maxBytes}).`],
      digest,
      format,
      budgetChars,
    });
    await new Promise<void>((resolve, reject) => {
      io.stdout.write(result.text + '\n', (err) => (err ? reject(err) : resolve()));
    });
    return 0;
  } catch (err) {
    process.stderr.write(`summarize: ${(err as Error).message}\n`);
    return 1;
  }
}

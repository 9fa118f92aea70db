/**
 * Log pipeline throughput and memory (log-summarization.md §7 targets: ≥ 40 MB/s end to end, peak RSS
 * ≤ 200 MB that does not grow with input size). Input is generated journal text streamed straight from
 * hugeJournalStream, so every rate below includes the generator; its own rate is measured too, and a
 * plain line-splitting pass over the same stream gives the baseline for the ratio.
 *
 * Run alone: npx tsx bench/pipeline.ts [--mb 200] [--big-mb 1024]
 */
import { pathToFileURL } from 'node:url';
import { LineSplitter } from '../src/logs/lines.js';
import { digestLogStream, type LogDigest } from '../src/logs/pipeline.js';
import { renderLogAnswer } from '../src/render/answer.js';
import { hugeJournalStream } from '../src/sandbox/generate/huge.js';

export interface PipelineBenchResult {
  mb: number;
  generatorMBps: number;
  splitBaselineMBps: number;
  pipelineMBps: number;
  /** MB per CPU-second of this process (user + system) while the pipeline ran: robust on a loaded machine. */
  pipelineMBPerCpuSecond: number;
  /** pipeline / baseline rate */
  ratio: number;
  /** Pipeline rate with the generator's own time taken out (what a network/file source would see). */
  pipelineExGeneratorMBps: number;
  linesPerSec: number;
  peakRssMB: number;
  templates: number;
  big?: { mb: number; pipelineMBps: number; peakRssMB: number; rssAtMB: { mb: number; rssMB: number }[] };
}

const MB = 1e6;

function rssMB(): number {
  return process.memoryUsage().rss / MB;
}

/** Samples RSS while `f` runs (timer-driven, plus whatever `f` reports), returns the peak. */
async function withPeakRss<T>(f: () => Promise<T>): Promise<{ value: T; peakRssMB: number }> {
  let peak = rssMB();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMB());
  }, 50);
  try {
    const value = await f();
    peak = Math.max(peak, rssMB());
    return { value, peakRssMB: peak };
  } finally {
    clearInterval(timer);
  }
}

async function timeIt<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

async function generatorOnly(bytes: number, seed: number): Promise<number> {
  let n = 0;
  for await (const c of hugeJournalStream({ bytes, seed })) n += (c as Buffer).length;
  return n;
}

async function splitOnly(bytes: number, seed: number): Promise<number> {
  let lines = 0;
  const s = new LineSplitter({ maxLineChars: 2000, onLine: () => lines++ });
  for await (const c of hugeJournalStream({ bytes, seed })) s.push(c as Buffer);
  s.end();
  return lines;
}

/** A source wrapper that records RSS at size milestones, to show memory does not grow with input. */
async function* withMilestones(
  src: AsyncIterable<Uint8Array>,
  every: number,
  out: { mb: number; rssMB: number }[],
): AsyncGenerator<Uint8Array> {
  let n = 0;
  let next = every;
  for await (const c of src) {
    n += c.byteLength;
    if (n >= next) {
      out.push({ mb: Math.round(n / MB), rssMB: Math.round(rssMB()) });
      next += every;
    }
    yield c;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function main(opts: { mb?: number; bigMb?: number; runs?: number; log?: (s: string) => void } = {}): Promise<PipelineBenchResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const mb = opts.mb ?? 200;
  const bigMb = opts.bigMb ?? 1024;
  const runs = Math.max(1, opts.runs ?? 3);
  const bytes = mb * MB;
  log(`pipeline bench: ${mb} MB of generated journal text, ${runs} runs each (medians), Node ${process.version}`);

  const gen: number[] = [];
  const base: number[] = [];
  const pipe: number[] = [];
  const pipeCpu: number[] = [];
  let peak = 0;
  let digest: LogDigest | undefined;
  // Interleaved so that load from other processes on this shared machine hits all three alike.
  for (let r = 0; r < runs; r++) {
    const g = await timeIt(() => generatorOnly(bytes, r + 1));
    gen.push(g.value / MB / g.seconds);
    const b = await timeIt(() => splitOnly(bytes, r + 1));
    base.push(bytes / MB / b.seconds);
    const cpu0 = process.cpuUsage();
    const p = await withPeakRss(() => timeIt(() => digestLogStream(hugeJournalStream({ bytes, seed: r + 1 }), { maxBytes: bytes * 2 })));
    const cpu = process.cpuUsage(cpu0);
    pipe.push(p.value.value.bytesRead / MB / p.value.seconds);
    pipeCpu.push(p.value.value.bytesRead / MB / ((cpu.user + cpu.system) / 1e6));
    peak = Math.max(peak, p.peakRssMB);
    digest = p.value.value;
  }
  const d = digest!;
  // The renderer is part of the answer path; include one render to show it is negligible and in budget.
  const rendered = renderLogAnswer({ facts: ['bench'], digest: d, format: 'summary', budgetChars: 20_000 });

  const generatorMBps = median(gen);
  const pipelineMBps = median(pipe);
  const exGen = 1 / (1 / pipelineMBps - 1 / generatorMBps);
  const result: PipelineBenchResult = {
    mb,
    generatorMBps: round(generatorMBps),
    splitBaselineMBps: round(median(base)),
    pipelineMBps: round(pipelineMBps),
    pipelineMBPerCpuSecond: round(median(pipeCpu)),
    ratio: round(pipelineMBps / median(base), 3),
    pipelineExGeneratorMBps: round(exGen),
    linesPerSec: Math.round((d.linesScanned / (d.bytesRead / MB)) * pipelineMBps),
    peakRssMB: Math.round(peak),
    templates: d.templates.length,
  };
  log(`  generator alone        ${result.generatorMBps} MB/s (runs: ${gen.map((x) => round(x)).join(', ')})`);
  log(`  line split baseline    ${result.splitBaselineMBps} MB/s (runs: ${base.map((x) => round(x)).join(', ')})`);
  log(`  full pipeline          ${result.pipelineMBps} MB/s (runs: ${pipe.map((x) => round(x)).join(', ')}), ${result.linesPerSec} lines/s`);
  log(`  pipeline per CPU-second ${result.pipelineMBPerCpuSecond} MB (runs: ${pipeCpu.map((x) => round(x)).join(', ')}; generator included; wall-clock rates suffer when other processes share the CPU, this one less)`);
  log(`  pipeline / baseline    ${result.ratio}`);
  log(`  pipeline w/o generator ≈${result.pipelineExGeneratorMBps} MB/s`);
  log(`  peak RSS (pipeline)    ${result.peakRssMB} MB; ${d.linesScanned} lines, ${result.templates} templates, redactions ${JSON.stringify(d.redactions)}`);
  log(`  render 20k budget      ${rendered.text.length} chars, ${rendered.templatesShown} templates, ${rendered.linesShown} lines`);

  if (bigMb > 0) {
    const milestones: { mb: number; rssMB: number }[] = [];
    const big = await withPeakRss(() =>
      timeIt(() =>
        digestLogStream(withMilestones(hugeJournalStream({ bytes: bigMb * MB, seed: 99 }), Math.max(1, Math.floor(bigMb / 8)) * MB, milestones), {
          maxBytes: bigMb * MB * 2,
        }),
      ),
    );
    result.big = {
      mb: bigMb,
      pipelineMBps: round(big.value.value.bytesRead / MB / big.value.seconds),
      peakRssMB: Math.round(big.peakRssMB),
      rssAtMB: milestones,
    };
    log(`  big run ${bigMb} MB       ${result.big.pipelineMBps} MB/s, peak RSS ${result.big.peakRssMB} MB`);
    log(`  RSS by input size      ${milestones.map((m) => `${m.mb} MB→${m.rssMB} MB`).join(', ')}`);
  }
  log(`  targets: ≥ 40 MB/s, peak RSS ≤ 200 MB`);
  return result;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function argNum(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main({ mb: argNum('--mb'), bigMb: argNum('--big-mb'), runs: argNum('--runs') }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

/**
 * Log pipeline throughput and memory (issue 15 targets: ≥ 60 MB/s single stream on 200 MB with every
 * log-format feature on, peak RSS ≤ 150 MB and flat from 200 MB to 2 GB), next to a plain line split of
 * the same input in the same run.
 *
 * 200 MB: generated journal text is written to a temporary file first, then read as `summarize FILE`
 * reads it (1 MiB reads, the same options: in-band classification, header recognition, records,
 * redaction, masks, lexicon, Drain), so the generator's own cost is out of the figures. Each rate is
 * given by wall time and by the process's CPU time: this machine is shared, and CPU time is what stays
 * comparable from run to run when other work competes for the cores.
 *
 * 2 GB: streamed straight from the generator (no 2 GB file), with RSS recorded every 1/8 of the way to
 * show memory does not grow with input size; its rate includes the generator, and the rate without it
 * is derived from the generator's own CPU rate. Skip it with --big-mb 0 or BENCH_BIG_MB=0 (it takes
 * about a minute on an idle 2-core machine).
 *
 * Run alone: npx tsx bench/pipeline.ts [--mb 200] [--big-mb 2000] [--runs 3]
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline as pipe } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { classifyWindowsInbandLine } from '../src/logs/inband.js';
import { LineSplitter } from '../src/logs/lines.js';
import { digestLogStream, type DigestOptions, type LogDigest } from '../src/logs/pipeline.js';
import { renderLogAnswer } from '../src/render/answer.js';
import { hugeJournalStream } from '../src/sandbox/generate/huge.js';

interface Rate {
  /** MB/s by wall-clock time. */
  wall: number;
  /** MB/s by this process's CPU time (user + system). */
  cpu: number;
}

export interface PipelineBenchResult {
  mb: number;
  generatorMBps: number;
  splitBaseline: Rate;
  pipeline: Rate;
  /** pipeline / baseline, by CPU time. */
  ratio: number;
  linesPerSec: number;
  peakRssMB: number;
  templates: number;
  big?: { mb: number; pipeline: Rate; exGeneratorCpuMBps: number; peakRssMB: number; rssAtMB: { mb: number; rssMB: number }[] };
}

const MB = 1e6;
const TARGET_MBPS = 60;
const TARGET_RSS_MB = 150;

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

/** Wall and CPU seconds of `f`. */
async function timeIt<T>(f: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

function rate(mb: number, t: { wall: number; cpu: number }): Rate {
  return { wall: mb / t.wall, cpu: mb / t.cpu };
}

function fileSource(file: string): AsyncIterable<Uint8Array> {
  return createReadStream(file, { highWaterMark: 1 << 20 });
}

async function splitOnly(source: AsyncIterable<Uint8Array>): Promise<number> {
  let lines = 0;
  const s = new LineSplitter({ maxLineChars: 2000, onLine: () => lines++ });
  for await (const c of source) s.push(c);
  s.end();
  return lines;
}

/** What `summarize FILE` runs (src/logs/summarize-cli.ts), minus rendering. */
function digest(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<LogDigest> {
  const opts: DigestOptions = { maxBytes, classifyInband: classifyWindowsInbandLine };
  return digestLogStream(source, opts);
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

function medianRate(rs: Rate[]): Rate {
  return { wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)) };
}

function fmt(r: Rate): string {
  return `${round(r.cpu)} MB/s by CPU time, ${round(r.wall)} MB/s by wall time`;
}

function envNum(name: string): number | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number(v);
}

export async function main(opts: { mb?: number; bigMb?: number; runs?: number; log?: (s: string) => void } = {}): Promise<PipelineBenchResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const mb = opts.mb ?? 200;
  const bigMb = opts.bigMb ?? envNum('BENCH_BIG_MB') ?? 2000;
  const runs = Math.max(1, opts.runs ?? 3);
  const bytes = mb * MB;
  log(`pipeline bench: ${mb} MB of generated journal text from a file, ${runs} runs each (medians), Node ${process.version}`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'knl-bench-'));
  try {
    const file = path.join(dir, `journal-${mb}mb.log`);
    const g = await timeIt(() => pipe(hugeJournalStream({ bytes, seed: 1 }), createWriteStream(file)));
    const generatorMBps = mb / g.cpu;

    const base: Rate[] = [];
    const runsOut: Rate[] = [];
    let peak = 0;
    let d: LogDigest | undefined;
    // Interleaved so that load from other processes on this shared machine hits both alike.
    for (let r = 0; r < runs; r++) {
      const b = await timeIt(() => splitOnly(fileSource(file)));
      base.push(rate(mb, b));
      const p = await withPeakRss(() => timeIt(() => digest(fileSource(file), bytes * 2)));
      runsOut.push(rate(p.value.value.bytesRead / MB, p.value));
      peak = Math.max(peak, p.peakRssMB);
      d = p.value.value;
    }
    const digestOut = d!;
    // The renderer is part of the answer path; one render shows it is negligible and in budget.
    const rendered = renderLogAnswer({ facts: ['bench'], digest: digestOut, format: 'summary', budgetChars: 20_000 });
    const splitBaseline = medianRate(base);
    const pipeline = medianRate(runsOut);
    const result: PipelineBenchResult = {
      mb,
      generatorMBps: round(generatorMBps),
      splitBaseline: { wall: round(splitBaseline.wall), cpu: round(splitBaseline.cpu) },
      pipeline: { wall: round(pipeline.wall), cpu: round(pipeline.cpu) },
      ratio: round(pipeline.cpu / splitBaseline.cpu, 3),
      linesPerSec: Math.round((digestOut.linesScanned / (digestOut.bytesRead / MB)) * pipeline.cpu),
      peakRssMB: Math.round(peak),
      templates: digestOut.templates.length,
    };
    log(`  line split baseline    ${fmt(splitBaseline)} (CPU runs: ${base.map((x) => round(x.cpu)).join(', ')})`);
    log(`  full pipeline          ${fmt(pipeline)} (CPU runs: ${runsOut.map((x) => round(x.cpu)).join(', ')}), ${result.linesPerSec} lines/s`);
    log(`  pipeline / baseline    ${result.ratio} (CPU time)`);
    log(`  peak RSS (pipeline)    ${result.peakRssMB} MB; ${digestOut.linesScanned} lines, ${result.templates} templates, redactions ${JSON.stringify(digestOut.redactions)}`);
    log(`  render 20k budget      ${rendered.text.length} chars, ${rendered.templatesShown} templates, ${rendered.linesShown} lines`);
    log(`  generator alone        ${result.generatorMBps} MB/s by CPU time (writing the input file)`);

    if (bigMb > 0) {
      const milestones: { mb: number; rssMB: number }[] = [];
      const big = await withPeakRss(() =>
        timeIt(() => digest(withMilestones(hugeJournalStream({ bytes: bigMb * MB, seed: 99 }), Math.max(1, Math.floor(bigMb / 8)) * MB, milestones), bigMb * MB * 2)),
      );
      const bigMbRead = big.value.value.bytesRead / MB;
      const bigRate = rate(bigMbRead, big.value);
      // The generator runs in this process: take its CPU time (measured above) out.
      const exGen = bigMbRead / Math.max(1e-9, big.value.cpu - bigMbRead / generatorMBps);
      result.big = {
        mb: bigMb,
        pipeline: { wall: round(bigRate.wall), cpu: round(bigRate.cpu) },
        exGeneratorCpuMBps: round(exGen),
        peakRssMB: Math.round(big.peakRssMB),
        rssAtMB: milestones,
      };
      log(`  big run ${bigMb} MB       pipeline ≈${result.big.exGeneratorCpuMBps} MB/s by CPU time without the generator (with it: ${fmt(bigRate)}), peak RSS ${result.big.peakRssMB} MB`);
      log(`  RSS by input size      ${milestones.map((m) => `${m.mb} MB→${m.rssMB} MB`).join(', ')}`);
    } else log('  big run                skipped (--big-mb 0 / BENCH_BIG_MB=0)');
    log(`  targets: ≥ ${TARGET_MBPS} MB/s, peak RSS ≤ ${TARGET_RSS_MB} MB and flat up to 2 GB`);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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

/**
 * Log pipeline throughput and memory (issue 15 targets: ≥ 60 MB/s single stream on 200 MB with every
 * log-format feature on, peak RSS ≤ 150 MB and flat from 200 MB to 2 GB), next to a plain line split of
 * the same input in the same run.
 *
 * What is measured is what users run: the built CLI, `node dist/index.js summarize FILE` (run
 * `npm run build` first), in a child process, so the figures hold no bench or tsx state. The child is
 * started with `--import bench/child-usage.mjs`, which writes its own CPU time (user + system, all
 * threads) and peak RSS (getrusage) when it exits; rate = input bytes / the child's CPU time. The same CLI
 * on an empty file gives the start-up cost, printed apart and subtracted in the "net" figure. CPU time is
 * the headline because this machine is shared: it stays comparable when other work competes for the
 * cores (wall time is printed too).
 *
 * Two 200 MB inputs, written to files first so the generator's cost is out of the figures: the standard
 * one, whose line bodies repeat every ~1,200 lines of a template (48 pre-rendered bodies each), and the
 * same with fresh ids (every hex id, UUID, pod suffix and number drawn anew per line), on which a cache
 * in the pipeline gains nothing it would not gain on a real node's logs.
 *
 * 2 GB: fresh-ids text streamed from the generator (in this process) into the child's standard input,
 * with the child's RSS read from /proc at every eighth of the way, to show memory does not grow with
 * input size. The CLI caps a read at 512 MiB, so this child is bench/summarize-child.mjs: the same built
 * summarize with a 4 GB cap. Skip it with --big-mb 0 or BENCH_BIG_MB=0 (about a minute on an idle 2-core
 * machine).
 *
 * Run alone: npm run build && npx tsx bench/pipeline.ts [--mb 200] [--big-mb 2000] [--runs 3]
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline as pipe } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LineSplitter } from '../src/logs/lines.js';
import { hugeJournalStream } from '../src/sandbox/generate/huge.js';

interface Rate {
  /** MB/s by wall-clock time. */
  wall: number;
  /** MB/s by CPU time (user + system). */
  cpu: number;
}

interface ChildRun {
  /** CPU seconds (user + system) of the child, from its own getrusage at exit. */
  cpu: number;
  wall: number;
  maxRssMB: number;
  stdout: string;
}

export interface InputResult {
  splitBaseline: Rate;
  /** bytes / the CLI child's CPU time, start-up included. */
  cli: Rate;
  /** The same with the start-up cost (empty file) taken out. */
  cliNet: Rate;
  /** cliNet / baseline, by CPU time. */
  ratio: number;
  /** Largest child peak RSS over the runs. */
  peakRssMB: number;
  linesRead?: number;
  generatorMBps: number;
}

export interface PipelineBenchResult {
  mb: number;
  startup: { cpuSec: number; wallSec: number; rssMB: number };
  standard: InputResult;
  freshIds: InputResult;
  big?: { mb: number; cli: Rate; cliNet: Rate; peakRssMB: number; rssAtMB: { mb: number; rssMB: number; hwmMB: number }[] };
}

const MB = 1e6;
const TARGET_MBPS = 60;
const TARGET_RSS_MB = 150;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'dist', 'index.js');
const BIG_CHILD = path.join(root, 'bench', 'summarize-child.mjs');
const USAGE = pathToFileURL(path.join(root, 'bench', 'child-usage.mjs')).href;

/**
 * Runs `node --import child-usage.mjs ...args` and returns its own CPU time and peak RSS. With `feed`,
 * that stream is written to its standard input (with backpressure), calling `onFed` as bytes go in.
 */
async function runChild(args: string[], feed?: { source: Readable; onFed: (bytes: number, pid: number) => void }): Promise<ChildRun> {
  const t0 = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, KNL_BENCH_USAGE_FD: '3' };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', USAGE, ...args], { stdio: [feed ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'], env });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const usage: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  (child.stdio[3] as Readable).on('data', (c: Buffer) => usage.push(c));
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  if (feed) {
    const stdin = child.stdin!;
    let stdinError: Error | undefined;
    stdin.on('error', (e) => (stdinError = e)); // EPIPE if the child dies: reported with its stderr below
    let fed = 0;
    for await (const c of feed.source as AsyncIterable<Buffer>) {
      if (stdinError) break;
      fed += c.length;
      if (!stdin.write(c)) await drainedOrClosed(stdin);
      feed.onFed(fed, child.pid!);
    }
    feed.source.destroy();
    stdin.end();
  }
  const [code, signal] = await exited;
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${args.join(' ')}: exit ${code ?? signal}: ${Buffer.concat(err).toString().trim()}`);
  const report = Buffer.concat(usage).toString();
  if (!report) throw new Error(`${args.join(' ')}: exited without its usage report (was ${USAGE} preloaded?)`);
  const u = JSON.parse(report) as { userUs: number; systemUs: number; maxRssKiB: number };
  return { cpu: (u.userUs + u.systemUs) / 1e6, wall, maxRssMB: (u.maxRssKiB * 1024) / MB, stdout: Buffer.concat(out).toString() };
}

function drainedOrClosed(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.on('drain', done);
    w.on('close', done);
  });
}

/** VmRSS and VmHWM (peak so far) of a live process, in MB; undefined off Linux. */
function procMemMB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: (kib('VmRSS') * 1024) / MB, hwm: (kib('VmHWM') * 1024) / MB };
  } catch {
    return undefined;
  }
}

/** Wall and CPU seconds of `f` in this process. */
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

/** The baseline: split the file into lines (the pipeline's first step, with its line cap), nothing else. */
async function splitOnly(file: string): Promise<number> {
  let lines = 0;
  const s = new LineSplitter({ maxLineChars: 2000, onLine: () => lines++ });
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) s.push(c as Buffer);
  s.end();
  return lines;
}

/** "Read 1,234 lines; …" from the summary's header. */
function linesRead(summary: string): number | undefined {
  const m = /^Read ([\d,]+) lines/m.exec(summary);
  return m ? Number(m[1]!.replaceAll(',', '')) : undefined;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function medianRate(rs: Rate[]): Rate {
  return { wall: round(median(rs.map((r) => r.wall))), cpu: round(median(rs.map((r) => r.cpu))) };
}

function fmt(r: Rate): string {
  return `${r.cpu} MB/s by CPU time, ${r.wall} MB/s by wall time`;
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
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (the bench runs the built CLI)`);
  log(`pipeline bench: \`node dist/index.js summarize FILE\` in a child process on ${mb} MB of generated journal, ${runs} runs each (medians), Node ${process.version}`);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'knl-bench-'));
  try {
    const empty = path.join(dir, 'empty.log');
    await writeFile(empty, '');
    const inputs = [
      { name: 'standard', file: path.join(dir, `journal-${mb}mb.log`), freshIds: false },
      { name: 'fresh ids', file: path.join(dir, `journal-${mb}mb-fresh.log`), freshIds: true },
    ];
    const genRates: number[] = [];
    for (const input of inputs) {
      const g = await timeIt(() => pipe(hugeJournalStream({ bytes, seed: 1, freshIds: input.freshIds }), createWriteStream(input.file)));
      genRates.push(round(mb / g.cpu));
    }

    // Start-up: the same CLI on an empty file (process start, bundle load, one empty summary).
    const starts: ChildRun[] = [];
    for (let r = 0; r < runs; r++) starts.push(await runChild([CLI, 'summarize', empty]));
    const startup = {
      cpuSec: round(median(starts.map((s) => s.cpu)), 3),
      wallSec: round(median(starts.map((s) => s.wall)), 3),
      rssMB: Math.round(median(starts.map((s) => s.maxRssMB))),
    };
    const net = (t: { cpu: number; wall: number }): { cpu: number; wall: number } => ({
      cpu: Math.max(1e-9, t.cpu - startup.cpuSec),
      wall: Math.max(1e-9, t.wall - startup.wallSec),
    });

    const base = inputs.map((): Rate[] => []);
    const cli = inputs.map((): ChildRun[] => []);
    // Interleaved so that load from other processes on this shared machine hits all of them alike.
    for (let r = 0; r < runs; r++) {
      for (const [i, input] of inputs.entries()) {
        base[i]!.push(rate(mb, await timeIt(() => splitOnly(input.file))));
        cli[i]!.push(await runChild([CLI, 'summarize', input.file]));
      }
    }
    const results = inputs.map((input, i): InputResult => {
      const splitBaseline = medianRate(base[i]!);
      const runsOut = cli[i]!;
      const cliNet = medianRate(runsOut.map((c) => rate(mb, net(c))));
      return {
        splitBaseline,
        cli: medianRate(runsOut.map((c) => rate(mb, c))),
        cliNet,
        ratio: round(cliNet.cpu / splitBaseline.cpu, 3),
        peakRssMB: Math.round(Math.max(...runsOut.map((c) => c.maxRssMB))),
        linesRead: linesRead(runsOut[0]!.stdout),
        generatorMBps: genRates[i]!,
      };
    });
    const result: PipelineBenchResult = { mb, startup, standard: results[0]!, freshIds: results[1]! };

    log(`  start-up (empty file)   ${startup.cpuSec} s CPU, ${startup.wallSec} s wall, peak RSS ${startup.rssMB} MB (taken out of the "net" rates)`);
    for (const [i, input] of inputs.entries()) {
      const x = results[i]!;
      const cpuRuns = cli[i]!.map((c) => round(mb / net(c).cpu)).join(', ');
      log(`  ${input.name} input (${x.linesRead ?? '?'} lines; generator ${x.generatorMBps} MB/s by CPU time)`);
      log(`    line split baseline   ${fmt(x.splitBaseline)} (CPU runs: ${base[i]!.map((b) => round(b.cpu)).join(', ')})`);
      log(`    summarize CLI, net    ${fmt(x.cliNet)} (CPU runs: ${cpuRuns})`);
      log(`    summarize CLI, gross  ${fmt(x.cli)} (start-up included)`);
      log(`    CLI / baseline        ${x.ratio} (net, CPU time)`);
      log(`    CLI peak RSS          ${x.peakRssMB} MB (largest of ${runs} runs; RSS runs: ${cli[i]!.map((c) => Math.round(c.maxRssMB)).join(', ')})`);
    }

    if (bigMb > 0) {
      const bigBytes = bigMb * MB;
      const step = bigBytes / 8;
      const rssAtMB: { mb: number; rssMB: number; hwmMB: number }[] = [];
      let next = step;
      const run = await runChild([BIG_CHILD, String(2 * bigBytes)], {
        source: hugeJournalStream({ bytes: bigBytes, seed: 99, freshIds: true }),
        onFed: (fed, pid) => {
          if (fed < next) return;
          next += step;
          const m = procMemMB(pid);
          if (m) rssAtMB.push({ mb: Math.round(fed / MB), rssMB: Math.round(m.rss), hwmMB: Math.round(m.hwm) });
        },
      });
      const got = linesRead(run.stdout);
      result.big = {
        mb: bigMb,
        cli: { cpu: round(bigMb / run.cpu), wall: round(bigMb / run.wall) },
        cliNet: { cpu: round(bigMb / net(run).cpu), wall: round(bigMb / net(run).wall) },
        peakRssMB: Math.round(run.maxRssMB),
        rssAtMB,
      };
      log(`  big run: ${bigMb} MB of fresh-ids text streamed into summarize's stdin (${got ?? '?'} lines)`);
      log(`    summarize, net        ${fmt(result.big.cliNet)} (the generator runs in the bench process, not counted)`);
      log(`    peak RSS              ${result.big.peakRssMB} MB`);
      log(
        `    RSS by MB fed         ${rssAtMB.length ? rssAtMB.map((m) => `${m.mb}→${m.rssMB}`).join(', ') : 'n/a (no /proc)'} MB` +
          (rssAtMB.length ? ` (peak so far at the end: ${rssAtMB[rssAtMB.length - 1]!.hwmMB} MB)` : ''),
      );
    } else log('  big run                 skipped (--big-mb 0 / BENCH_BIG_MB=0)');
    log(`  targets: ≥ ${TARGET_MBPS} MB/s by CPU time (net) on the standard input (fresh ids: the same work without any cache's help), peak RSS ≤ ${TARGET_RSS_MB} MB and flat up to 2 GB`);
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

/**
 * nodeLogQuery.Copy: native probes, one logging command for the native services, then the file
 * fallback, all under one deadline, writing into an already-committed 200 response. In-band messages
 * are upstream's, byte for byte.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { hugeJournalStream } from '../generate/huge.js';
import { goStringSliceV } from './goFormat.js';
import { buildJournalArgs, dripJournalStream, probeNativeLogger } from './linuxJournal.js';
import { hasOptions, type NodeLogQuery } from './nodeLogQuery.js';
import type { ResponseSink } from './responseSink.js';
import { secureJoin } from './secureJoin.js';
import type { KubeletOptions, KubeletRequestRecord } from './types.js';
import type { KubeletVersion } from './version.js';
import { buildPowerShell, isWinProvider, runPowerShellQuery } from './windowsEvents.js';

export interface CopyContext {
  opts: KubeletOptions;
  version: KubeletVersion;
  sink: ResponseSink;
  /** Fires at the copy deadline (context.WithDeadline). */
  deadline: AbortSignal;
  /** Fires at the deadline or when the client goes away: what kills the logging command. */
  stop: AbortSignal;
  record: Partial<KubeletRequestRecord>;
}

const DEADLINE_TEXT = 'context deadline exceeded';

/** The handler panicked (a nil dereference in old kubelets): net/http drops the connection. */
export class HandlerPanic extends Error {}

export async function copyNodeLogQuery(ctx: CopyContext, q: NodeLogQuery): Promise<void> {
  if (ctx.deadline.aborted) return;
  const native: string[] = [];
  const fileLoggers: string[] = [];
  for (const s of q.services) {
    if (ctx.sink.gone) return;
    if (await isNative(ctx, s)) native.push(s);
    else fileLoggers.push(s);
  }
  if (native.length > 0) await copyServiceLogs(ctx, q, native);
  if (ctx.sink.gone) return;
  if (fileLoggers.length > 0 && hasOptions(q)) {
    await ctx.sink.write(`\noptions present and query resolved to log files for ${goStringSliceV(fileLoggers)}\ntry without specifying options\n`);
    return;
  }
  if (fileLoggers.length > 0) await copyFileLogs(ctx, fileLoggers);
}

function synthetic(opts: KubeletOptions): boolean {
  return !!(opts.behavior?.dripIntervalMs || opts.behavior?.hugeBytes);
}

async function isNative(ctx: CopyContext, service: string): Promise<boolean> {
  // A command started after the deadline fails at once, which the probe reads as "not native".
  if (ctx.deadline.aborted) return false;
  const { opts } = ctx;
  if (opts.os === 'windows') return isWinProvider(opts.winEvents ?? [], service);
  if (!opts.journal) return synthetic(opts);
  return probeNativeLogger(opts.journal, service, ctx.stop, opts.exactUnitMatch === true);
}

async function copyServiceLogs(ctx: CopyContext, q: NodeLogQuery, services: string[]): Promise<void> {
  const { opts, sink } = ctx;
  const boot = q.boot ?? 0;
  if (opts.os === 'windows') {
    const cmd = buildPowerShell(q, services);
    ctx.record.powershell = cmd.script;
    ctx.record.powershellEnv = cmd.env;
    if (ctx.deadline.aborted) return void (await sink.write('\nerror: journal output not available\n'));
    await sink.write(runPowerShellQuery(opts.winEvents ?? [], cmd, opts.timeZone));
    return;
  }
  const args = buildJournalArgs(q, services, ctx.version);
  if (args === 'nil-since-panic') throw new HandlerPanic('invalid memory address or nil pointer dereference');
  ctx.record.journalArgs = args;
  if (ctx.deadline.aborted) {
    if (boot === 0) await sink.write('\nerror: journal output not available\n');
    return;
  }
  let output: Readable;
  let exited: Promise<number | null>;
  try {
    if (opts.behavior?.hugeBytes) {
      output = hugeJournalStream({ bytes: opts.behavior.hugeBytes, hostname: opts.nodeName, plantedErrors: opts.behavior.hugePlantedErrors });
      exited = Promise.resolve(0);
    } else if (opts.behavior?.dripIntervalMs) {
      output = dripJournalStream(opts.nodeName, opts.behavior.dripIntervalMs, ctx.stop);
      exited = Promise.resolve(0);
    } else {
      ({ output, exited } = opts.journal!.run(args, ctx.stop));
    }
  } catch {
    if (boot === 0) await sink.write('\nerror: journal output not available\n');
    return;
  }
  await pump(ctx, output);
  try {
    await exited; // a non-zero exit (or a kill) is swallowed like exec.ExitError
  } catch {
    if (boot === 0 && !ctx.stop.aborted) await sink.write('\nerror: journal output not available\n');
  }
}

/** Copies a stream into the response with backpressure; stops reading the moment `stop` fires. */
async function pump(ctx: CopyContext, output: Readable): Promise<void> {
  const onStop = () => output.destroy();
  if (ctx.stop.aborted) onStop();
  else ctx.stop.addEventListener('abort', onStop, { once: true });
  try {
    for await (const chunk of output) {
      if (!(await ctx.sink.write(chunk as Buffer))) break;
      if (ctx.stop.aborted) break;
    }
  } catch {
    // destroyed by the deadline or the client leaving: the stream just ends
  } finally {
    ctx.stop.removeEventListener('abort', onStop);
    output.destroy();
  }
}

async function copyFileLogs(ctx: CopyContext, services: string[]): Promise<void> {
  if (ctx.deadline.aborted) {
    await ctx.sink.write(`\ncontext error: ${DEADLINE_TEXT}\n`);
    return;
  }
  for (const s of services) {
    if (ctx.sink.gone) return;
    await heuristicsCopyFileLogs(ctx, s);
  }
}

/** /var/log/svc, /var/log/svc.log, /var/log/svc/svc.log: the first regular file wins. */
async function heuristicsCopyFileLogs(ctx: CopyContext, service: string): Promise<void> {
  const root = ctx.opts.varLogDir;
  const windows = ctx.opts.os === 'windows';
  for (const name of [service, `${service}.log`, `${service}/${service}.log`]) {
    let real: string;
    try {
      real = path.join(root, await secureJoin(root, name, windows));
      const st = await fs.stat(real);
      if (st.isDirectory()) continue;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      await ctx.sink.write(`\nerror getting log for ${service}: ${(e as Error).message}\n`);
      return;
    }
    const err = await copyFileWithDeadline(ctx, real);
    if (err) await ctx.sink.write(`\nerror getting log for ${service}: ${err}\n`);
    return;
  }
  await ctx.sink.write(`\nlog not found for ${service}\n`);
}

/** io.Copy through readerCtx: each read first checks the deadline. */
async function copyFileWithDeadline(ctx: CopyContext, real: string): Promise<string | null> {
  const fh = await fs.open(real, 'r');
  try {
    const buf = Buffer.alloc(32 * 1024);
    for (;;) {
      if (ctx.deadline.aborted) return DEADLINE_TEXT;
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) return null;
      if (!(await ctx.sink.write(Buffer.from(buf.subarray(0, bytesRead))))) return null;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Line filter for file queries, where the kubelet accepts no options and this server applies pattern and
 * time bounds itself. Two rules make it safe to offer:
 * - the pattern is matched on the REDACTED line, so a pattern cannot tell whether a secret starts with
 *   "abc" (the answer would otherwise differ between a right and a wrong guess);
 * - the work is sliced: the event loop is yielded every few milliseconds (so /healthz, other sessions and
 *   SIGTERM are served), the call's signal is checked between slices, and a CPU budget cuts a costly
 *   pattern short with a notice instead of running past the call's deadline.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createRedactor } from '../logs/redact.js';
import { compileLocalPattern } from './go-regexp.js';
import type { LocalFilterSpec } from './types.js';

/** Shared by every pass of one node's call: when `deadline` (epoch ms) passes, pattern matching stops. */
export interface FilterBudget {
  deadline: number;
}

export interface LocalFilterResult {
  /** The newest `want` matching lines, in file order (raw: the digest redacts them). */
  kept: string[];
  /** Lines looked at (newest first, until `want` matched or the budget ran out). */
  examined: number;
  /** The budget ran out before the oldest line was examined. */
  cut: boolean;
}

export type LocalTailFilter = (lines: string[], want: number) => Promise<LocalFilterResult>;

/**
 * Characters of a line that are redacted and matched: the pipeline cuts lines at 2000 characters
 * (DigestOptions.maxLineChars), so the shown line is this prefix, and a 16 MB line without a newline costs no
 * more than its prefix.
 */
const MATCH_CHARS = 2000;

/** Work between two yields to the event loop. */
const SLICE_MS = 10;
/** Lines between two clock reads (a line costs microseconds for the costliest accepted pattern). */
const CHECK_EVERY = 16;

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Runs `step(i)` for i = from, from+dir, … while it returns true, yielding every SLICE_MS. Throws the
 * signal's reason when aborted; returns 'budget' when the budget's deadline passed first.
 */
async function sliced(from: number, count: number, dir: 1 | -1, step: (i: number) => boolean, signal: AbortSignal, budget?: FilterBudget): Promise<'done' | 'stopped' | 'budget'> {
  let sliceStart = performance.now();
  for (let k = 0, i = from; k < count; k++, i += dir) {
    if (!step(i)) return 'stopped';
    if (k % CHECK_EVERY === CHECK_EVERY - 1 && performance.now() - sliceStart > SLICE_MS) {
      await yieldToEventLoop();
      if (signal.aborted) throw abortReason(signal);
      if (budget && Date.now() > budget.deadline) return k + 1 < count ? 'budget' : 'done';
      sliceStart = performance.now();
    }
  }
  return 'done';
}

/**
 * A stateful predicate for lines fed one by one in file order (streams: journal windows cut locally, rotated
 * .gz files). Same rules as the tail filter below: a line inherits its predecessor's time, and the pattern is
 * tested on the redacted line (its first MATCH_CHARS characters). A stream is sliced by its chunks.
 */
export function makeLocalLineFilter(spec: LocalFilterSpec, timeOf: (line: string) => number | undefined): (line: string) => boolean {
  const re = spec.pattern !== undefined && spec.pattern !== '' ? compileLocalPattern(spec.pattern) : undefined;
  const redactor = re ? createRedactor() : undefined;
  const since = spec.sinceMs;
  const until = spec.untilMs;
  const timed = since !== undefined || until !== undefined;
  let current: number | undefined;
  return (line: string): boolean => {
    const redacted = redactor?.redactLine(line.length > MATCH_CHARS ? line.slice(0, MATCH_CHARS) : line);
    if (timed) {
      const t = timeOf(line);
      if (t !== undefined && Number.isFinite(t)) current = t;
      if (current !== undefined) {
        if (since !== undefined && current < since) return false;
        if (until !== undefined && current > until) return false;
      }
    }
    return re === undefined || re.test(redacted!);
  };
}

/**
 * A filter for one pass over the lines of a file tail, in file order. A line without a parseable time
 * inherits the previous line's time (stack traces, wrapped messages); lines before the first timed line
 * are kept, since there is no evidence to drop them. The pattern is a Go regexp with journalctl's smart
 * case, so files and services answer the same pattern the same way; it is tested on the redacted line.
 */
export function makeLocalTailFilter(
  spec: LocalFilterSpec,
  timeOf: (line: string) => number | undefined,
  run: { signal: AbortSignal; budget?: FilterBudget },
): LocalTailFilter {
  const re = spec.pattern !== undefined && spec.pattern !== '' ? compileLocalPattern(spec.pattern) : undefined;
  const since = spec.sinceMs;
  const until = spec.untilMs;
  const timed = since !== undefined || until !== undefined;
  return async (lines, want) => {
    const n = lines.length;
    // Forward, cheap and linear: the time window (a line inherits its predecessor's time) and the redacted
    // text (the redactor follows multi-line private keys). No budget here: it cannot be made costly.
    const inWindow = timed ? new Uint8Array(n) : undefined;
    const redacted: string[] | undefined = re ? new Array<string>(n) : undefined;
    if (timed || re) {
      const redactor = re ? createRedactor() : undefined;
      let current: number | undefined;
      await sliced(
        0,
        n,
        1,
        (i) => {
          const line = lines[i]!;
          if (inWindow) {
            const t = timeOf(line);
            if (t !== undefined && Number.isFinite(t)) current = t;
            inWindow[i] = current === undefined || ((since === undefined || current >= since) && (until === undefined || current <= until)) ? 1 : 0;
          }
          if (redactor) redacted![i] = redactor.redactLine(line.length > MATCH_CHARS ? line.slice(0, MATCH_CHARS) : line);
          return true;
        },
        run.signal,
      );
    }
    // Backward, newest first: only the newest `want` matches can be shown, so stop once they are found.
    const keptIdx: number[] = [];
    let examined = 0;
    const outcome =
      want <= 0
        ? 'stopped'
        : await sliced(
            n - 1,
            n,
            -1,
            (i) => {
              examined++;
              if ((!inWindow || inWindow[i]) && (!re || re.test(redacted![i]!))) keptIdx.push(i);
              return keptIdx.length < want;
            },
            run.signal,
            re ? run.budget : undefined,
          );
    return { kept: keptIdx.reverse().map((i) => lines[i]!), examined, cut: outcome === 'budget' };
  };
}

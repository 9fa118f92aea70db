/**
 * Line filter for file queries, where the kubelet accepts no options and this
 * server applies pattern and time bounds itself.
 */
import { compileLocalPattern } from './go-regexp.js';
import type { LocalFilterSpec } from './types.js';

/**
 * Returns a stateful predicate: feed it the lines in file order. A line without
 * a parseable time inherits the previous line's time (stack traces, wrapped
 * messages); lines before the first timed line are kept, since there is no
 * evidence to drop them. The pattern is a Go regexp with journalctl's smart case,
 * so files and services answer the same pattern the same way.
 */
export function makeLocalLineFilter(
  spec: LocalFilterSpec,
  timeOf: (line: string) => number | undefined,
): (line: string) => boolean {
  const re = spec.pattern !== undefined && spec.pattern !== '' ? compileLocalPattern(spec.pattern) : undefined;
  const since = spec.sinceMs;
  const until = spec.untilMs;
  const timed = since !== undefined || until !== undefined;
  let current: number | undefined;
  return (line: string): boolean => {
    if (timed) {
      const t = timeOf(line);
      if (t !== undefined && Number.isFinite(t)) current = t;
      if (current !== undefined) {
        if (since !== undefined && current < since) return false;
        if (until !== undefined && current > until) return false;
      }
    }
    return re === undefined || re.test(line);
  };
}

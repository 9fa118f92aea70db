import { SEVERITY_RANK, type Severity } from './severity.js';

interface Rankable {
  count: number;
  severity: Severity;
  lastTime?: string;
  template?: string;
}

/** A one-off non-error line this long is usually a dump (a pod spec, a feature list), not a clue. */
export const GIANT_ONE_OFF_CHARS = 400;

/** A template this rare among `total` lines is worth showing even when it is not an error. */
export function isRare(count: number, total: number): boolean {
  return count <= Math.max(2, total * 0.001);
}

/**
 * Importance order: fatal/error/warning templates first (most frequent first), then rare templates
 * (rarest first), then the rest by count, and giant one-off info lines (dumps) last. Repeated noise
 * and dumps sort last, so a budget cuts them first.
 */
export function rankTemplates<T extends Rankable>(templates: T[], totalLines: number): T[] {
  const bucket = (t: T): number => {
    const r = SEVERITY_RANK[t.severity];
    if (r <= 2) return r;
    if (t.count === 1 && (t.template?.length ?? 0) > GIANT_ONE_OFF_CHARS) return 5;
    return isRare(t.count, totalLines) ? 3 : 4;
  };
  return templates
    .map((t) => ({ t, b: bucket(t) }))
    .sort((x, y) => {
      if (x.b !== y.b) return x.b - y.b;
      if (x.b === 3) return x.t.count - y.t.count || cmpDesc(x.t.lastTime, y.t.lastTime);
      return y.t.count - x.t.count || cmpDesc(x.t.lastTime, y.t.lastTime);
    })
    .map((x) => x.t);
}

function cmpDesc(a?: string, b?: string): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? 1 : -1;
}

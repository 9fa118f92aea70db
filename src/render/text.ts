/** Small text helpers for answers: clipping that keeps both ends, compact times, sizes and node sets. */

/**
 * Shortens `s` to at most `max` characters by cutting its middle: the start (what the line is) and the
 * end (Go error chains put the root cause last) both survive, with a marker saying how much was cut.
 */
export function clipMiddle(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  // Short clips get a bare ellipsis; longer ones say how much went. Sized for the largest possible count,
  // so the exact marker below is never longer.
  const terse = max < 100;
  const marker = terse ? '…' : ` …[${'9'.repeat(String(s.length).length)} cut]… `;
  const room = max - marker.length;
  if (room < 8) return clipEnd(s, max);
  // The end carries the cause more often than the start: give it a little more.
  let headLen = Math.floor(room * 0.45);
  let tailStart = s.length - (room - headLen);
  if (isHighSurrogate(s.charCodeAt(headLen - 1))) headLen--;
  if (isLowSurrogate(s.charCodeAt(tailStart))) tailStart++;
  const cut = tailStart - headLen;
  const exact = terse ? '…' : ` …[${cut} cut]… `;
  const out = s.slice(0, headLen) + exact + s.slice(tailStart);
  return out.length <= max ? out : clipEnd(s, max);
}

export function clipEnd(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let n = Math.max(0, max - 1);
  if (isHighSurrogate(s.charCodeAt(n - 1))) n--;
  return s.slice(0, n) + '…';
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** "03:44:01", or "11-26 03:44:01" when the answer spans several days. */
export function clock(iso: string | undefined, withDate: boolean): string {
  if (!iso) return '?';
  const m = /^\d{4}-(\d\d)-(\d\d)T(\d\d:\d\d:\d\d)/.exec(iso);
  if (!m) return iso;
  return withDate ? `${m[1]}-${m[2]} ${m[3]}` : m[3]!;
}

/** "03:44:01→05:12:09", or one time when both ends are the same second. */
export function span(first: string | undefined, last: string | undefined, withDate: boolean): string {
  const a = clock(first, withDate);
  const b = clock(last, withDate);
  if (!first && !last) return '';
  return a === b ? a : `${a}→${b}`;
}

/** "2026-11-27 03:44:01 → 05:44:01 UTC" for the whole answer (the date said once). */
export function rangeUtc(first?: string, last?: string): string {
  if (!first && !last) return '';
  const day = (iso?: string) => iso?.slice(0, 10);
  const t = (iso?: string) => (iso ? iso.slice(11, 19) : '?');
  if (day(first) === day(last)) return `${day(first)} ${t(first)} → ${t(last)} UTC`;
  return `${day(first) ?? '?'} ${t(first)} → ${day(last) ?? '?'} ${t(last)} UTC`;
}

export function spansDays(first?: string, last?: string): boolean {
  return !!first && !!last && first.slice(0, 10) !== last.slice(0, 10);
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function fmtCount(n: number): string {
  // The first toLocaleString loads ICU's number formatting (~10 ms): integers are grouped by hand.
  return Number.isSafeInteger(n) ? String(n).replace(/\B(?=(\d{3})+$)/g, ',') : n.toLocaleString('en-US');
}

/**
 * Where, among the answering nodes, said as briefly as it can be: "on all 16 nodes", "on all but huge-1",
 * "only on worker-1, worker-2", "on 5 of 16 nodes: a, b, c, +2".
 */
export function nodeSet(subset: readonly string[], all: readonly string[], show = 3): string {
  const inSet = new Set(subset);
  const missing = all.filter((n) => !inSet.has(n));
  if (missing.length === 0) return all.length === 1 ? `on ${all[0]}` : `on all ${all.length} nodes`;
  if (missing.length <= show && missing.length < subset.length) return `on all but ${missing.join(', ')}`;
  if (subset.length <= show) return `only on ${subset.join(', ')}`;
  return `on ${subset.length} of ${all.length} nodes: ${subset.slice(0, show).join(', ')}, +${subset.length - show}`;
}

/** journalctl's time handling as the in-process backend needs it (--utc output, C locale, the node's TZ for input). */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function p2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** short-precise prefix: `Nov 27 03:44:01.123456` */
export function shortPreciseStamp(usec: bigint): string {
  const secs = usec / 1_000_000n;
  const d = new Date(Number(secs) * 1000);
  const micros = String(usec - secs * 1_000_000n).padStart(6, '0');
  return `${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${micros}`;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in ms (local = UTC + offset). */
export function zoneOffsetMs(utcMs: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  let f = zoneFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    zoneFormats.set(timeZone, f);
  }
  const whole = Math.floor(utcMs / 1000) * 1000;
  const p = Object.fromEntries(f.formatToParts(new Date(whole)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - whole;
}

/**
 * A wall-clock time in `timeZone` (given as if it were UTC) → the UTC instant, as mktime() with
 * tm_isdst=-1 finds it outside DST transitions.
 */
export function zonedWallToUtcMs(wallAsUtcMs: number, timeZone: string): number {
  if (timeZone === 'UTC') return wallAsUtcMs;
  const first = wallAsUtcMs - zoneOffsetMs(wallAsUtcMs, timeZone);
  return wallAsUtcMs - zoneOffsetMs(first, timeZone);
}

/**
 * Parses --since/--until values the way journalctl's parse_timestamp() does for the forms that
 * matter here: "Y-M-D H:M:S[.frac]", "Y-M-D H:M", "Y-M-D" (fields need no zero padding, which is
 * how the kubelet's "2006-1-2 15:4:5" layout writes them) and "@epoch". Returns microseconds, or
 * undefined when journalctl would reject the value.
 */
export function parseJournalTimestamp(value: string, nowUsec: bigint, timeZone = 'UTC'): bigint | undefined {
  const v = value.trim();
  if (v === 'now') return nowUsec;
  const at = /^@(\d+)(?:\.(\d{1,6}))?$/.exec(v);
  if (at) return BigInt(at[1]!) * 1_000_000n + BigInt((at[2] ?? '').padEnd(6, '0') || '0');
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as number[];
  // strptime's ranges; mktime then normalizes (e.g. Nov 31 becomes Dec 1), as Date.UTC does.
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 60) return undefined;
  // Wall-clock values are local time (mktime); --utc changes the output only.
  const ms = zonedWallToUtcMs(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!), timeZone);
  return BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0') || '0');
}

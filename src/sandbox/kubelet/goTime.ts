/**
 * The slice of Go's time package the kubelet relies on: time.Parse(time.RFC3339, v), Format(dateLayout)
 * and Time.String(). A parsed time keeps the wall clock and the offset the client sent, because the
 * kubelet formats journalctl arguments in that offset (it never converts to UTC).
 */

export interface GoTime {
  /** Wall clock fields in the parsed offset. */
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Seconds east of UTC. */
  offsetSec: number;
  /** Zone abbreviation as Go prints it: "UTC" for Z (and +00:00 on a UTC host), "" for other fixed offsets. */
  zoneName: string;
  /** Instant in milliseconds since the epoch (sub-millisecond part in nanos). */
  epochMs: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

function daysIn(month: number, year: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** time.Parse(time.RFC3339, v); null where Go returns an error. The emulated node's Local zone is UTC. */
export function parseRFC3339(v: string): GoTime | null {
  const m = RFC3339.exec(v);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const frac = m[7] ?? '';
  const nanos = frac ? Number((frac + '000000000').slice(0, 9)) : 0;
  let offsetSec = 0;
  let zoneName = 'UTC';
  const zone = m[8]!;
  if (zone !== 'Z') {
    const hh = Number(zone.slice(1, 3));
    const mm = Number(zone.slice(4, 6));
    if (hh > 24 || mm > 60) return null;
    offsetSec = (zone[0] === '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    zoneName = offsetSec === 0 ? 'UTC' : '';
  }
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetSec * 1000 + Math.floor(nanos / 1e6);
  return { year, month, day, hour, minute, second, nanos, offsetSec, zoneName, epochMs };
}

/** Format with the kubelet's dateLayout "2006-1-2 15:4:5": no zero padding, wall clock of the parsed offset. */
export function formatDateLayout(t: GoTime): string {
  return `${t.year}-${t.month}-${t.day} ${t.hour}:${t.minute}:${t.second}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST". */
export function goTimeString(t: GoTime): string {
  let s = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  if (t.nanos) s += '.' + String(t.nanos).padStart(9, '0').replace(/0+$/, '');
  const off = Math.abs(t.offsetSec) / 60;
  const numeric = `${t.offsetSec < 0 ? '-' : '+'}${pad(Math.floor(off / 60))}${pad(off % 60)}`;
  return `${s} ${numeric} ${t.zoneName || numeric}`;
}

/** a.After(b) on instants. */
export function goAfter(a: GoTime, b: GoTime): boolean {
  if (a.epochMs !== b.epochMs) return a.epochMs > b.epochMs;
  return a.nanos % 1e6 > b.nanos % 1e6;
}

/** The instant a wall-clock string "Y-M-D h:m:s" denotes when read as UTC (what journalctl --utc does with it). */
export function wallClockAsUtcMs(t: GoTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

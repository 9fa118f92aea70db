/**
 * Go's `time.Parse(time.RFC3339, v)` as the kubelet applies it to sinceTime and
 * untilTime, plus the UTC `Z` form we send (the kubelet drops the offset and
 * hands journalctl the wall-clock time, so only a UTC instant is unambiguous).
 */
export interface Rfc3339Instant {
  /** Whole seconds since the Unix epoch (UTC). */
  epochSeconds: number;
  /** Fractional digits exactly as given, without the dot ('' when none). */
  fraction: string;
  /** Milliseconds since the epoch, fraction truncated. */
  ms: number;
  /** The same instant as `YYYY-MM-DDTHH:MM:SS[.fraction]Z`. */
  utc: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to the civil date (proleptic Gregorian), without Date's two-digit-year quirks. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Format whole epoch seconds as `YYYY-MM-DDTHH:MM:SS`; undefined outside years 0000–9999. */
export function formatUtcSeconds(epochSeconds: number): string | undefined {
  const d = new Date(epochSeconds * 1000);
  const y = d.getUTCFullYear();
  if (!Number.isFinite(y) || y < 0 || y > 9999) return undefined;
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Parse like Go's RFC3339 layout; undefined when Go would reject it (or the UTC instant has no 4-digit year). */
export function parseRfc3339(value: string): Rfc3339Instant | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetSeconds = 0;
  const zone = m[8];
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetSeconds = (zone[0] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const epochSeconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  const base = formatUtcSeconds(epochSeconds);
  if (base === undefined) return undefined;
  // Go keeps nanoseconds; digits past the ninth carry no information.
  const fraction = (m[7] ?? '').slice(0, 9);
  const ms = epochSeconds * 1000 + (fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0);
  return { epochSeconds, fraction, ms, utc: `${base}${fraction ? '.' + fraction : ''}Z` };
}

/** Compare two instants at Go's nanosecond precision. */
export function compareInstants(a: Rfc3339Instant, b: Rfc3339Instant): number {
  if (a.epochSeconds !== b.epochSeconds) return a.epochSeconds < b.epochSeconds ? -1 : 1;
  const fa = a.fraction.padEnd(9, '0');
  const fb = b.fraction.padEnd(9, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/**
 * Timestamps at the start of node log lines. Called once per line on the hot path, so every format is
 * recognised by its first characters and parsed with charCode arithmetic, never a regex scan.
 */

// Month names keyed by their three char codes packed into one number: no substring per line.
const MONTHS = new Map<number, number>(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((m, i) => [monthKey(m, 0), i]),
);

function monthKey(s: string, i: number): number {
  return (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Reads `n` digits at `i`; -1 when any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Parses "HH:MM:SS[.frac]" at i; returns [msOfDay, endIndex] or undefined. */
function clock(s: string, i: number): [number, number] | undefined {
  const h = digits(s, i, 2);
  if (h < 0 || s.charCodeAt(i + 2) !== 58) return undefined;
  const m = digits(s, i + 3, 2);
  if (m < 0 || s.charCodeAt(i + 5) !== 58) return undefined;
  const sec = digits(s, i + 6, 2);
  if (sec < 0 || h > 23 || m > 59 || sec > 60) return undefined;
  let end = i + 8;
  let ms = 0;
  if (s.charCodeAt(end) === 46 || s.charCodeAt(end) === 44) {
    end++;
    let scale = 100;
    while (isDigit(s.charCodeAt(end))) {
      if (scale >= 1) ms += (s.charCodeAt(end) - 48) * scale;
      scale /= 10;
      end++;
    }
    ms = Math.floor(ms);
  }
  return [((h * 60 + m) * 60 + sec) * 1000 + ms, end];
}

function validDate(y: number, mo: number, d: number): boolean {
  return mo >= 0 && mo <= 11 && d >= 1 && d <= 31 && y >= 1970 && y <= 9999;
}

/** "2026-11-27T03:44:01.123Z", "2026-11-27 03:44:01+02:00", … at i. */
function rfc3339(s: string, i: number): number | undefined {
  const y = digits(s, i, 4);
  if (y < 0 || s.charCodeAt(i + 4) !== 45) return undefined;
  const mo = digits(s, i + 5, 2) - 1;
  const d = s.charCodeAt(i + 7) === 45 ? digits(s, i + 8, 2) : -1;
  const sep = s.charCodeAt(i + 10);
  if (!validDate(y, mo, d) || (sep !== 84 && sep !== 32 && sep !== 116)) return undefined;
  const c = clock(s, i + 11);
  if (!c) return undefined;
  let t = Date.UTC(y, mo, d) + c[0];
  const z = s.charCodeAt(c[1]);
  if (z === 43 || z === 45) {
    // Numeric offset: the instant is local time minus the offset.
    const oh = digits(s, c[1] + 1, 2);
    const colon = s.charCodeAt(c[1] + 3) === 58 ? 1 : 0;
    const om = digits(s, c[1] + 3 + colon, 2);
    if (oh >= 0 && om >= 0) t -= (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
  }
  return t;
}

/** "Nov 27 03:44:01[.123456]" (journald short-precise, syslog) at i; the year comes from the hint. */
function syslogTime(s: string, i: number, year: number): number | undefined {
  const mo = MONTHS.get(monthKey(s, i));
  if (mo === undefined || s.charCodeAt(i + 3) !== 32) return undefined;
  let j = i + 4;
  if (s.charCodeAt(j) === 32) j++; // "Nov  7" pads single-digit days with a space
  let d = digits(s, j, 2);
  if (d >= 0) j += 2;
  else {
    d = digits(s, j, 1);
    j += 1;
  }
  if (d < 1 || s.charCodeAt(j) !== 32) return undefined;
  const c = clock(s, j + 1);
  if (!c) return undefined;
  return Date.UTC(year, mo, d) + c[0];
}

/** klog "I1127 03:44:01.123456 …" at i. */
function klogTime(s: string, i: number, year: number): number | undefined {
  const mo = digits(s, i + 1, 2) - 1;
  const d = digits(s, i + 3, 2);
  if (!validDate(year, mo, d) || s.charCodeAt(i + 5) !== 32) return undefined;
  const c = clock(s, i + 6);
  return c ? Date.UTC(year, mo, d) + c[0] : undefined;
}

/** Windows Format-Table "11/27/2026 3:44:01 AM" (en-US) at the start. */
function windowsTime(s: string): number | undefined {
  let j = 0;
  const num = (): number => {
    let v = 0;
    const start = j;
    while (isDigit(s.charCodeAt(j)) && j - start < 4) v = v * 10 + (s.charCodeAt(j++) - 48);
    return j === start ? -1 : v;
  };
  const mo = num() - 1;
  if (s.charCodeAt(j++) !== 47) return undefined;
  const d = num();
  if (s.charCodeAt(j++) !== 47) return undefined;
  const y = num();
  if (!validDate(y, mo, d) || s.charCodeAt(j++) !== 32) return undefined;
  let h = num();
  if (h < 0 || s.charCodeAt(j++) !== 58) return undefined;
  const m = digits(s, j, 2);
  if (m < 0 || s.charCodeAt(j + 2) !== 58) return undefined;
  const sec = digits(s, j + 3, 2);
  if (sec < 0) return undefined;
  j += 5;
  if (s.charCodeAt(j) === 32) {
    const ap = s.slice(j + 1, j + 3);
    if (ap === 'PM' && h < 12) h += 12;
    else if (ap === 'AM' && h === 12) h = 0;
  }
  return Date.UTC(y, mo, d) + ((h * 60 + m) * 60 + sec) * 1000;
}

/**
 * Milliseconds since the epoch (UTC) of the timestamp that starts `line`, or undefined.
 * Formats without a year (journald short-precise, syslog, klog) take `yearHint` (default: this UTC year);
 * journald is read with `--utc`, so its clock is UTC.
 */
export function parseLineTime(line: string, yearHint?: number): number | undefined {
  const c0 = line.charCodeAt(0);
  if (Number.isNaN(c0)) return undefined;
  const year = yearHint ?? new Date().getUTCFullYear();
  if (c0 >= 65 && c0 <= 90) {
    // Upper case: a month name (journald/syslog) or a klog severity letter.
    const c1 = line.charCodeAt(1);
    if (c1 >= 48 && c1 <= 57) {
      return c0 === 73 || c0 === 87 || c0 === 69 || c0 === 70 ? klogTime(line, 0, year) : undefined;
    }
    return syslogTime(line, 0, year);
  }
  if (c0 >= 48 && c0 <= 57) {
    const c4 = line.charCodeAt(4);
    if (c4 === 45) return rfc3339(line, 0); // "2026-…" RFC3339 and CRI log lines
    return windowsTime(line);
  }
  if (c0 === 116 && line.startsWith('time="')) return rfc3339(line, 6); // logfmt (containerd)
  if (c0 === 116 && line.startsWith('time=')) return rfc3339(line, 5);
  if (c0 === 123) {
    // JSON line: look for a string time field near the start.
    const m = /"(?:time|ts|timestamp|@timestamp)"\s*:\s*"/.exec(line.slice(0, 200));
    if (m) return rfc3339(line, m.index + m[0].length);
  }
  return undefined;
}

export function toIso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

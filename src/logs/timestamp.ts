/**
 * Timestamps in log headers, in the shapes node logs and the programs on a node write them. Called on
 * the hot path (every line, at a few positions), so every shape is recognised by its first characters
 * and parsed with charCode arithmetic, never a regex scan, and nothing is allocated on success.
 */

// Month and day names keyed by their three char codes packed into one number: no substring per line.
// The keys sit in a small table at a multiplicative hash of the packed number (no Map probe per line);
// the hash spreads the 12 months and the 7 days over distinct slots (checked below).
const NAME_SLOTS = 32;
function nameSlot(key: number): number {
  return Math.imul(key, 0x27d4eb2f) >>> 27;
}
function nameTable(names: string[]): { keys: Int32Array; values: Int8Array } {
  const keys = new Int32Array(NAME_SLOTS).fill(-1);
  const values = new Int8Array(NAME_SLOTS).fill(-1);
  names.forEach((m, i) => {
    const k = monthKey(m, 0);
    if (keys[nameSlot(k)] !== -1) throw new Error(`timestamp: name table collision at ${m}`);
    keys[nameSlot(k)] = k;
    values[nameSlot(k)] = i;
  });
  return { keys, values };
}
const MONTHS = nameTable(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);
const DAYS = nameTable(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);

/** Month (0-11) named by the three characters at i, or -1. */
function monthAt(s: string, i: number): number {
  const k = monthKey(s, i);
  const slot = nameSlot(k);
  return MONTHS.keys[slot] === k ? MONTHS.values[slot]! : -1;
}

function isDayName(s: string, i: number): boolean {
  const k = monthKey(s, i);
  return DAYS.keys[nameSlot(k)] === k;
}

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
    // Written so that NaN (past the end of the line) is no digit either.
    if (!(c >= 48 && c <= 57)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** What the last successful timeAt found. One shared slot: callers copy what they keep. */
export const parsedTime = {
  /** Milliseconds since the epoch (UTC); NaN for a time of day without a date. */
  ms: 0,
  /** The shape has no year (syslog, klog, Android): the year came from the hint. */
  yearless: false,
};

let dayKey = -1;
let dayMs = 0;
function day(y: number, mo: number, d: number): number {
  const k = (y * 16 + mo) * 32 + d;
  if (k !== dayKey) {
    dayKey = k;
    dayMs = Date.UTC(y, mo, d);
  }
  return dayMs;
}

function validDate(y: number, mo: number, d: number): boolean {
  return mo >= 0 && mo <= 11 && d >= 1 && d <= 31 && y >= 1970 && y <= 9999;
}

let clockMs = 0;
// Fields of the last hms() read.
let hmsH = 0;
let hmsM = 0;
let hmsS = 0;

/**
 * "H:MM:SS" or "HH:MM:SS" at i, then an optional fraction (".123", ",123", or ":123" as some Java
 * layouts write milliseconds), an optional " AM"/" PM", and an optional zone (Z, ±hh:mm, ±hhmm).
 * Returns the end index (clockMs holds ms of day, zone applied) or -1.
 */
function clock(s: string, i: number): number {
  const e = hms(s, i);
  return e < 0 ? -1 : clockRest(s, e, hmsH, hmsM, hmsS);
}

/** "H:MM:SS" or "HH:MM:SS" at i: the end of the seconds (fields in hmsH/hmsM/hmsS) or -1. */
function hms(s: string, i: number): number {
  let h = digits(s, i, 2);
  let j = i + 2;
  if (h < 0) {
    h = digits(s, i, 1);
    j = i + 1;
    if (h < 0) return -1;
  }
  if (s.charCodeAt(j) !== 58) return -1;
  const m = digits(s, j + 1, 2);
  if (m < 0 || s.charCodeAt(j + 3) !== 58) return -1;
  const sec = digits(s, j + 4, 2);
  if (sec < 0 || h > 23 || m > 59 || sec > 60) return -1;
  hmsH = h;
  hmsM = m;
  hmsS = sec;
  return j + 6;
}

/** What may follow the seconds at `end` (fraction, AM/PM, zone): sets clockMs, returns the end. */
function clockRest(s: string, end: number, h: number, m: number, sec: number): number {
  let ms = 0;
  const f = s.charCodeAt(end);
  if ((f === 46 || f === 44 || (f === 58 && digits(s, end + 1, 3) >= 0 && !isDigit(s.charCodeAt(end + 4)))) && isDigit(s.charCodeAt(end + 1))) {
    // Milliseconds are the first three digits (integer arithmetic); finer digits are only skipped.
    ms = (s.charCodeAt(++end) - 48) * 100;
    let c = s.charCodeAt(++end);
    if (isDigit(c)) {
      ms += (c - 48) * 10;
      c = s.charCodeAt(++end);
      if (isDigit(c)) {
        ms += c - 48;
        while (isDigit(s.charCodeAt(++end)));
      }
    }
  }
  if (s.charCodeAt(end) === 32 && s.charCodeAt(end + 2) === 77 && !isLetter(s.charCodeAt(end + 3))) {
    const ap = s.charCodeAt(end + 1);
    if (ap === 65 || ap === 80) {
      if (ap === 80 && h < 12) h += 12;
      else if (ap === 65 && h === 12) h = 0;
      end += 3;
    }
  }
  let t = ((h * 60 + m) * 60 + sec) * 1000 + ms;
  const z = s.charCodeAt(end);
  if (z === 90) end++;
  else if (z === 43 || z === 45) {
    // Numeric offset: the instant is local time minus the offset.
    const oh = digits(s, end + 1, 2);
    const colon = s.charCodeAt(end + 3) === 58 ? 1 : 0;
    const om = digits(s, end + 3 + colon, 2);
    if (oh >= 0 && om >= 0 && oh <= 14) {
      t -= (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
      end += 5 + colon;
    }
  }
  clockMs = t;
  return end;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function found(ms: number, yearless: boolean, end: number): number {
  parsedTime.ms = ms;
  parsedTime.yearless = yearless;
  return end;
}

/**
 * Date (y, mo, d already read) then a date/time separator and a clock at j; a bare date is accepted.
 * `from` (the date's start, -1 for none) marks a yyyy-mm-dd date whose second isoSecond may keep.
 */
function dateThenClock(s: string, y: number, mo: number, d: number, j: number, yearless: boolean, from: number): number {
  if (!validDate(y, mo, d)) return -1;
  const sep = s.charCodeAt(j);
  if (sep === 84 || sep === 116 || sep === 32 || sep === 45 || sep === 95 || sep === 58) {
    const se = hms(s, sep === 32 && s.charCodeAt(j + 1) === 32 ? j + 2 : j + 1);
    if (se >= 0) {
      if (from >= 0) isoSecond.set(s, from, se, y, mo, d);
      const e = clockRest(s, se, hmsH, hmsM, hmsS);
      return found(day(y, mo, d) + clockMs, yearless, e);
    }
    // IBM/DB2 style "2005-06-03-15.42.50.675872"
    if (sep === 45) {
      const h = digits(s, j + 1, 2);
      const m = digits(s, j + 4, 2);
      const sec = digits(s, j + 7, 2);
      if (h >= 0 && m >= 0 && sec >= 0 && s.charCodeAt(j + 3) === 46 && s.charCodeAt(j + 6) === 46 && h < 24 && m < 60 && sec <= 60) {
        let end = j + 9;
        if (s.charCodeAt(end) === 46) while (isDigit(s.charCodeAt(++end)));
        return found(day(y, mo, d) + ((h * 60 + m) * 60 + sec) * 1000, yearless, end);
      }
    }
  }
  // A date alone ("2005.06.03" before another stamp, dpkg's date column is always followed by a clock).
  if (sep === 32 || sep !== sep || sep === 44) return found(day(y, mo, d), yearless, j);
  return -1;
}

/**
 * A date and clock up to the seconds ("Nov 30 13:30:33", "2026-11-30T13:30:33") as last read, with
 * its fields. Logs repeat their second from line to line: finding the same characters again (one
 * native search) replaces reading them; what follows the seconds is read every time.
 */
class SecondRun {
  run = '';
  /** The run's length and last char (plain numbers: cheaper than reading the run). */
  length = 0;
  last = 0;
  y = 0;
  mo = 0;
  d = 0;
  h = 0;
  m = 0;
  sec = 0;

  /** The run is at i in s. */
  at(s: string, i: number): boolean {
    const n = this.length;
    return n > 0 && s.charCodeAt(i + n - 1) === this.last && s.indexOf(this.run, i) === i;
  }

  /** Remember s[i..end) as read into y/mo/d and hmsH/hmsM/hmsS. */
  set(s: string, i: number, end: number, y: number, mo: number, d: number): void {
    this.run = s.slice(i, end);
    this.length = end - i;
    this.last = s.charCodeAt(end - 1);
    this.y = y;
    this.mo = mo;
    this.d = d;
    this.h = hmsH;
    this.m = hmsM;
    this.sec = hmsS;
  }
}
const syslogSecond = new SecondRun();
const isoSecond = new SecondRun();

/** "Nov 27 03:44:01[.123456][ 2026]" at i (syslog, journald short, ctime after the day name). */
function monthDay(s: string, i: number, year: number): number {
  let mo: number;
  let d: number;
  let e: number;
  const r = syslogSecond;
  if (r.at(s, i)) {
    mo = r.mo;
    d = r.d;
    e = clockRest(s, i + r.length, r.h, r.m, r.sec);
  } else {
    mo = monthAt(s, i);
    if (mo < 0 || s.charCodeAt(i + 3) !== 32) return -1;
    let j = i + 4;
    if (s.charCodeAt(j) === 32) j++; // "Nov  7" pads single-digit days with a space
    d = digits(s, j, 2);
    if (d >= 0) j += 2;
    else {
      d = digits(s, j, 1);
      j += 1;
    }
    if (d < 1 || d > 31 || s.charCodeAt(j) !== 32) return -1;
    const se = hms(s, j + 1);
    if (se < 0) return -1;
    r.set(s, i, se, 0, mo, d);
    e = clockRest(s, se, hmsH, hmsM, hmsS);
  }
  // ctime and Apache put the year after the clock.
  if (s.charCodeAt(e) === 32) {
    const y = digits(s, e + 1, 4);
    if (y >= 1970 && !isDigit(s.charCodeAt(e + 5))) return found(day(y, mo, d) + clockMs, false, e + 5);
  }
  return found(day(year, mo, d) + clockMs, true, e);
}

/** "27/Nov/2026:03:44:01 +0000" (access logs) at i. */
function accessLogTime(s: string, i: number): number {
  const d = digits(s, i, 2);
  if (d < 1 || s.charCodeAt(i + 2) !== 47 || s.charCodeAt(i + 6) !== 47) return -1;
  const mo = monthAt(s, i + 3);
  const y = digits(s, i + 7, 4);
  if (mo < 0 || y < 1970 || s.charCodeAt(i + 11) !== 58) return -1;
  let e = clock(s, i + 12);
  if (e < 0) return -1;
  let t = day(y, mo, d) + clockMs;
  if (s.charCodeAt(e) === 32 && (s.charCodeAt(e + 1) === 43 || s.charCodeAt(e + 1) === 45)) {
    const oh = digits(s, e + 2, 2);
    const om = digits(s, e + 4, 2);
    if (oh >= 0 && om >= 0) {
      t -= (s.charCodeAt(e + 1) === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
      e += 6;
    }
  }
  return found(t, false, e);
}

/**
 * Recognises a timestamp starting at `i` and returns the index after it (-1 when there is none);
 * the instant is in `parsedTime`. Shapes: RFC 3339 / ISO 8601 (T or space, any fraction, zone),
 * yyyy/mm/dd, yyyy.mm.dd, yy-mm-dd and yy/mm/dd, mm-dd (Android), yymmdd hhmmss, yyyymmdd-hh:mm:ss,
 * syslog "Mmm dd hh:mm:ss", ctime "Ddd Mmm dd hh:mm:ss yyyy", Windows "M/d/yyyy h:mm:ss AM",
 * epoch seconds or milliseconds, a bare time of day, and any of these in [brackets].
 * Formats without a year take `year`.
 */
export function timeAt(s: string, i: number, year: number): number {
  const c = s.charCodeAt(i);
  if (c >= 48 && c <= 57) return numericTime(s, i, year);
  if (c >= 65 && c <= 90) {
    const m = monthDay(s, i, year);
    if (m >= 0) return m;
    if (isDayName(s, i) && s.charCodeAt(i + 3) === 32) return monthDay(s, i + 4, year);
    return -1;
  }
  if (c === 91) {
    let j = i + 1;
    while (s.charCodeAt(j) === 32 && j < i + 4) j++;
    let e = timeAt(s, j, year);
    if (e < 0) e = accessLogTime(s, j);
    if (e < 0) e = monthDotDay(s, j, year);
    if (e < 0) return -1;
    while (s.charCodeAt(e) === 32) e++;
    return s.charCodeAt(e) === 93 ? e + 1 : -1;
  }
  return -1;
}

/** "10.30 16:49:06" (month.day, no year) at i. */
function monthDotDay(s: string, i: number, year: number): number {
  const mo = digits(s, i, 2) - 1;
  const d = digits(s, i + 3, 2);
  if (s.charCodeAt(i + 2) !== 46 || s.charCodeAt(i + 5) !== 32 || !validDate(year, mo, d)) return -1;
  const e = clock(s, i + 6);
  return e < 0 ? -1 : found(day(year, mo, d) + clockMs, true, e);
}

function numericTime(s: string, i: number, year: number): number {
  const r = isoSecond;
  if (r.at(s, i)) {
    const e = clockRest(s, i + r.length, r.h, r.m, r.sec);
    return found(day(r.y, r.mo, r.d) + clockMs, false, e);
  }
  let n = 0;
  while (n < 14 && isDigit(s.charCodeAt(i + n))) n++;
  const sep = s.charCodeAt(i + n);
  if (n === 4) {
    const y = digits(s, i, 4);
    if (sep === 45 || sep === 47 || sep === 46) {
      const mo = digits(s, i + 5, 2) - 1;
      if (s.charCodeAt(i + 7) !== sep) return -1;
      const d = digits(s, i + 8, 2);
      if (isDigit(s.charCodeAt(i + 10))) return -1;
      return dateThenClock(s, y, mo, d, i + 10, false, i);
    }
    return -1;
  }
  if (n === 2 || n === 1) {
    if (sep === 58 && n === 2) {
      // A time of day alone ("03:44:01.123 [main] INFO …"): a header, but no date to place it.
      const e = clock(s, i);
      return e < 0 ? -1 : found(Number.NaN, true, e);
    }
    if (sep === 47) {
      // Windows en-US "11/27/2026 3:44:01 AM", or yy/mm/dd (Spark, log4j "yy/MM/dd HH:mm:ss").
      let j = i + n + 1;
      let n2 = 0;
      while (n2 < 3 && isDigit(s.charCodeAt(j + n2))) n2++;
      if (n2 < 1 || n2 > 2 || s.charCodeAt(j + n2) !== 47) return -1;
      const a = digits(s, i, n);
      const b = digits(s, j, n2);
      j += n2 + 1;
      const y4 = digits(s, j, 4);
      if (y4 >= 0 && !isDigit(s.charCodeAt(j + 4))) return dateThenClock(s, y4, a - 1, b, j + 4, false, -1);
      const y2 = digits(s, j, 2);
      if (n === 2 && y2 >= 0 && !isDigit(s.charCodeAt(j + 2))) return dateThenClock(s, 2000 + a, b - 1, y2, j + 2, false, -1);
      return -1;
    }
    if (sep === 45 && n === 2) {
      const b = digits(s, i + 3, 2);
      if (b < 0) return -1;
      if (s.charCodeAt(i + 5) === 45) {
        // yy-mm-dd hh:mm:ss,SSS
        const d = digits(s, i + 6, 2);
        if (d < 0 || isDigit(s.charCodeAt(i + 8))) return -1;
        return s.charCodeAt(i + 8) === 32 ? dateThenClockOnly(s, 2000 + digits(s, i, 2), b - 1, d, i + 8, false) : -1;
      }
      // mm-dd hh:mm:ss.SSS (Android logcat threadtime)
      if (s.charCodeAt(i + 5) === 32) return dateThenClockOnly(s, year, digits(s, i, 2) - 1, b, i + 5, true);
    }
    return -1;
  }
  if (n === 6 && sep === 32) {
    // yymmdd hhmmss (Hadoop-era HDFS)
    const t = digits(s, i + 7, 6);
    if (t < 0 || isDigit(s.charCodeAt(i + 13))) return -1;
    const y = 2000 + digits(s, i, 2);
    const mo = digits(s, i + 2, 2) - 1;
    const d = digits(s, i + 4, 2);
    const h = Math.floor(t / 10000);
    const mi = Math.floor(t / 100) % 100;
    const sec = t % 100;
    if (!validDate(y, mo, d) || h > 23 || mi > 59 || sec > 60) return -1;
    return found(day(y, mo, d) + ((h * 60 + mi) * 60 + sec) * 1000, false, i + 13);
  }
  if (n === 8 && (sep === 45 || sep === 84 || sep === 32)) {
    const y = digits(s, i, 4);
    const e = dateThenClockOnly(s, y, digits(s, i + 4, 2) - 1, digits(s, i + 6, 2), i + 8, false);
    return e;
  }
  if (n === 10 || n === 13) {
    // Epoch seconds (optionally with a fraction) or milliseconds, 2000..2050.
    let v = digits(s, i, n);
    if (n === 13) v /= 1000;
    if (v < 946_684_800 || v > 2_524_608_000) return -1;
    let e = i + n;
    let ms = v * 1000;
    if (n === 10 && s.charCodeAt(e) === 46 && isDigit(s.charCodeAt(e + 1))) {
      e++;
      let scale = 100;
      while (isDigit(s.charCodeAt(e))) {
        if (scale >= 1) ms += (s.charCodeAt(e) - 48) * scale;
        scale /= 10;
        e++;
      }
    }
    const after = s.charCodeAt(e);
    if (after === after && after !== 32 && after !== 44 && after !== 9 && after !== 93 && after !== 124) return -1;
    return found(Math.floor(ms), false, e);
  }
  return -1;
}

function dateThenClockOnly(s: string, y: number, mo: number, d: number, j: number, yearless: boolean): number {
  if (!validDate(y, mo, d)) return -1;
  const e = clock(s, j + 1);
  return e < 0 ? -1 : found(day(y, mo, d) + clockMs, yearless, e);
}

const DAY_MS = 86_400_000;

/**
 * A yearless date more than a day after `now` is from last year (a December line read in January):
 * the same date one year earlier.
 */
export function rollBackYearless(ms: number, now: number): number {
  if (!(ms > now + DAY_MS)) return ms;
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() - 1);
  return d.getTime();
}

export function toIso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

/** klog's "mmdd hh:mm:ss.uuuuuu" at i (after the level letter); returns the end index or -1. */
export function klogTimeAt(s: string, i: number, year: number): number {
  const mo = digits(s, i, 2) - 1;
  const d = digits(s, i + 2, 2);
  if (!validDate(year, mo, d) || s.charCodeAt(i + 4) !== 32) return -1;
  const e = clock(s, i + 5);
  return e < 0 ? -1 : found(day(year, mo, d) + clockMs, true, e);
}

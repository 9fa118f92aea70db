/**
 * Header recognition for any line format, without being told the format: timestamps, hosts, pids/tids,
 * levels, logger/thread names and the identifier ("sshd[123]:", "kubelet:", "o.s.b.App :") are read
 * token by token from the start of the line until the first token that is none of these; that is where
 * the message starts. Varying header fields must never reach template mining: they would split one
 * event into many templates and route Drain on noise.
 *
 * Hot path: one scanner per line, char codes and table lookups, no regex and no allocation except the
 * identifier string.
 */
import { jsonFields } from './json-line.js';
import { severityFromWord, type Severity } from './severity.js';
import { klogTimeAt, parsedTime, rollBackYearless, timeAt } from './timestamp.js';

/** What the scanner found. One instance is reused per pipeline; copy what you keep. */
export class Header {
  /** Milliseconds since the epoch, NaN when the line has no (dated) time. */
  time = Number.NaN;
  /** The identifier that names the writer: syslog/journal tag, logger, JSON logger name. */
  ident: string | undefined = undefined;
  /** Level from the header (klog letter, level word, level= field, JSON level). */
  level: Severity | undefined = undefined;
  /** Offset of the message in the line (for JSON lines: 0, see jsonMessage). */
  messageStart = 0;
  /** CRI container log line: 1 stdout, 2 stderr; 0 otherwise. */
  stream = 0;
  /** CRI partial line ("P"): the record continues on the next line of the same stream. */
  partial = false;
  /** JSON line: the text to template (the msg/message/log field, or the fields as key=value). */
  jsonMessage: string | undefined = undefined;
  /** Where the writer's own text starts (after a CRI prefix or a syslog identifier, before any inner
   *  header or indentation): continuation lines are recognised by what starts there. */
  bodyStart = 0;
  /** Records with different group keys never share a template (audit events: verb and resource). */
  group: string | undefined = undefined;
  /** Any header field was recognised. */
  found = false;

  reset(): void {
    this.time = Number.NaN;
    this.ident = undefined;
    this.level = undefined;
    this.messageStart = 0;
    this.stream = 0;
    this.partial = false;
    this.jsonMessage = undefined;
    this.jsonBody = undefined;
    this.bodyStart = 0;
    this.group = undefined;
    this.found = false;
  }

  /** JSON line: the raw message field (continuation lines are recognised on it). */
  jsonBody: string | undefined = undefined;

  /** The message text this header leads to. */
  message(line: string): string {
    return this.jsonMessage ?? (this.messageStart === 0 ? line : line.slice(this.messageStart));
  }

  /** The writer's own text (see bodyStart). */
  body(line: string): string {
    return this.jsonBody ?? (this.bodyStart === 0 ? line : line.slice(this.bodyStart));
  }
}

// Character classes: 1 name char (letters, digits, _ . - / $ @ ( ) and non-ASCII), 2 digit.
const NAME = new Uint8Array(128);
for (let c = 48; c <= 57; c++) NAME[c] = 2;
for (let c = 65; c <= 90; c++) NAME[c] = 1;
for (let c = 97; c <= 122; c++) NAME[c] = 1;
for (const ch of '_.-/$@()#') NAME[ch.charCodeAt(0)] = 1;

function isNameChar(c: number): boolean {
  return c >= 128 ? c !== 0xa0 && c !== 0x3000 : NAME[c]! !== 0;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

// Level words bucketed by length and first letter, compared in place without case: no substring per token.
const LEVEL_WORDS: [string, Severity][] = [];
// No PANIC: "panic: …" at the start of a message is a Go crash, and the lexicon must see it.
for (const w of ['EMERG', 'EMERGENCY', 'ALERT', 'CRIT', 'CRITICAL', 'FATAL', 'SEVERE']) LEVEL_WORDS.push([w, 'fatal']);
for (const w of ['ERROR', 'ERR', 'EROR']) LEVEL_WORDS.push([w, 'error']);
for (const w of ['WARN', 'WARNING', 'WRN']) LEVEL_WORDS.push([w, 'warning']);
for (const w of ['INFO', 'INF', 'INFORMATION', 'INFORMATIONAL', 'NOTICE']) LEVEL_WORDS.push([w, 'info']);
for (const w of ['DEBUG', 'DBG', 'TRACE', 'VERBOSE', 'FINE', 'FINER', 'FINEST']) LEVEL_WORDS.push([w, 'debug']);
const MAX_LEVEL_WORD = 13;
/** Words of length n starting with letter L (upper case) are in LEVEL_BUCKETS[n * 32 + (L & 31)]. */
const LEVEL_BUCKETS: [string, Severity][][] = Array.from({ length: (MAX_LEVEL_WORD + 1) * 32 }, () => []);
for (const e of LEVEL_WORDS) LEVEL_BUCKETS[e[0].length * 32 + (e[0].charCodeAt(0) & 31)]!.push(e);

/** A level word (any case, no punctuation) → severity. */
export function levelWord(s: string, from: number, to: number): Severity | undefined {
  const n = to - from;
  if (n < 3 || n > MAX_LEVEL_WORD) return undefined;
  const c = s.charCodeAt(from);
  if (!isLetter(c)) return undefined;
  const bucket = LEVEL_BUCKETS[n * 32 + (c & 31)]!;
  next: for (let b = 0; b < bucket.length; b++) {
    const w = bucket[b]![0];
    // c & ~32 is the upper-case letter for an ASCII letter, and never an upper-case letter for anything else.
    for (let k = 1; k < n; k++) if ((s.charCodeAt(from + k) & ~32) !== w.charCodeAt(k)) continue next;
    return bucket[b]![1];
  }
  return undefined;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

const ANDROID_LEVELS: Record<number, Severity> = { 86: 'debug', 68: 'debug', 73: 'info', 87: 'warning', 69: 'error', 70: 'fatal', 65: 'fatal' };
function klogLevel(c: number): Severity | undefined {
  return c === 73 ? 'info' : c === 87 ? 'warning' : c === 69 ? 'error' : c === 70 ? 'fatal' : undefined;
}

/**
 * The first tab at or after tabFrom in tabLine (its length when none). Tabs are rare: one native
 * search serves the whole line.
 */
let tabLine = '';
let tabFrom = Number.MAX_SAFE_INTEGER;
let tabAt = -1;

/** End of the token at i (first space/tab or end). Native searches: a char-by-char loop costs more. */
function tokenEnd(s: string, i: number): number {
  const n = s.length;
  if (i >= n) return i;
  let e = s.indexOf(' ', i);
  if (e < 0) e = n;
  if (tabAt < i || tabFrom > i || s !== tabLine) {
    tabLine = s;
    tabFrom = i;
    tabAt = s.indexOf('\t', i);
    if (tabAt < 0) tabAt = n;
  }
  return tabAt < e ? tabAt : e;
}

/** klog "Lmmdd hh:mm:ss.uuuuuu pid file:line] " at i; returns the message offset or -1. */
function klogAt(s: string, i: number, h: Header, year: number): number {
  const lv = klogLevel(s.charCodeAt(i));
  if (!lv || s.charCodeAt(i + 5) !== 32) return -1;
  let j: number;
  if (Number.isNaN(h.time)) {
    j = klogTimeAt(s, i + 1, year);
    if (j < 0) return -1;
  } else {
    // The journal already gave the time: only check the shape "mmdd hh:mm:ss[.frac]".
    if (s.charCodeAt(i + 8) !== 58 || s.charCodeAt(i + 11) !== 58 || !isDigit(s.charCodeAt(i + 13))) return -1;
    j = i + 14;
    if (s.charCodeAt(j) === 46) while (isDigit(s.charCodeAt(++j)));
  }
  while (s.charCodeAt(j) === 32) j++;
  while (isDigit(s.charCodeAt(j))) j++;
  if (s.charCodeAt(j) !== 32) return -1;
  j++;
  const close = s.indexOf(']', j);
  if (close < 0 || close - j > 120 || tokenEnd(s, j) < close) return -1;
  if (Number.isNaN(h.time) && j > 0) setTime(h);
  h.level = lv;
  return s.charCodeAt(close + 1) === 32 ? close + 2 : close + 1;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

let nowMs = Date.now();
let nowSetAt = 0;
/** "now" for the yearless roll-back, refreshed at most once a second (no syscall per line). */
function now(): number {
  if (++nowSetAt >= 4096) {
    nowSetAt = 0;
    nowMs = Date.now();
  }
  return nowMs;
}

let nowOverride: number | undefined;
/** Tests: pin "now" for the yearless roll-back (undefined restores the clock). */
export function setNowForTests(ms: number | undefined): void {
  nowOverride = ms;
}

function setTime(h: Header): void {
  const ms = parsedTime.ms;
  if (Number.isNaN(ms)) return;
  h.time = parsedTime.yearless ? rollBackYearless(ms, nowOverride ?? now()) : ms;
}

/** Matching ']' for the '[' at i (nested brackets allowed), within 160 characters; -1 if none. */
function closeBracket(s: string, i: number): number {
  let depth = 0;
  const max = Math.min(s.length, i + 160);
  for (let k = i; k < max; k++) {
    const c = s.charCodeAt(k);
    if (c === 91) depth++;
    else if (c === 93 && --depth === 0) return k;
  }
  return -1;
}

/**
 * Ident-shaped token s[i..e): "name:", "name[pid]:", "name(pam_unix)[pid]:", "util.py[DEBUG]:".
 * Returns the end of the name (before '[' or ':') or -1; sets identLevel for a level in the brackets.
 */
let identLevel: Severity | undefined;
let identHasPid = false;
function identToken(s: string, i: number, e: number): number {
  identLevel = undefined;
  identHasPid = false;
  if (e - i < 2 || s.charCodeAt(e - 1) !== 58) return -1;
  const c0 = s.charCodeAt(i);
  if (!isLetter(c0) && c0 !== 95 && c0 < 128) return -1;
  let k = i;
  while (k < e - 1 && isNameChar(s.charCodeAt(k))) k++;
  const nameEnd = k;
  if (nameEnd === i) return -1;
  if (k === e - 1) return s.charCodeAt(nameEnd - 1) === 41 && !s.slice(i, nameEnd).includes('(') ? -1 : nameEnd;
  if (s.charCodeAt(k) !== 91 || s.charCodeAt(e - 2) !== 93) return -1;
  // [pid] or [LEVEL]
  const inner0 = k + 1;
  const inner1 = e - 2;
  if (inner1 <= inner0) return -1;
  let allDigits = true;
  for (let q = inner0; q < inner1; q++) if (!isDigit(s.charCodeAt(q))) allDigits = false;
  if (allDigits) {
    identHasPid = true;
    return nameEnd;
  }
  identLevel = levelWord(s, inner0, inner1);
  return identLevel ? nameEnd : -1;
}

/** A hostname-shaped token (letters, digits, . - _ : and at least one letter or digit). */
function hostToken(s: string, i: number, e: number): boolean {
  if (e - i > 80) return false;
  for (let k = i; k < e; k++) {
    const c = s.charCodeAt(k);
    if (!(isLetter(c) || isDigit(c) || c === 46 || c === 45 || c === 95 || c === 58 || c === 47)) return false;
  }
  return true;
}

/** A dotted logger name ("org.apache.Foo", "o.s.b.App", "dfs.DataNode$PacketResponder", "app.worker"). */
function loggerToken(s: string, i: number, e: number): boolean {
  if (e - i < 3 || e - i > 120 || !isLetter(s.charCodeAt(i))) return false;
  let dots = 0;
  for (let k = i; k < e; k++) {
    const c = s.charCodeAt(k);
    if (c === 46) {
      if (k === i || s.charCodeAt(k - 1) === 46) return false;
      dots++;
    } else if (!(isLetter(c) || isDigit(c) || c === 95 || c === 36 || c === 45)) return false;
  }
  return dots > 0 && s.charCodeAt(e - 1) !== 46;
}

/** A lone separator token: "-", "--", "---", "|", ":", "::". */
function separatorToken(s: string, i: number, e: number): boolean {
  if (e - i > 3) return false;
  const c = s.charCodeAt(i);
  if (c !== 45 && c !== 124 && c !== 58) return false;
  for (let k = i + 1; k < e; k++) if (s.charCodeAt(k) !== c) return false;
  return true;
}

function skipSpaces(s: string, i: number): number {
  while (isSpace(s.charCodeAt(i))) i++;
  return i;
}

const MAX_HEADER_TOKENS = 14;
const MAX_HEADER_CHARS = 320;

/**
 * Reads the header of `line` into `h`. `year` is for shapes without one; yearless dates more than a day
 * ahead of now are taken from the previous year.
 */
export function scanHeader(line: string, h: Header, year: number): void {
  h.reset();
  const c0 = line.charCodeAt(0);
  if (c0 === 123 && parseJsonLine(line, h, year)) return;
  // CRI container log: "<RFC3339Nano> <stdout|stderr> <P|F> <content>"; the content may have its own header.
  if (c0 >= 48 && c0 <= 57) {
    const e = timeAt(line, 0, year);
    if (e > 0 && line.charCodeAt(e) === 32 && line.charCodeAt(e + 1) === 115 && line.charCodeAt(e + 7) === 32) {
      const out = line.startsWith('stdout', e + 1);
      if ((out || line.startsWith('stderr', e + 1)) && (line.charCodeAt(e + 9) === 32 || e + 9 === line.length)) {
        const f = line.charCodeAt(e + 8);
        if (f === 70 || f === 80) {
          setTime(h);
          h.stream = out ? 1 : 2;
          h.partial = f === 80;
          h.found = true;
          h.messageStart = h.bodyStart = e + 10;
          // The container's own header (its timestamp, level, logger) is stripped too; the CRI time stays.
          const t = h.time;
          if (e + 10 < line.length) scanFrom(line, e + 10, h, year);
          h.time = t;
          return;
        }
      }
    }
  }
  scanFrom(line, 0, h, year);
}

function parseJsonLine(line: string, h: Header, year: number): boolean {
  const f = jsonFields(line);
  if (!f) return false;
  let time = Number.NaN;
  if (typeof f.time === 'string') {
    if (timeAt(f.time, 0, year) > 0) {
      setTime(h);
      time = h.time;
    }
  } else if (typeof f.time === 'number' && Number.isFinite(f.time)) {
    time = f.time < 1e11 ? f.time * 1000 : f.time < 1e14 ? f.time : f.time / 1000;
  }
  // The message may carry the program's own header (Docker json-file keeps the raw output line).
  h.reset();
  scanFrom(f.message, 0, h, year);
  h.jsonMessage = h.messageStart === 0 ? f.message : f.message.slice(h.messageStart);
  h.jsonBody = f.message;
  if (!Number.isNaN(time)) h.time = time;
  const lv = f.level !== undefined ? severityFromWord(f.level) : undefined;
  if (lv) h.level = lv;
  if (f.ident !== undefined) h.ident = f.ident;
  h.stream = f.stream;
  h.partial = f.partial;
  h.group = f.group;
  h.messageStart = 0;
  h.found = true;
  return true;
}

/**
 * The journal fast path's "host ident[pid]: " runs seen last, with the space after them. A node's
 * journal repeats a handful of writers, and one native search that finds the run in place is
 * cheaper than reading it again char by char. The run holds exactly the two spaces the fast path
 * looks for, so the same characters give the same reading.
 */
class HostIdent {
  /** The run's length and its identifier's first char (plain numbers: cheaper than reading the run). */
  readonly length: number;
  readonly identChar: number;
  constructor(
    readonly run: string,
    /** Offset of the identifier in the run. */
    readonly identAt: number,
    readonly ident: string,
    readonly level: Severity | undefined,
  ) {
    this.length = run.length;
    this.identChar = run.charCodeAt(identAt);
  }
}
const HOST_IDENTS = 8;
const hostIdents: HostIdent[] = [];
let hostIdentNext = 0;

function knownHostIdent(line: string, at: number): HostIdent | undefined {
  for (let k = 0; k < hostIdents.length; k++) {
    const e = hostIdents[k]!;
    const last = at + e.length - 1;
    // A few chars rule out most other writers before the search ("…: " ends every run).
    if (line.charCodeAt(last) === 32 && line.charCodeAt(last - 1) === 58 && line.charCodeAt(at + e.identAt) === e.identChar && line.indexOf(e.run, at) === at) return e;
  }
  return undefined;
}

function rememberHostIdent(run: string, identAt: number, ident: string, level: Severity | undefined): void {
  const e = new HostIdent(run, identAt, ident, level);
  if (hostIdents.length < HOST_IDENTS) hostIdents.push(e);
  else hostIdents[hostIdentNext] = e;
  hostIdentNext = (hostIdentNext + 1) % HOST_IDENTS;
}

function scanFrom(line: string, start: number, h: Header, year: number): void {
  const n = line.length;
  const limit = Math.min(n, start + MAX_HEADER_CHARS);
  let i = skipSpaces(line, start);
  let sawTime = false;
  let sawLevel = false;
  let pids = 0;
  let hostSeen = false;
  let rfc5424 = false;
  let msg = start;
  // Fast path for the commonest node header, journald short(-precise) and syslog:
  // "Mmm dd hh:mm:ss[.ffffff] host ident[pid]: " in one go.
  const c0 = line.charCodeAt(i);
  if (c0 >= 65 && c0 <= 90) {
    const e = timeAt(line, i, year);
    if (e > 0 && line.charCodeAt(e) === 32) {
      const hs = e + 1;
      const known = knownHostIdent(line, hs);
      const he = known !== undefined ? -1 : line.indexOf(' ', hs);
      if (known !== undefined) {
        setTime(h);
        h.ident = known.ident;
        if (known.level) h.level = known.level;
        h.bodyStart = hs + known.length;
        msg = i = skipSpaces(line, h.bodyStart - 1);
        hostSeen = true;
      } else if (he > hs) {
        const ie = line.indexOf(' ', he + 1);
        const end = ie < 0 ? n : ie;
        const nameEnd = identToken(line, he + 1, end);
        if (nameEnd > 0 && hostToken(line, hs, he)) {
          setTime(h);
          h.ident = line.slice(he + 1, nameEnd);
          if (identLevel) h.level = identLevel;
          h.bodyStart = ie < 0 ? n : ie + 1;
          msg = i = skipSpaces(line, end);
          hostSeen = true;
          if (ie > 0) rememberHostIdent(line.slice(hs, ie + 1), he + 1 - hs, h.ident, identLevel);
        }
      }
    }
  }
  for (let tokens = 0; tokens < MAX_HEADER_TOKENS && i < limit; tokens++) {
    const c = line.charCodeAt(i);
    const anchored = sawTime || sawLevel || h.ident !== undefined;
    // klog header, at the start or after a journal/CRI header.
    if ((c === 73 || c === 87 || c === 69 || c === 70) && isDigit(line.charCodeAt(i + 1))) {
      const e = klogAt(line, i, h, year);
      if (e > 0) {
        sawTime = sawLevel = true;
        msg = i = skipSpaces(line, e);
        break; // klog's header ends with file:line]
      }
    }
    // Timestamps (any shape, possibly several: "- 1131566461 2005.11.09 host Nov 9 12:01:01 …").
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 91) {
      const e = timeAt(line, i, year);
      if (e > 0 && (e >= n || isSpace(line.charCodeAt(e)) || line.charCodeAt(e) === 44 || line.charCodeAt(e) === 124)) {
        if (!sawTime && Number.isNaN(h.time)) setTime(h);
        sawTime = true;
        hostSeen = false; // relayed logs repeat "host time" pairs
        i = e;
        if (line.charCodeAt(i) === 44 || line.charCodeAt(i) === 124) i++; // "2016-09-28 04:30:30, Info"
        msg = i = skipSpaces(line, i);
        if (rfc5424) {
          // RFC 5424: HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA, each "-" when absent.
          const he = tokenEnd(line, i);
          const ae = tokenEnd(line, skipSpaces(line, he));
          const app = skipSpaces(line, he);
          if (ae > app && !(ae - app === 1 && line.charCodeAt(app) === 45)) h.ident = line.slice(app, ae);
          let k = skipSpaces(line, ae);
          k = skipSpaces(line, tokenEnd(line, k)); // PROCID
          k = skipSpaces(line, tokenEnd(line, k)); // MSGID
          if (line.charCodeAt(k) === 91) {
            const close = closeBracket(line, k);
            k = close > 0 ? close + 1 : k;
          } else k = tokenEnd(line, k);
          msg = i = skipSpaces(line, k);
          break;
        }
        continue;
      }
    }
    const e = tokenEnd(line, i);
    // logfmt header fields: time=…, ts=…, level=…, lvl=…
    if ((c === 116 || c === 108 || c === 99) && e - i > 3) {
      const eq = line.indexOf('=', i);
      if (eq > i && eq < e && eq - i <= 6) {
        const kl = eq - i;
        if ((kl === 4 && line.startsWith('time', i)) || (kl === 2 && line.startsWith('ts', i)) || kl === 1) {
          const q = line.charCodeAt(eq + 1) === 34 ? 1 : 0;
          const te = timeAt(line, eq + 1 + q, year);
          if (te > 0) {
            if (Number.isNaN(h.time)) setTime(h);
            sawTime = true;
            let end = te;
            if (q) end = line.indexOf('"', te) + 1 || e;
            msg = i = skipSpaces(line, Math.max(end, tokenEnd(line, end)));
            continue;
          }
        } else if (kl === 6 && (sawTime || sawLevel) && line.startsWith('caller', i)) {
          msg = i = skipSpaces(line, e);
          continue;
        } else if ((kl === 5 && line.startsWith('level', i)) || (kl === 3 && line.startsWith('lvl', i))) {
          const q = line.charCodeAt(eq + 1) === 34 ? 1 : 0;
          const lv = levelWord(line, eq + 1 + q, e - q);
          if (lv) {
            h.level = lv;
            sawLevel = true;
            msg = i = skipSpaces(line, e);
            continue;
          }
        }
      }
    }
    // [bracketed]: time (handled above), kernel uptime, level, thread/context.
    if (c === 91) {
      const close = closeBracket(line, i);
      if (close > 0 && (close + 1 >= n || isSpace(line.charCodeAt(close + 1)) || line.charCodeAt(close + 1) === 58)) {
        let a = skipSpaces(line, i + 1);
        const lv = levelWord(line, a, close);
        if (lv) {
          h.level ??= lv;
          sawLevel = true;
        } else if (!(anchored || isUptime(line, a, close))) break;
        a = close + 1;
        if (line.charCodeAt(a) === 58) a++;
        msg = i = skipSpaces(line, a);
        continue;
      }
      break;
    }
    // <level> (syslog-ng, Go "<warn>") and <PRI>.
    if (c === 60) {
      const close = line.indexOf('>', i);
      if (close > i && close < e) {
        const lv = levelWord(line, i + 1, close);
        if (lv) {
          h.level ??= lv;
          sawLevel = true;
          msg = i = skipSpaces(line, close + 1);
          continue;
        }
        if (i === start && close - i <= 4 && isDigit(line.charCodeAt(i + 1))) {
          msg = i = skipSpaces(line, close + 1);
          if (line.charCodeAt(i) === 49 && line.charCodeAt(i + 1) === 32) {
            msg = i = i + 2; // RFC 5424 version
            rfc5424 = true;
          }
          continue;
        }
      }
    }
    // Level word, optionally followed by ':' or ','.
    {
      let we = e;
      const last = line.charCodeAt(we - 1);
      if (last === 58 || last === 44) we--;
      const lv = levelWord(line, i, we);
      // "INFO:root:message" (Python logging's default format).
      if (!lv && !anchored && c >= 65 && c <= 90) {
        const colon = line.indexOf(':', i);
        if (colon > i && colon < e && isUpperWord(line, i, colon)) {
          const plv = levelWord(line, i, colon);
          const colon2 = plv ? line.indexOf(':', colon + 1) : -1;
          if (plv && colon2 > colon + 1 && colon2 < e) {
            h.level = plv;
            h.ident = line.slice(colon + 1, colon2);
            msg = i = colon2 + 1;
            break;
          }
        }
      }
      // Unanchored (no time before it), only an upper-case word is a level: "Error opening file" is prose.
      if (lv && (anchored || isUpperWord(line, i, we))) {
        h.level ??= lv;
        sawLevel = true;
        // "INFO:root:message" (Python logging's default format): the logger follows the colon.
        if (we < e && we + 1 === e && !anchored) {
          msg = i = skipSpaces(line, e);
          continue;
        }
        if (we < e && line.charCodeAt(we) === 58 && we + 1 < e) {
          const colon = line.indexOf(':', we + 1);
          if (colon > we + 1 && colon < e) {
            h.ident ??= line.slice(we + 1, colon);
            msg = i = skipSpaces(line, colon + 1);
            break;
          }
        }
        msg = i = skipSpaces(line, e);
        continue;
      }
      // Android logcat single-letter level after pid/tid.
      if (e === i + 1 && sawTime && pids > 0 && ANDROID_LEVELS[c]) {
        h.level ??= ANDROID_LEVELS[c];
        sawLevel = true;
        msg = i = skipSpaces(line, e);
        continue;
      }
    }
    if (!anchored && tokens === 0) {
      // A source tag (file or host name) or an alert flag ("-") before the time: "nova-api.log.1 2017-05-16 …".
      const j = skipSpaces(line, e);
      if (j > e && e - i <= 64 && (hostToken(line, i, e) || separatorToken(line, i, e)) && timeAt(line, j, year) > 0) {
        msg = i = j;
        continue;
      }
    }
    if (!anchored) {
      // An unanchored line only gets an identifier with a pid: "sshd[123]: …".
      if (identToken(line, i, e) > 0 && identHasPid) {
        h.ident = line.slice(i, line.indexOf('[', i));
        h.bodyStart = line.charCodeAt(e) === 32 ? e + 1 : e;
        msg = i = skipSpaces(line, e);
        sawTime = false;
        continue;
      }
      break;
    }
    if (!anchored) break;
    // Separators between header fields: "- INFO -", "--- [main]", "| x |".
    if (separatorToken(line, i, e)) {
      msg = i = skipSpaces(line, e);
      continue;
    }
    // pid/tid after a time: "25746", "1702  2395", nginx "1234#1234:".
    if (isDigit(c) && sawTime && pids < 3 && h.ident === undefined) {
      let k = i;
      while (k < e && (isDigit(line.charCodeAt(k)) || line.charCodeAt(k) === 35)) k++;
      if ((k === e || (k === e - 1 && line.charCodeAt(k) === 58)) && e - i <= 16) {
        pids++;
        msg = i = skipSpaces(line, e);
        continue;
      }
    }
    if (h.ident === undefined) {
      const nameEnd = identToken(line, i, e);
      if (nameEnd > 0) {
        h.ident = line.slice(i, nameEnd);
        h.bodyStart = line.charCodeAt(e) === 32 ? e + 1 : e;
        if (identLevel) {
          h.level ??= identLevel;
          sawLevel = true;
        }
        msg = i = skipSpaces(line, e);
        sawTime = false; // what follows is the program's own text (which may carry its own header)
        pids = 0;
        continue;
      }
      if (loggerToken(line, i, line.charCodeAt(e - 1) === 58 ? e - 1 : e) && (sawLevel || line.charCodeAt(e - 1) === 58 || nextIsSeparator(line, e))) {
        h.ident = line.slice(i, line.charCodeAt(e - 1) === 58 ? e - 1 : e);
        msg = i = skipSpaces(line, e);
        // "o.s.b.App : msg", "app.worker - msg", "app.worker - ERROR - msg"
        let ne = tokenEnd(line, i);
        if (separatorToken(line, i, ne)) {
          msg = i = skipSpaces(line, ne);
          ne = tokenEnd(line, i);
          const lv = levelWord(line, i, ne);
          if (lv) {
            h.level ??= lv;
            msg = i = skipSpaces(line, ne);
            ne = tokenEnd(line, i);
            if (separatorToken(line, i, ne)) msg = i = skipSpaces(line, ne);
          }
        }
        // A leading context in brackets ("[Consumer clientId=…, groupId=…] msg") is per-instance, not the event.
        if (line.charCodeAt(i) === 91) {
          const close = closeBracket(line, i);
          if (close > 0 && line.charCodeAt(close + 1) === 32) msg = i = skipSpaces(line, close + 1);
        }
        break;
      }
      // host before an identifier or another timestamp: "node-a kubelet[1]:", "dn228 Nov 9 …".
      if (!hostSeen && sawTime && hostToken(line, i, e)) {
        const j = skipSpaces(line, e);
        const je = tokenEnd(line, j);
        if (identToken(line, j, je) > 0 || (timeAt(line, j, year) > 0)) {
          hostSeen = true;
          msg = i = j;
          continue;
        }
      }
      // A plain word logger before a separator: "werkzeug - INFO - …" style layouts.
      if (sawTime && nextIsSeparator(line, e) && isLetter(c) && e - i <= 40) {
        let ok = true;
        for (let k = i; k < e; k++) if (!isNameChar(line.charCodeAt(k))) ok = false;
        if (ok) {
          h.ident = line.slice(i, e);
          msg = i = skipSpaces(line, e);
          const ne = tokenEnd(line, i);
          msg = i = skipSpaces(line, ne);
          continue;
        }
      }
    }
    break;
  }
  if (msg > start || h.ident !== undefined || h.level !== undefined || !Number.isNaN(h.time)) h.found = true;
  h.messageStart = msg;
}

function isUpperWord(s: string, i: number, e: number): boolean {
  for (let k = i; k < e; k++) {
    const c = s.charCodeAt(k);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

function nextIsSeparator(s: string, e: number): boolean {
  const j = skipSpaces(s, e);
  if (j === e) return false;
  const je = tokenEnd(s, j);
  return separatorToken(s, j, je);
}

/** "[  123.456789]" (kernel uptime in kern.log and dmesg). */
function isUptime(s: string, a: number, close: number): boolean {
  let dot = false;
  for (let k = a; k < close; k++) {
    const c = s.charCodeAt(k);
    if (c === 46 && !dot) dot = true;
    else if (!isDigit(c)) return false;
  }
  return dot;
}

/** Compatibility view for callers that only need the message: header stripped, identifier and level. */
export interface SplitLine {
  ident?: string;
  messageStart: number;
  message: string;
  level?: Severity;
}

const shared = new Header();

export function splitLine(line: string, year = new Date().getUTCFullYear()): SplitLine {
  scanHeader(line, shared, year);
  return { ident: shared.ident, messageStart: shared.messageStart, message: shared.message(line), level: shared.level };
}

/**
 * Milliseconds since the epoch (UTC) of the line's own time, or undefined. Formats without a year take
 * `yearHint` (default: this UTC year), rolled back a year when that puts them more than a day ahead.
 */
export function parseLineTime(line: string, yearHint?: number): number | undefined {
  scanHeader(line, shared, yearHint ?? new Date().getUTCFullYear());
  return Number.isNaN(shared.time) ? undefined : shared.time;
}

export { severityFromWord };

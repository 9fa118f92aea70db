/**
 * The log pipeline: bytes → lines → ANSI strip → redaction → header (time, identifier, level) → records
 * (multi-line events joined, bounded) → severity → templates → keep set (errors, rare templates, recent
 * tail). Memory is bounded by the caps (templates, exemplars, tail, record and line length), never by the
 * size of the input.
 */
import { stripAnsi } from './ansi.js';
import { TemplateMiner, WILDCARD, type DrainCluster } from './drain.js';
import { Header, scanHeader } from './header.js';
import { LineSplitter, truncationMarker } from './lines.js';
import { lexiconScan, maskPhrases, maskTokens, newSpanBuffer, secretHint, type SpanBuffer } from './mask.js';
import { rankTemplates } from './rank.js';
import { continuesRecord, MAX_RECORD_CHARS, traceOfHead, sourceOf, Trace, type OpenRecord } from './records.js';
import { createRedactor } from './redact.js';
import { mayNeedRedaction } from './secret-hints.js';
import { emptySeverityCounts, liftByHit, liftSeverity, SEVERITY_RANK, severityFromText, type Severity } from './severity.js';
import { toIso } from './timestamp.js';

export type { Severity } from './severity.js';

export interface DigestOptions {
  /** Stop consuming the source after this many bytes; digest.byteCapHit = true. */
  maxBytes: number;
  /** Default 2000: longer lines keep a prefix + a marker saying how long they were. */
  maxLineChars?: number;
  /** Most recent records kept verbatim (default 200). */
  keepTail?: number;
  /** LRU cap on templates (default 1000). */
  maxTemplates?: number;
  /** Default 2. */
  exemplarsPerTemplate?: number;
  /** Lines for which this returns a kind are kubelet/journalctl in-band messages ("-- No entries --",
   *  "log not found for x", …): they are collected (capped) in `inband`, not counted as log lines. */
  classifyInband?: (line: string) => string | undefined;
  /** Local filter (file queries: pattern and time window), applied to the raw line; rejected lines are counted in linesFilteredOut only. */
  lineFilter?: (line: string) => boolean;
  /** Lines the node already filtered (journalctl --grep) are re-checked on their redacted text when redaction
   *  changed them: a line that matched only inside a redacted span is dropped and counted nowhere (lines,
   *  bytes, redactions), so a pattern cannot probe a secret. bytesRead then counts the log lines kept. */
  recheckRedacted?: (redactedLine: string) => boolean;
  /** Aborting stops reading promptly and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Year for formats without one (journald short-precise, klog, syslog); default: this UTC year.
   *  A yearless date more than a day after now is taken from the year before. */
  yearHint?: number;
  /** Called once per record when it is complete: its first input line (1-based), how many input lines
   *  it spans, and its template (the cluster's text may still generalise as more records arrive). */
  onRecord?: (firstLine: number, lines: number, cluster: DrainCluster) => void;
}

export interface TemplateSummary {
  template: string;
  count: number;
  severity: Severity;
  firstTime?: string;
  lastTime?: string;
  /** Whole records (multi-line records keep their lines, joined by "\n"), redacted. */
  exemplars: string[];
}

export interface LogDigest {
  bytesRead: number;
  linesScanned: number;
  /** Records (multi-line events count once); equals linesScanned when no line continued another
   *  (optional for digests built elsewhere, where it is linesScanned). */
  recordsScanned?: number;
  linesFilteredOut: number;
  linesTruncated: number;
  byteCapHit: boolean;
  /** By kind, e.g. { jwt: 3, bearer: 1 }. */
  redactions: Record<string, number>;
  /** Per record. */
  severityCounts: Record<Severity, number>;
  /** Sorted by importance (errors/warnings, rare, then by count). */
  templates: TemplateSummary[];
  templatesEvicted: number;
  /** Last keepTail records (redacted; a multi-line record is one entry with "\n" between its lines). */
  tail: string[];
  /** Parallel to tail: the index in `templates` of each tail line's template, -1 when it was evicted. */
  tailTemplates?: number[];
  /** Capped (INBAND_CAP). */
  inband: { kind: string; line: string }[];
  /** ISO times parsed from the records, when they have one. */
  firstTime?: string;
  lastTime?: string;
}

export const INBAND_CAP = 20;
/** Drain settings for node logs: depth 5 because the identifier is prepended as the first token. */
export const DRAIN_DEPTH = 5;
export const DRAIN_SIM = 0.4;

interface TemplateState {
  severity: Severity;
  first?: number;
  last?: number;
  exemplars: string[];
  /** Per token position: the original text behind a placeholder while every member had the same one
   *  (null once two members differed); undefined when the template has no placeholder left to show. */
  constants?: (string | null)[];
  constantsLeft: number;
}

const STREAM_TOKEN = ['', 'stdout', 'stderr'];
// First characters of the bodies traceOfHead recognises: / n p f g S T E.
const TRACE_HEAD_CHARS = new Uint8Array(128);
for (const ch of '/npfgSTE') TRACE_HEAD_CHARS[ch.charCodeAt(0)] = 1;
/** Writers whose messages carry multi-word parameters (see maskPhrases). */
const PHRASE_IDENTS = new Set(['systemd', 'CRON', 'cron', 'crond', 'sudo']);

/** Accumulates lines into records and records into a digest; shared by the stream and in-memory entry points. */
class DigestBuilder {
  private readonly redactor = createRedactor();
  private readonly miner: TemplateMiner;
  private readonly keepTail: number;
  private readonly exemplars: number;
  private readonly maxLineChars: number;
  private readonly tail: string[] = [];
  private readonly tailClusters: DrainCluster[] = [];
  private tailPos = 0;
  private readonly severityCounts = emptySeverityCounts();
  private readonly inband: { kind: string; line: string }[] = [];
  private first?: number;
  private last?: number;
  private readonly yearHint: number;
  private readonly h = new Header();
  linesScanned = 0;
  linesFilteredOut = 0;
  recordsScanned = 0;
  private lineNo = 0;

  // The open record (one at a time; fields instead of an object per record).
  private recOpen = false;
  private readonly rec: OpenRecord = {
    lines: 0,
    source: undefined,
    partial: false,
    trace: Trace.None,
    level: undefined,
    headMessage: () => this.recJsonMessage ?? this.recHead.slice(this.recMsgStart),
  };
  private recHead = '';
  private recTime = Number.NaN;
  private recIdent: string | undefined;
  private recStream = 0;
  private recMsgStart = 0;
  private recJsonMessage: string | undefined;
  private recFirstLine = 0;
  private recLastLine = 0;
  /** Continuation lines (kept up to MAX_RECORD_CHARS). */
  private recMore: string[] | undefined;
  private recChars = 0;
  private recCut = false;
  /** Text appended to the head message by CRI/Docker partials (no newline between parts). */
  private recJoined: string | undefined;
  /** A traceback that starts the record: its exception line, which the record is templated on. */
  private recExceptionLine: string | undefined;
  private recBareTraceback = false;
  /** Wrapped or continued message text (space-indented lines, no trace): templated with the head. */
  private recWrapped: string | undefined;
  private recWrapLines = 0;
  private recGroup: string | undefined;
  private lastIdent: string | undefined;
  private lastIdentToken = '';
  /** With recheckRedacted: bytes of the log lines kept (what was read would tell dropped lines apart). */
  bytesKept = 0;
  /** The open record's head, masked when it was read (undefined when flush must mask it). */
  private recTokens: string[] | undefined;
  private recLexHit = 0;
  private recListOpen = false;
  private recSpans: SpanBuffer;
  /** Span buffers for masks made when a line is read (the open record keeps one), and one for flush. */
  private readonly lineSpans = [newSpanBuffer(), newSpanBuffer()];
  private lineSpansNext = 0;
  private readonly flushSpans = newSpanBuffer();
  private lead1: string | undefined;
  private lead2: string | undefined;

  constructor(private readonly opts: Omit<DigestOptions, 'maxBytes' | 'signal'>) {
    this.keepTail = Math.max(0, opts.keepTail ?? 200);
    this.exemplars = Math.max(0, opts.exemplarsPerTemplate ?? 2);
    this.yearHint = opts.yearHint ?? new Date().getUTCFullYear();
    this.maxLineChars = opts.maxLineChars ?? 2000;
    this.miner = new TemplateMiner({
      depth: DRAIN_DEPTH,
      sim: DRAIN_SIM,
      maxChildren: 100,
      maxClusters: Math.max(1, opts.maxTemplates ?? 1000),
      isPrecious: (c) => SEVERITY_RANK[(c.data as TemplateState).severity] <= 2,
    });
    this.recSpans = this.flushSpans;
  }

  add(raw: string): void {
    this.lineNo++;
    if (raw.length === 0 || (raw.charCodeAt(0) <= 32 && raw.trim() === '')) return;
    const kind = this.opts.classifyInband?.(raw);
    if (kind !== undefined) {
      if (this.inband.length < INBAND_CAP) this.inband.push({ kind, line: this.redactor.redactLine(raw) });
      return;
    }
    if (this.opts.lineFilter && !this.opts.lineFilter(raw)) {
      this.linesFilteredOut++;
      return;
    }
    const h = this.h;
    // Read the line as it came first: most lines hold no secret and nothing hidden, and the mask scan
    // that tokenizes the message also steps the secret-hint automaton over the whole line. Only a line
    // with a hint (or one of the redactor's own cases) takes the redactor's full path.
    scanHeader(raw, h, this.yearHint);
    let tokens: string[] | undefined;
    let hinted: boolean;
    let spans: SpanBuffer | undefined;
    let lexHit = 0;
    let listOpen = false;
    if (h.jsonMessage === undefined) {
      this.leadsFor(h.ident, h.stream);
      spans = this.lineSpans[this.lineSpansNext]!;
      tokens = maskTokens(raw, h.messageStart, this.lead1, this.lead2, spans, 0);
      lexHit = lexiconScan.hit;
      listOpen = lexiconScan.listOpen;
      hinted = secretHint.found;
    } else hinted = mayNeedRedaction(raw);
    let line = raw;
    if (hinted || !this.redactor.passesUnchanged(raw)) {
      // Colour codes would hide levels ("\x1b[31mFATAL") and split templates: gone before anything reads the line.
      line = this.redactor.redactLine(raw.includes('\x1b') ? stripAnsi(raw) : raw);
      if (this.opts.recheckRedacted && this.redactor.lastLineChanged && !this.opts.recheckRedacted(line)) {
        this.redactor.forgetLastLine();
        this.lineNo--; // not even a line number: record spans must not count it
        return;
      }
      if (line !== raw) {
        scanHeader(line, h, this.yearHint);
        tokens = undefined;
      }
    }
    if (this.opts.recheckRedacted) this.bytesKept += Buffer.byteLength(raw) + 1;
    this.linesScanned++;
    if (this.recOpen) {
      const before = this.rec.trace;
      if (continuesRecord(this.rec, line, h)) {
        // The last exception of a (chained) traceback is the one that was raised.
        if (this.recBareTraceback && before === Trace.Python && this.rec.trace === Trace.PythonDone) this.recExceptionLine = h.body(line).slice(0, 500);
        this.append(line, h);
        return;
      }
    }
    if (this.recOpen) this.flush();
    this.open(line, h);
    this.recTokens = tokens;
    if (tokens !== undefined) {
      this.recLexHit = lexHit;
      this.recListOpen = listOpen;
      this.recSpans = spans!;
      this.lineSpansNext ^= 1; // the open record keeps this buffer
    }
  }

  /** The identifier (and the container stream of CRI lines) that lead a record's tokens: they route Drain
   *  and name the writer. */
  private leadsFor(ident: string | undefined, stream: number): void {
    if (ident !== undefined && ident !== this.lastIdent) {
      this.lastIdent = ident;
      this.lastIdentToken = ident + ':';
    }
    if (stream) {
      this.lead1 = STREAM_TOKEN[stream]!;
      this.lead2 = ident !== undefined ? this.lastIdentToken : undefined;
    } else {
      this.lead1 = ident !== undefined ? this.lastIdentToken : undefined;
      this.lead2 = undefined;
    }
  }

  private open(line: string, h: Header): void {
    this.recOpen = true;
    this.recHead = line;
    this.recTime = h.time;
    this.recIdent = h.ident;
    this.recStream = h.stream;
    this.recMsgStart = h.messageStart;
    this.recJsonMessage = h.jsonMessage;
    this.recFirstLine = this.recLastLine = this.lineNo;
    this.recMore = undefined;
    this.recChars = line.length;
    this.recCut = false;
    this.recJoined = undefined;
    this.recExceptionLine = undefined;
    this.recWrapped = undefined;
    this.recWrapLines = 0;
    this.recGroup = h.group;
    const rec = this.rec;
    rec.lines = 1;
    rec.source = sourceOf(h);
    rec.partial = h.partial;
    rec.level = h.level;
    // Only heads that can start a trace pay for the copies traceOfHead reads.
    const b0 = h.jsonBody !== undefined ? h.jsonBody.charCodeAt(0) : line.charCodeAt(h.bodyStart);
    const m0 = h.jsonMessage !== undefined ? h.jsonMessage.charCodeAt(0) : line.charCodeAt(h.messageStart);
    rec.trace = TRACE_HEAD_CHARS[b0 & 127] === 1 || m0 === 84 ? traceOfHead(h.body(line), h.message(line)) : Trace.None;
    this.recBareTraceback = rec.trace === Trace.Python;
  }

  private append(line: string, h: Header): void {
    const rec = this.rec;
    rec.lines++;
    this.recLastLine = this.lineNo;
    if (rec.partial) {
      // A CRI/Docker partial: the parts make one line of the container's output.
      rec.partial = h.partial;
      const part = h.body(line);
      if (this.recChars + part.length <= MAX_RECORD_CHARS) {
        this.recJoined = (this.recJoined ?? '') + part;
        this.recChars += part.length;
      } else this.recCut = true;
      return;
    }
    rec.partial = h.partial;
    // A message that wraps (Windows Format-Table -Wrap) or continues on indented lines (journal) is one
    // message: its first continuation lines are templated with the head. Stack frames are not.
    if (rec.trace === Trace.None && this.recWrapLines >= 0) {
      if (line.charCodeAt(0) === 32 && this.recWrapLines < 4 && !isFrameLine(line)) {
        this.recWrapped = (this.recWrapped === undefined ? '' : this.recWrapped + ' ') + line.trim();
        this.recWrapLines++;
      } else this.recWrapLines = -1;
    }
    if (this.recChars + line.length + 1 <= MAX_RECORD_CHARS) {
      (this.recMore ??= []).push(line);
      this.recChars += line.length + 1;
    } else this.recCut = true;
  }

  /** Templates the open record and accounts for it. */
  private flush(): void {
    this.recOpen = false;
    this.recordsScanned++;
    const head = this.recHead;
    this.leadsFor(this.recIdent, this.recStream);
    const lead1 = this.lead1;
    const lead2 = this.lead2;
    const shift = lead2 !== undefined ? 2 : lead1 !== undefined ? 1 : 0;
    let tokens: string[];
    let message: string | undefined;
    let spanBase: string;
    let from = 0;
    let spans = this.flushSpans;
    let lexHit: number;
    let listOpen: boolean | undefined; // the message holds "['" (undefined: not known, look)
    if (this.recExceptionLine !== undefined) {
      // A bare Python traceback: its head says nothing, the exception line at its end says what happened.
      message = 'Traceback: ' + this.recExceptionLine;
      tokens = maskTokens(message, 0, lead1, lead2, spans);
      spanBase = message;
      lexHit = lexiconScan.hit;
    } else if (this.recJsonMessage !== undefined || this.recJoined !== undefined || this.recWrapped !== undefined) {
      message = this.recJsonMessage ?? head.slice(this.recMsgStart);
      if (this.recJoined !== undefined) message = (message + this.recJoined).slice(0, this.maxLineChars);
      if (this.recWrapped !== undefined) message = (message + ' ' + this.recWrapped).slice(0, this.maxLineChars);
      tokens = maskTokens(message, 0, lead1, lead2, spans);
      spanBase = message;
      lexHit = lexiconScan.hit;
    } else {
      // The common case: the head was masked when it was read (no copy of the message unless something
      // below needs one).
      from = this.recMsgStart;
      if (this.recTokens !== undefined) {
        tokens = this.recTokens;
        spans = this.recSpans;
        lexHit = this.recLexHit;
        listOpen = this.recListOpen;
      } else {
        tokens = maskTokens(head, from, lead1, lead2, spans);
        lexHit = lexiconScan.hit;
      }
      spanBase = head;
    }
    const level = this.rec.level;
    let severity = liftByHit(level ?? severityFromText((message ??= from === 0 ? head : head.slice(from))), lexHit);
    if ((this.recIdent !== undefined && PHRASE_IDENTS.has(this.recIdent)) || (listOpen ?? spanBase.indexOf("['", from) >= 0)) {
      const phrased = maskPhrases(this.recIdent, (message ??= from === 0 ? head : head.slice(from)));
      if (phrased !== undefined) {
        spans = this.flushSpans;
        tokens = maskTokens(phrased, 0, lead1, lead2, spans);
        spanBase = phrased;
      }
    }
    const more = this.recMore;
    if (more) for (let i = 0; i < more.length && i < 8; i++) severity = liftSeverity(severity, more[i]!);
    this.severityCounts[severity]++;

    // The header's level keeps statements apart that print the same words at different levels
    // (cloud-init logs a failure at WARNING, then again at DEBUG with the traceback).
    let tag = level === undefined ? 0 : SEVERITY_RANK[level] + 1;
    if (this.recGroup !== undefined) tag += 8 * groupHash(this.recGroup);
    const cluster = this.miner.add(tokens, shift, tag);
    const text = this.recordText();
    this.note(cluster, severity, this.recTime, text, spanBase, spans);
    this.opts.onRecord?.(this.recFirstLine, this.recLastLine - this.recFirstLine + 1, cluster);

    if (this.keepTail > 0) {
      if (this.tail.length < this.keepTail) {
        this.tail.push(text);
        this.tailClusters.push(cluster);
      } else {
        this.tail[this.tailPos] = text;
        this.tailClusters[this.tailPos] = cluster;
        this.tailPos = (this.tailPos + 1) % this.keepTail;
      }
    }
  }

  private recordText(): string {
    let text = this.recJoined !== undefined ? this.recHead + this.recJoined : this.recHead;
    if (this.recMore) text += '\n' + this.recMore.join('\n');
    if (this.recCut) text += `\n…[record cut: ${this.recLastLine - this.recFirstLine + 1} lines in all]`;
    return text;
  }

  private note(cluster: DrainCluster, severity: Severity, time: number, text: string, spanBase: string, spanBuffer: SpanBuffer): void {
    let st = cluster.data as TemplateState | undefined;
    const spans = spanBuffer.data;
    const nSpans = spanBuffer.count * 3;
    if (!st) {
      st = { severity, exemplars: [], constantsLeft: 0 };
      cluster.data = st;
      if (nSpans) {
        const constants: (string | null)[] = new Array(cluster.tokens.length).fill(null);
        for (let k = 0; k < nSpans; k += 3) constants[spans[k]!] = spanBase.slice(spans[k + 1], spans[k + 2]);
        st.constants = constants;
        st.constantsLeft = nSpans / 3;
      }
    } else {
      if (SEVERITY_RANK[severity] < SEVERITY_RANK[st.severity]) st.severity = severity;
      const constants = st.constants;
      if (constants) {
        // A placeholder keeps its original text only while every member had that same text there.
        let k = 0;
        for (let i = 0; i < constants.length; i++) {
          const c = constants[i];
          if (c === null || c === undefined) continue;
          while (k < nSpans && spans[k]! < i) k += 3;
          const same = k < nSpans && spans[k]! === i && spans[k + 2]! - spans[k + 1]! === c.length && spanBase.startsWith(c, spans[k + 1]);
          if (!same) {
            constants[i] = null;
            if (--st.constantsLeft === 0) st.constants = undefined;
          }
        }
      }
    }
    if (!Number.isNaN(time)) {
      if (st.first === undefined || time < st.first) st.first = time;
      if (st.last === undefined || time > st.last) st.last = time;
      if (this.first === undefined || time < this.first) this.first = time;
      if (this.last === undefined || time > this.last) this.last = time;
    }
    // The first records seen, and the most recent one in the last slot.
    const ex = st.exemplars;
    if (this.exemplars > 0) {
      if (ex.length < this.exemplars) ex.push(text);
      else if (this.exemplars > 1) ex[this.exemplars - 1] = text;
    }
  }

  finish(bytesRead: number, byteCapHit: boolean, linesTruncated: number): LogDigest {
    if (this.recOpen) this.flush();
    const templates: TemplateSummary[] = [];
    const summaryOf = new Map<DrainCluster, TemplateSummary>();
    for (const c of this.miner.clusters) {
      const st = c.data as TemplateState;
      const summary: TemplateSummary = {
        template: templateText(c, st),
        count: c.size,
        severity: st.severity,
        firstTime: toIso(st.first),
        lastTime: toIso(st.last),
        exemplars: st.exemplars.slice(),
      };
      templates.push(summary);
      summaryOf.set(c, summary);
    }
    const ranked = rankTemplates(templates, this.recordsScanned);
    const indexOf = new Map(ranked.map((t, i) => [t, i]));
    const inOrder = <T>(ring: T[]): T[] => (ring.length < this.keepTail ? ring.slice() : [...ring.slice(this.tailPos), ...ring.slice(0, this.tailPos)]);
    const tail = inOrder(this.tail);
    // Evicted clusters are no longer in the miner: their lines point nowhere (-1).
    const tailTemplates = inOrder(this.tailClusters).map((c) => {
      const s = summaryOf.get(c);
      return s ? indexOf.get(s)! : -1;
    });
    return {
      bytesRead: this.opts.recheckRedacted ? this.bytesKept : bytesRead,
      linesScanned: this.linesScanned,
      recordsScanned: this.recordsScanned,
      linesFilteredOut: this.linesFilteredOut,
      linesTruncated,
      byteCapHit,
      redactions: { ...this.redactor.counts },
      severityCounts: { ...this.severityCounts },
      templates: ranked,
      templatesEvicted: this.miner.evicted,
      tail,
      tailTemplates,
      inband: this.inband.slice(),
      firstTime: toIso(this.first),
      lastTime: toIso(this.last),
    };
  }
}

/** "    at x.y(Z.java:1)", "    ... 3 more", '  File "…"': frames of a trace printed with spaces. */
function isFrameLine(line: string): boolean {
  let i = 0;
  while (line.charCodeAt(i) === 32) i++;
  return line.startsWith('at ', i) || line.startsWith('...', i) || line.startsWith('File "', i);
}

function groupHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return (h % 0x3fffff) + 1;
}

/** A template's text: placeholders that stood for one same value in every member show that value. */
export function templateText(c: DrainCluster, st?: { constants?: (string | null)[] }): string {
  const constants = st?.constants;
  if (!constants || c.size < 2) return c.tokens.join(' ');
  let out = '';
  for (let i = 0; i < c.tokens.length; i++) {
    const t = c.tokens[i]!;
    const k = constants[i];
    out += (i ? ' ' : '') + (k != null && t !== WILDCARD ? k : t);
  }
  return out;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Digests a byte stream. Returns when the source ends or maxBytes is reached (byteCapHit: the caller
 * should then abort its request); the iterator is closed in both cases.
 */
export async function digestLogStream(source: AsyncIterable<Uint8Array>, opts: DigestOptions): Promise<LogDigest> {
  const { signal } = opts;
  if (signal?.aborted) throw abortReason(signal);
  const builder = new DigestBuilder(opts);
  const splitter = new LineSplitter({ maxLineChars: opts.maxLineChars ?? 2000, onLine: (l) => builder.add(l) });
  const maxBytes = Math.max(0, opts.maxBytes);
  let bytesRead = 0;
  let byteCapHit = false;
  const it = source[Symbol.asyncIterator]();

  let onAbort: (() => void) | undefined;
  const aborted = signal
    ? new Promise<never>((_, reject) => {
        onAbort = () => reject(abortReason(signal));
        signal.addEventListener('abort', onAbort, { once: true });
      })
    : undefined;
  aborted?.catch(() => {}); // observed below; avoid an unhandled rejection when never raced

  let done = false;
  try {
    for (;;) {
      const r = aborted ? await Promise.race([it.next(), aborted]) : await it.next();
      if (r.done) {
        done = true;
        break;
      }
      const chunk = r.value;
      if (signal?.aborted) throw abortReason(signal);
      if (bytesRead + chunk.byteLength > maxBytes) {
        const room = maxBytes - bytesRead;
        if (room > 0) splitter.push(chunk.subarray(0, room));
        bytesRead = maxBytes;
        byteCapHit = true;
        splitter.discardPartial();
        break;
      }
      bytesRead += chunk.byteLength;
      splitter.push(chunk);
    }
    if (done) splitter.end();
  } catch (err) {
    if (!done) void Promise.resolve(it.return?.()).catch(() => {});
    throw err;
  } finally {
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
  if (!done) await Promise.resolve(it.return?.()).catch(() => {});
  return builder.finish(bytesRead, byteCapHit, splitter.linesTruncated);
}

/** In-memory variant (tests, summaries of already split text). maxBytes counts UTF-8 bytes plus newlines. */
export function digestLines(
  lines: Iterable<string>,
  opts: Omit<DigestOptions, 'maxBytes' | 'signal'> & { maxBytes?: number },
): LogDigest {
  const builder = new DigestBuilder(opts);
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const maxLineChars = opts.maxLineChars ?? 2000;
  let bytesRead = 0;
  let byteCapHit = false;
  let linesTruncated = 0;
  for (let line of lines) {
    const n = Buffer.byteLength(line) + 1;
    if (bytesRead + n > maxBytes) {
      byteCapHit = true;
      bytesRead = Math.min(maxBytes, bytesRead + n);
      break;
    }
    bytesRead += n;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > maxLineChars) {
      linesTruncated++;
      line = line.slice(0, maxLineChars) + truncationMarker(n - 1);
    }
    builder.add(line);
  }
  return builder.finish(bytesRead, byteCapHit, linesTruncated);
}

/**
 * The log pipeline: bytes → lines → redaction → severity/time → templates → keep set (errors, rare
 * templates, recent tail). Memory is bounded by the caps (templates, exemplars, tail, line length),
 * never by the size of the input.
 */
import { TemplateMiner, type DrainCluster } from './drain.js';
import { splitLine } from './header.js';
import { LineSplitter, truncationMarker } from './lines.js';
import { maskTokens } from './mask.js';
import { rankTemplates } from './rank.js';
import { createRedactor } from './redact.js';
import { detectSeverity, emptySeverityCounts, SEVERITY_RANK, type Severity } from './severity.js';
import { parseLineTime, toIso } from './timestamp.js';

export type { Severity } from './severity.js';

export interface DigestOptions {
  /** Stop consuming the source after this many bytes; digest.byteCapHit = true. */
  maxBytes: number;
  /** Default 2000: longer lines keep a prefix + a marker saying how long they were. */
  maxLineChars?: number;
  /** Most recent lines kept verbatim (default 200). */
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
  /** Aborting stops reading promptly and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Year for formats without one (journald short-precise, klog); default: this UTC year. */
  yearHint?: number;
}

export interface TemplateSummary {
  template: string;
  count: number;
  severity: Severity;
  firstTime?: string;
  lastTime?: string;
  exemplars: string[];
}

export interface LogDigest {
  bytesRead: number;
  linesScanned: number;
  linesFilteredOut: number;
  linesTruncated: number;
  byteCapHit: boolean;
  /** By kind, e.g. { jwt: 3, bearer: 1 }. */
  redactions: Record<string, number>;
  severityCounts: Record<Severity, number>;
  /** Sorted by importance (errors/warnings, rare, then by count). */
  templates: TemplateSummary[];
  templatesEvicted: number;
  /** Last keepTail log lines (redacted). */
  tail: string[];
  /** Parallel to tail: the index in `templates` of each tail line's template, -1 when it was evicted. */
  tailTemplates?: number[];
  /** Capped (INBAND_CAP). */
  inband: { kind: string; line: string }[];
  /** ISO times parsed from the lines, when they have one. */
  firstTime?: string;
  lastTime?: string;
}

export const INBAND_CAP = 20;
/** Drain settings for node logs: depth 5 because the journal identifier is prepended as the first token. */
export const DRAIN_DEPTH = 5;
export const DRAIN_SIM = 0.4;

interface TemplateState {
  severity: Severity;
  first?: number;
  last?: number;
  exemplars: string[];
}

/** Accumulates lines into a digest; shared by the stream and the in-memory entry points. */
class DigestBuilder {
  private readonly redactor = createRedactor();
  private readonly miner: TemplateMiner;
  private readonly keepTail: number;
  private readonly exemplars: number;
  private readonly tail: string[] = [];
  private readonly tailClusters: DrainCluster[] = [];
  private tailPos = 0;
  private readonly severityCounts = emptySeverityCounts();
  private readonly inband: { kind: string; line: string }[] = [];
  private first?: number;
  private last?: number;
  private readonly yearHint: number;
  linesScanned = 0;
  linesFilteredOut = 0;

  constructor(private readonly opts: Omit<DigestOptions, 'maxBytes' | 'signal'>) {
    this.keepTail = Math.max(0, opts.keepTail ?? 200);
    this.exemplars = Math.max(0, opts.exemplarsPerTemplate ?? 2);
    this.yearHint = opts.yearHint ?? new Date().getUTCFullYear();
    this.miner = new TemplateMiner({
      depth: DRAIN_DEPTH,
      sim: DRAIN_SIM,
      maxChildren: 100,
      maxClusters: Math.max(1, opts.maxTemplates ?? 1000),
      isPrecious: (c) => SEVERITY_RANK[(c.data as TemplateState).severity] <= 2,
    });
  }

  add(raw: string): void {
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
    this.linesScanned++;
    const line = this.redactor.redactLine(raw);
    const time = parseLineTime(line, this.yearHint);
    if (time !== undefined) {
      if (this.first === undefined || time < this.first) this.first = time;
      if (this.last === undefined || time > this.last) this.last = time;
    }
    const parts = splitLine(line);
    const severity = detectSeverity(parts.message, parts.klogLevel, line);
    this.severityCounts[severity]++;

    const tokens = maskTokens(line, parts.messageStart);
    // logfmt "level=info" first: severity is tracked apart, and routing on it would hide the msg word,
    // so the journal identifier takes its place.
    const levelFirst = tokens.length > 1 && tokens[0]!.startsWith('level=');
    if (parts.ident !== undefined) {
      if (levelFirst) tokens[0] = parts.ident + ':';
      else tokens.unshift(parts.ident + ':');
    } else if (levelFirst) tokens.shift();
    const cluster = this.miner.add(tokens);
    this.note(cluster, severity, time, line);

    if (this.keepTail > 0) {
      if (this.tail.length < this.keepTail) {
        this.tail.push(line);
        this.tailClusters.push(cluster);
      } else {
        this.tail[this.tailPos] = line;
        this.tailClusters[this.tailPos] = cluster;
        this.tailPos = (this.tailPos + 1) % this.keepTail;
      }
    }
  }

  private note(cluster: DrainCluster, severity: Severity, time: number | undefined, line: string): void {
    let st = cluster.data as TemplateState | undefined;
    if (!st) {
      st = { severity, exemplars: [] };
      cluster.data = st;
    } else if (SEVERITY_RANK[severity] < SEVERITY_RANK[st.severity]) {
      st.severity = severity;
    }
    if (time !== undefined) {
      if (st.first === undefined || time < st.first) st.first = time;
      if (st.last === undefined || time > st.last) st.last = time;
    }
    // The first lines seen, and the most recent one in the last slot.
    const ex = st.exemplars;
    if (this.exemplars > 0) {
      if (ex.length < this.exemplars) ex.push(line);
      else if (this.exemplars > 1) ex[this.exemplars - 1] = line;
    }
  }

  finish(bytesRead: number, byteCapHit: boolean, linesTruncated: number): LogDigest {
    const templates: TemplateSummary[] = [];
    const summaryOf = new Map<DrainCluster, TemplateSummary>();
    for (const c of this.miner.clusters) {
      const st = c.data as TemplateState;
      const summary: TemplateSummary = {
        template: c.tokens.join(' '),
        count: c.size,
        severity: st.severity,
        firstTime: toIso(st.first),
        lastTime: toIso(st.last),
        exemplars: st.exemplars.slice(),
      };
      templates.push(summary);
      summaryOf.set(c, summary);
    }
    const ranked = rankTemplates(templates, this.linesScanned);
    const indexOf = new Map(ranked.map((t, i) => [t, i]));
    const inOrder = <T>(ring: T[]): T[] => (ring.length < this.keepTail ? ring.slice() : [...ring.slice(this.tailPos), ...ring.slice(0, this.tailPos)]);
    const tail = inOrder(this.tail);
    // Evicted clusters are no longer in the miner: their lines point nowhere (-1).
    const tailTemplates = inOrder(this.tailClusters).map((c) => {
      const s = summaryOf.get(c);
      return s ? indexOf.get(s)! : -1;
    });
    return {
      bytesRead,
      linesScanned: this.linesScanned,
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

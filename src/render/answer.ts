/**
 * Turns a digest into the text a model reads, within a hard character budget. Server-made facts and
 * counts come first, outside the data; everything derived from log text (templates, exemplars, recent
 * lines) goes inside one untrusted block. When something does not fit, the text says what was left out
 * and how to narrow the query.
 */
import type { MergedDigest } from '../logs/merge.js';
import type { LogDigest } from '../logs/pipeline.js';
import { SEVERITIES } from '../logs/severity.js';
import { blockClose, blockOpen, blockPreface, escapeBlockLine, newBoundary, sanitizeLogText } from './untrusted.js';

export interface RenderInput {
  /** Server-made lines (what was asked, effective window, limits, notices): rendered first, outside the data block. */
  facts: string[];
  digest: LogDigest | MergedDigest;
  /** summary: templates + counts + times + exemplars + recent tail; lines: the most recent lines only. */
  format: 'summary' | 'lines';
  /** Hard cap on the returned text, everything included. */
  budgetChars: number;
}

export interface RenderResult {
  text: string;
  truncated: boolean;
  /** Raw log lines shown inside the block (recent lines and exemplars). */
  linesShown: number;
  templatesShown: number;
  boundary: string;
}

const TEMPLATE_MAX = 400;
const EXEMPLAR_MAX = 400;
const LINE_MAX = 1000;
/** Share of the free budget templates may take in summary mode when there are recent lines to show. */
const TEMPLATE_SHARE = 0.6;

/** Multi-line records (stack traces, goroutine dumps) keep at most this many lines and characters. */
const RECORD_LINES_MAX = 24;
const RECORD_CHARS_MAX = 2400;

/**
 * One record (a log line, or a multi-line record with "\n" between its lines) as block text: every line
 * escaped on its own, continuation lines indented under the first, and a count of what was cut.
 */
function recordBlock(record: string, prefix: string, lineMax: number, boundary: string): string {
  if (!record.includes('\n')) return prefix + escapeBlockLine(clip(record, lineMax), boundary);
  const lines = record.split('\n');
  const indent = ' '.repeat(Math.min(prefix.length, 12));
  let out = prefix + escapeBlockLine(clip(lines[0]!, lineMax), boundary);
  let i = 1;
  for (; i < lines.length && i < RECORD_LINES_MAX; i++) {
    const next = indent + escapeBlockLine(clip(lines[i]!, lineMax), boundary);
    if (out.length + 1 + next.length > RECORD_CHARS_MAX) break;
    out += '\n' + next;
  }
  if (i < lines.length) out += `\n${indent}[… ${lines.length - i} more lines of this record not shown]`;
  return out;
}

function isMerged(d: LogDigest | MergedDigest): d is MergedDigest {
  return Array.isArray((d as MergedDigest).nodes);
}

function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let n = Math.max(0, max - 1);
  const c = s.charCodeAt(n - 1);
  if (c >= 0xd800 && c <= 0xdbff) n--;
  return s.slice(0, n) + '…';
}

function shortTime(iso?: string): string {
  return iso ? iso.replace(/\.\d+Z$/, 'Z') : '?';
}

function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** One-line facts about the whole digest; all numbers, no log text. */
function overview(d: LogDigest | MergedDigest): string[] {
  const out: string[] = [];
  const range = d.firstTime || d.lastTime ? `, ${shortTime(d.firstTime)} → ${shortTime(d.lastTime)}` : '';
  const nodes = isMerged(d) ? ` from ${d.nodes.length} node(s)` : '';
  out.push(`Scanned ${d.linesScanned} lines (${fmtBytes(d.bytesRead)})${nodes}${range}.`);
  const sev = SEVERITIES.filter((s) => d.severityCounts[s] > 0).map((s) => `${s} ${d.severityCounts[s]}`);
  if (sev.length) out.push(`Severity: ${sev.join(', ')}.`);
  const extra: string[] = [];
  if (d.linesFilteredOut) extra.push(`${d.linesFilteredOut} lines filtered out locally`);
  if (d.linesTruncated) extra.push(`${d.linesTruncated} over-long lines shortened`);
  const red = Object.entries(d.redactions).filter(([, n]) => n > 0);
  if (red.length) extra.push(`secrets redacted: ${red.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (d.templatesEvicted) extra.push(`${d.templatesEvicted} rarely seen templates dropped by the template cap`);
  if (extra.length) out.push(`Also: ${extra.join('; ')}.`);
  if (d.byteCapHit) {
    out.push(`Reading stopped at the byte cap after ${fmtBytes(d.bytesRead)}: lines after that point were not read.`);
  }
  if (isMerged(d)) {
    const capped = d.nodes.filter((n) => d.perNode[n]?.byteCapHit);
    if (capped.length) out.push(`Byte cap hit on: ${capped.slice(0, 10).map(sanitizeLogText).join(', ')}${capped.length > 10 ? ` (+${capped.length - 10})` : ''}.`);
  }
  if (d.inband.length) {
    const kinds = new Map<string, number>();
    for (const ib of d.inband) kinds.set(ib.kind, (kinds.get(ib.kind) ?? 0) + 1);
    out.push(`Messages from the kubelet/journalctl (not log lines): ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(', ')}.`);
  }
  if (d.linesScanned === 0) out.push('No log lines matched.');
  return out;
}

function notice(omittedTemplates: number, totalTemplates: number, omittedLines: number, totalLines: number): string {
  const parts: string[] = [];
  if (omittedTemplates > 0) parts.push(`${omittedTemplates} of ${totalTemplates} templates (lowest ranked)`);
  if (omittedLines > 0) parts.push(`${omittedLines} of ${totalLines} lines (oldest first)`);
  if (!parts.length) return '';
  return (
    `Not shown (output budget): ${parts.join('; ')}. To narrow: add a pattern, a shorter sinceTime/untilTime ` +
    `window, a smaller tailLines, fewer nodes or services, or ask for a larger budget.`
  );
}

function tailLines(d: LogDigest | MergedDigest): string[] {
  if (isMerged(d)) return d.tail.map((t) => `[${t.node}] ${t.line}`);
  return d.tail;
}

export function renderLogAnswer(input: RenderInput): RenderResult {
  const budget = Math.max(0, Math.floor(input.budgetChars));
  const boundary = newBoundary();
  const d = input.digest;
  const facts = input.facts.map((f) => sanitizeLogText(f));
  const head = [...facts, ...overview(d)];
  const open = blockOpen(boundary);
  const close = blockClose(boundary);
  const preface = blockPreface();

  const tail = tailLines(d);
  const templates = input.format === 'summary' ? d.templates : [];
  const totalLinesForNotice = input.format === 'lines' ? Math.max(d.linesScanned, tail.length) : tail.length;
  // The notice is written last but its room is reserved first, sized for the worst case.
  const reserve = notice(templates.length, templates.length, totalLinesForNotice, totalLinesForNotice).length + 1;

  const headText = head.join('\n');
  const blockFixed = preface.length + 1 + open.length + 1 + close.length;
  let free = budget - headText.length - 1 - blockFixed - 1 - reserve;
  if (free < 0) return fallback(head, budget, boundary, d, input.format);

  const outside: string[] = [];
  const inside: string[] = [];
  let templatesShown = 0;
  let linesShown = 0;

  if (templates.length) {
    const title = 'Templates, most important first (id, severity, count, first → last seen; text and examples are in the log block under the same id):';
    let room = Math.floor((tail.length ? TEMPLATE_SHARE : 1) * free) - title.length - 1;
    const listed: string[] = [];
    const shown: { body: string; exemplars: string[]; kept: number }[] = [];
    // Pass 1: as many templates as fit, without examples; passes 2..: one more example each, in rank order.
    for (const t of templates) {
      const id = `T${templatesShown + 1}`;
      const nodeList = 'nodes' in t && Array.isArray(t.nodes) ? (t.nodes as string[]) : undefined;
      // "seen on 37 of 50 nodes" tells a fleet-wide problem from one node's trouble at a glance.
      const nodes = nodeList && isMerged(d)
        ? `  seen on ${nodeList.length} of ${d.nodes.length} nodes: ${nodeList.slice(0, 5).map(sanitizeLogText).join(', ')}${nodeList.length > 5 ? ` (+${nodeList.length - 5})` : ''}`
        : '';
      const stat = `${id}  ${t.severity}  ×${t.count}  ${shortTime(t.firstTime)} → ${shortTime(t.lastTime)}${nodes}`;
      const body = `[${id}] ${escapeBlockLine(clip(t.template, TEMPLATE_MAX), boundary)}`;
      const cost = stat.length + 1 + body.length + 1;
      if (cost > room) continue;
      room -= cost;
      listed.push(stat);
      const exemplars = t.exemplars.map((e) => recordBlock(e, `[${id} e.g.] `, EXEMPLAR_MAX, boundary));
      shown.push({ body, exemplars, kept: 0 });
      templatesShown++;
    }
    for (let k = 0; ; k++) {
      let any = false;
      for (const s of shown) {
        const e = s.exemplars[k];
        if (e === undefined || s.kept !== k) continue;
        any = true;
        if (e.length + 1 > room) continue;
        room -= e.length + 1;
        s.kept++;
        linesShown++;
      }
      if (!any) break;
    }
    for (const s of shown) inside.push(s.body, ...s.exemplars.slice(0, s.kept));
    if (listed.length) {
      outside.push(title, ...listed);
      free -= listed.reduce((a, s) => a + s.length + 1, 0) + title.length + 1;
      free -= inside.reduce((a, s) => a + s.length + 1, 0);
    }
  }

  const recent: string[] = [];
  if (tail.length) {
    const header = input.format === 'summary' ? '-- most recent lines, oldest first --' : '';
    let room = free - (header ? header.length + 1 : 0);
    const cap = input.format === 'lines' ? Math.max(LINE_MAX, 2000) : LINE_MAX;
    for (let i = tail.length - 1; i >= 0; i--) {
      const l = recordBlock(tail[i]!, '', cap, boundary);
      if (l.length + 1 > room) break;
      room -= l.length + 1;
      recent.push(l);
    }
    recent.reverse();
    if (recent.length) {
      if (header) inside.push(header);
      inside.push(...recent);
      linesShown += recent.length;
    }
  }

  const omittedTemplates = templates.length - templatesShown;
  const omittedLines = input.format === 'lines' ? Math.max(0, Math.max(d.linesScanned, tail.length) - recent.length) : tail.length - recent.length;
  const note = notice(omittedTemplates, templates.length, omittedLines, totalLinesForNotice);

  const pieces = [headText, ...outside];
  if (inside.length) pieces.push(preface, open, ...inside, close);
  if (note) pieces.push(note);
  const text = pieces.join('\n');
  if (text.length > budget) return fallback(head, budget, boundary, d, input.format);
  return {
    text,
    truncated: omittedTemplates > 0 || omittedLines > 0 || d.byteCapHit,
    linesShown,
    templatesShown,
    boundary,
  };
}

/** Too small a budget for any log text: the facts alone, cut to fit, and a note saying so. */
function fallback(head: string[], budget: number, boundary: string, d: LogDigest | MergedDigest, format: string): RenderResult {
  const note = `[Output budget of ${budget} characters too small for log lines; ask for a larger budget or a narrower query.]`;
  let text: string;
  if (note.length >= budget) text = clip(note, budget);
  else {
    const room = budget - note.length - 1;
    let h = '';
    for (const line of head) {
      const next = h ? `${h}\n${line}` : line;
      if (next.length > room) break;
      h = next;
    }
    text = h ? `${h}\n${note}` : note;
  }
  const anything = d.linesScanned > 0 || (format === 'summary' && d.templates.length > 0);
  return { text, truncated: anything || d.byteCapHit, linesShown: 0, templatesShown: 0, boundary };
}

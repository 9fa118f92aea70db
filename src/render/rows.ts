/**
 * The rows of a summary: one per template, in rank order, with everything the server knows about it
 * (severity, count, first/last time, nodes) next to its text. Bursts of one-off info lines logged within
 * the same couple of seconds (a boot sequence, a config dump) fold into one row, so they cost one line.
 */
import type { MergedDigest, MergedTemplate } from '../logs/merge.js';
import type { LogDigest, TemplateSummary } from '../logs/pipeline.js';
import { SEVERITY_RANK, type Severity } from '../logs/severity.js';
import { GIANT_ONE_OFF_CHARS } from '../logs/rank.js';

export interface Row {
  /** T-id: 1 + the template's index in digest.templates (its rank, as in structuredContent). */
  id: number;
  /** Template indices this row stands for (several for a folded burst). */
  members: number[];
  severity: Severity;
  /** Log lines the row stands for. */
  count: number;
  firstTime?: string;
  lastTime?: string;
  /** The template text, or the raw line itself when the template was seen once. */
  text: string;
  raw: boolean;
  /** Example lines, most telling first (the most recent, then the first seen); excludes a raw `text`. */
  exemplars: { line: string; node?: string }[];
  /** Fan-out: the nodes it was seen on, and lines per node. */
  nodes?: string[];
  nodeCounts?: Record<string, number>;
  /** A burst of this many one-off lines folded into this row. */
  burst?: number;
}

const BURST_WINDOW_MS = 2000;
const BURST_MIN = 3;

export function isMerged(d: LogDigest | MergedDigest): d is MergedDigest {
  return Array.isArray((d as MergedDigest).nodes);
}

function isOneOffInfo(t: TemplateSummary): boolean {
  return t.count === 1 && SEVERITY_RANK[t.severity] >= SEVERITY_RANK.info && t.firstTime !== undefined && t.template.length <= GIANT_ONE_OFF_CHARS;
}

export function buildRows(d: LogDigest | MergedDigest): { rows: Row[]; rowOfTemplate: (Row | undefined)[] } {
  const merged = isMerged(d);
  const templates = d.templates as (TemplateSummary | MergedTemplate)[];
  // Bursts: one-off info lines, grouped by time.
  const oneOffs = templates.map((t, i) => ({ t, i })).filter(({ t }) => isOneOffInfo(t));
  oneOffs.sort((a, b) => (a.t.firstTime! < b.t.firstTime! ? -1 : a.t.firstTime! > b.t.firstTime! ? 1 : a.i - b.i));
  const burstOf = new Map<number, number[]>();
  for (let k = 0; k < oneOffs.length; ) {
    const start = Date.parse(oneOffs[k]!.t.firstTime!);
    let j = k + 1;
    while (j < oneOffs.length && Date.parse(oneOffs[j]!.t.firstTime!) - start <= BURST_WINDOW_MS) j++;
    if (j - k >= BURST_MIN) {
      const members = oneOffs.slice(k, j).map((x) => x.i);
      const lead = Math.min(...members);
      burstOf.set(lead, members);
      for (const m of members) if (m !== lead) burstOf.set(m, []);
    }
    k = j;
  }

  const rows: Row[] = [];
  const rowOfTemplate: (Row | undefined)[] = new Array(templates.length);
  templates.forEach((t, i) => {
    const burst = burstOf.get(i);
    if (burst && burst.length === 0) return; // folded into its burst's row
    const mt = merged ? (t as MergedTemplate) : undefined;
    const examples = t.exemplars.map((line, k) => ({ line, node: mt?.exemplarNodes?.[k] }));
    // The last slot holds the most recent line: show it first.
    examples.reverse();
    let row: Row;
    if (burst) {
      const members = burst.map((m) => templates[m]!).sort((a, b) => (a.firstTime! < b.firstTime! ? -1 : 1));
      const first = members[0]!;
      row = {
        id: i + 1,
        members: burst,
        severity: members.reduce<Severity>((s, m) => (SEVERITY_RANK[m.severity] < SEVERITY_RANK[s] ? m.severity : s), 'unknown'),
        count: burst.length,
        firstTime: first.firstTime,
        lastTime: members[members.length - 1]!.lastTime,
        text: first.exemplars[0] ?? first.template,
        raw: first.exemplars[0] !== undefined,
        exemplars: members.slice(1).flatMap((m) => (m.exemplars[0] !== undefined ? [{ line: m.exemplars[0], node: (m as MergedTemplate).exemplarNodes?.[0] }] : [])),
        burst: burst.length,
      };
    } else if (t.count === 1 && examples.length > 0) {
      // Seen once: the line itself says more than its masked template, and showing both would repeat it.
      row = { id: i + 1, members: [i], severity: t.severity, count: 1, firstTime: t.firstTime, lastTime: t.lastTime, text: examples[0]!.line, raw: true, exemplars: [] };
    } else {
      row = { id: i + 1, members: [i], severity: t.severity, count: t.count, firstTime: t.firstTime, lastTime: t.lastTime, text: t.template, raw: false, exemplars: dedupe(examples) };
    }
    if (mt) {
      row.nodes = mt.nodes;
      row.nodeCounts = mt.nodeCounts;
    }
    rows.push(row);
    for (const m of row.members) rowOfTemplate[m] = row;
  });
  return { rows, rowOfTemplate };
}

function dedupe(ex: { line: string; node?: string }[]): { line: string; node?: string }[] {
  const seen = new Set<string>();
  return ex.filter((e) => (seen.has(e.line) ? false : (seen.add(e.line), true)));
}

/**
 * Fan-out over many nodes: per-node digests folded into one view. Templates with the same text are
 * one template seen on several nodes; the tails are interleaved by time.
 */
import { TemplateMiner } from './drain.js';
import { DRAIN_DEPTH, DRAIN_SIM, type LogDigest, type TemplateSummary } from './pipeline.js';
import { rankTemplates } from './rank.js';
import { emptySeverityCounts, SEVERITY_RANK, SEVERITIES } from './severity.js';
import { parseLineTime } from './header.js';

/** The per-node digest's totals, summed; templates, tail and in-band lines carry their nodes. */
export interface MergedDigest extends Omit<LogDigest, 'templates' | 'tail' | 'inband' | 'recordsScanned'> {
  recordsScanned: number;
  nodes: string[];
  perNode: Record<string, { linesScanned: number; byteCapHit: boolean }>;
  templates: MergedTemplate[];
  /** The most recent lines across nodes, oldest first; template: index in `templates` (-1: evicted). */
  tail: { node: string; line: string; template?: number }[];
  inband: { node: string; kind: string; line: string }[];
}

export interface MergedTemplate extends TemplateSummary {
  nodes: string[];
  /** Lines of this template per node. */
  nodeCounts: Record<string, number>;
  /** Parallel to exemplars: the node each came from. */
  exemplarNodes: string[];
}

type Part = { node: string; digest: LogDigest | MergedDigest };

/** Cap on merged templates, like the per-node LRU cap. */
export const MERGED_TEMPLATE_CAP = 1000;
const MERGED_INBAND_CAP = 40;
/** Merged tails keep every node's lines up to this many in total (the renderer picks what fits). */
const MERGED_TAIL_CAP = 1000;

function minIso(a?: string, b?: string): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

function maxIso(a?: string, b?: string): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

export function mergeDigests(parts: Part[]): MergedDigest {
  const severityCounts = emptySeverityCounts();
  const redactions: Record<string, number> = {};
  const perNode: MergedDigest['perNode'] = {};
  // No LRU here: the inputs are already capped, and dropping a merged template would lose counts.
  const miner = new TemplateMiner({ depth: DRAIN_DEPTH, sim: DRAIN_SIM, maxClusters: Number.MAX_SAFE_INTEGER });
  let tailTotal = 0;
  const inband: MergedDigest['inband'] = [];
  let exemplarCap = 2; // the pipeline default; more when the parts kept more
  let tailCap = 0;
  const merged: MergedDigest = {
    nodes: parts.map((p) => p.node),
    perNode,
    templates: [],
    tail: [],
    inband,
    bytesRead: 0,
    linesScanned: 0,
    recordsScanned: 0,
    linesFilteredOut: 0,
    linesTruncated: 0,
    byteCapHit: false,
    redactions,
    severityCounts,
    templatesEvicted: 0,
  };
  // Each part's template (by its index there) → the merged template it went into.
  const mergedOf: MergedTemplate[][] = [];
  for (const { node, digest: d } of parts) {
    const mine: MergedTemplate[] = [];
    mergedOf.push(mine);
    perNode[node] = { linesScanned: d.linesScanned, byteCapHit: d.byteCapHit };
    merged.bytesRead += d.bytesRead;
    merged.linesScanned += d.linesScanned;
    merged.recordsScanned += d.recordsScanned ?? d.linesScanned;
    merged.linesFilteredOut += d.linesFilteredOut;
    merged.linesTruncated += d.linesTruncated;
    merged.byteCapHit ||= d.byteCapHit;
    merged.templatesEvicted += d.templatesEvicted;
    merged.firstTime = minIso(merged.firstTime, d.firstTime);
    merged.lastTime = maxIso(merged.lastTime, d.lastTime);
    for (const s of SEVERITIES) severityCounts[s] += d.severityCounts[s] ?? 0;
    for (const [k, v] of Object.entries(d.redactions)) redactions[k] = (redactions[k] ?? 0) + v;
    for (const ib of d.inband) if (inband.length < MERGED_INBAND_CAP) inband.push({ node, ...ib });
    tailCap = Math.max(tailCap, d.tail.length);
    tailTotal += d.tail.length;
    for (const t of d.templates) {
      exemplarCap = Math.max(exemplarCap, t.exemplars.length);
      // The same log call renders slightly different templates on different nodes ("dev=sda" on one,
      // "dev=<*>" on another), so templates are merged by a Drain pass over the templates themselves.
      const cluster = miner.add(t.template.split(' '));
      const m = cluster.data as MergedTemplate | undefined;
      // A part that is itself merged (several files of one node) brings its own exemplar sources.
      const srcNodes = 'exemplarNodes' in t ? (t as MergedTemplate).exemplarNodes : t.exemplars.map(() => node);
      if (!m) {
        const fresh: MergedTemplate = { ...t, exemplars: t.exemplars.slice(), exemplarNodes: srcNodes.slice(), nodes: [node], nodeCounts: { [node]: t.count } };
        cluster.data = fresh;
        mine.push(fresh);
        continue;
      }
      mine.push(m);
      m.count += t.count;
      m.nodeCounts[node] = (m.nodeCounts[node] ?? 0) + t.count;
      if (SEVERITY_RANK[t.severity] < SEVERITY_RANK[m.severity]) m.severity = t.severity;
      m.firstTime = minIso(m.firstTime, t.firstTime);
      m.lastTime = maxIso(m.lastTime, t.lastTime);
      if (!m.nodes.includes(node)) m.nodes.push(node);
      // Exemplars from different nodes are more telling than a second one from the same node.
      if (m.exemplars.length < exemplarCap && t.exemplars[0] !== undefined && !m.exemplarNodes.includes(node)) {
        m.exemplars.push(t.exemplars[0]);
        m.exemplarNodes.push(srcNodes[0] ?? node);
      }
    }
  }
  const byTemplate: MergedTemplate[] = [];
  for (const c of miner.clusters) {
    const m = c.data as MergedTemplate;
    m.template = c.tokens.join(' ');
    byTemplate.push(m);
  }
  merged.templates = rankTemplates(byTemplate, merged.recordsScanned).slice(0, MERGED_TEMPLATE_CAP);
  const rankOf = new Map(merged.templates.map((t, i) => [t, i]));
  const templateIndex = (part: number, local: number | undefined): number => {
    const m = local === undefined || local < 0 ? undefined : mergedOf[part]![local];
    return m ? (rankOf.get(m) ?? -1) : -1;
  };
  merged.templatesEvicted += Math.max(0, byTemplate.length - MERGED_TEMPLATE_CAP);

  // Interleave tails by line time (stable; lines without a time keep their node-local position).
  const year = new Date().getUTCFullYear();
  const all: { node: string; line: string; template: number; t: number; i: number }[] = [];
  let seq = 0;
  parts.forEach(({ node, digest }, p) => {
    let lastT = Number.NEGATIVE_INFINITY;
    // A part may itself be a merged digest (e.g. several files of one node): its tail entries carry a node.
    (digest.tail as (string | { node: string; line: string; template?: number })[]).forEach((entry, k) => {
      const line = typeof entry === 'string' ? entry : `[${entry.node}] ${entry.line}`;
      const local = typeof entry === 'string' ? (digest as LogDigest).tailTemplates?.[k] : entry.template;
      const t = parseLineTime(typeof entry === 'string' ? entry : entry.line, year) ?? lastT;
      lastT = t;
      all.push({ node, line, template: templateIndex(p, local), t, i: seq++ });
    });
  });
  all.sort((a, b) => a.t - b.t || a.i - b.i);
  const keep = Math.max(tailCap, Math.min(tailTotal, MERGED_TAIL_CAP));
  merged.tail = all.slice(Math.max(0, all.length - keep)).map(({ node, line, template }) => ({ node, line, template }));
  return merged;
}

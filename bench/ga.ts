/**
 * Template grouping accuracy (GA, log-summarization.md §2) per log format on the labelled fixture
 * test/fixtures/formats/*.tsv (written by bench/fixtures/make-formats.ts). Each file is fed raw, headers
 * and all, through the same path as `kube-node-logs-mcp summarize --format assignments`: every record's
 * input lines take the record's template. Layout rows ("-") and blank lines are not scored.
 * Targets: mean ≥ 0.9, no format below 0.75.
 *
 * Run alone: npx tsx bench/ga.ts [--show FORMAT]   (--show prints the mis-grouped events of one format)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { classifyWindowsInbandLine } from '../src/logs/inband.js';
import { digestLines, templateText } from '../src/logs/pipeline.js';
import type { DrainCluster } from '../src/logs/drain.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/formats');

export interface LabelledFile {
  name: string;
  labels: string[];
  lines: string[];
}

export function loadFormats(dir = DIR): LabelledFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .sort()
    .map((f) => {
      const labels: string[] = [];
      const lines: string[] = [];
      for (const row of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        if (row === '' || row.startsWith('#')) continue;
        const tab = row.indexOf('\t');
        labels.push(row.slice(0, tab));
        lines.push(row.slice(tab + 1));
      }
      return { name: f.replace(/\.tsv$/, ''), labels, lines };
    });
}

/** logparser's GA: a predicted group is correct iff it holds exactly the lines of one true event. */
export function groupingAccuracy(truth: string[], predicted: string[]): number {
  const truthSize = new Map<string, number>();
  for (const t of truth) truthSize.set(t, (truthSize.get(t) ?? 0) + 1);
  const byPred = new Map<string, number[]>();
  predicted.forEach((p, i) => {
    const g = byPred.get(p);
    if (g) g.push(i);
    else byPred.set(p, [i]);
  });
  let correct = 0;
  for (const idx of byPred.values()) {
    const t0 = truth[idx[0]!]!;
    if (idx.every((i) => truth[i] === t0) && truthSize.get(t0) === idx.length) correct += idx.length;
  }
  return truth.length ? correct / truth.length : 1;
}

/** Template id per input line (as the assignments listing gives it); undefined for lines in no record. */
export function assign(lines: string[]): { ids: (number | undefined)[]; texts: Map<number, string> } {
  const ids: (number | undefined)[] = new Array(lines.length).fill(undefined);
  const clusters = new Map<number, DrainCluster>();
  digestLines(lines, {
    maxBytes: 1e9,
    yearHint: 2026,
    classifyInband: classifyWindowsInbandLine,
    maxTemplates: Number.MAX_SAFE_INTEGER,
    onRecord: (first, n, c) => {
      clusters.set(c.id, c);
      for (let i = first; i < first + n; i++) ids[i - 1] = c.id;
    },
  });
  const texts = new Map<number, string>();
  for (const [id, c] of clusters) texts.set(id, templateText(c, c.data as Parameters<typeof templateText>[1]));
  return { ids, texts };
}

export function scoreFormat(f: LabelledFile): { ga: number; lines: number; events: number; templates: number; bad: string[] } {
  const { ids, texts } = assign(f.lines);
  const truth: string[] = [];
  const pred: string[] = [];
  f.lines.forEach((l, i) => {
    if (f.labels[i] === '-' || l.trim() === '') return;
    truth.push(f.labels[i]!);
    pred.push(ids[i] === undefined ? `none:${i}` : String(ids[i]));
  });
  const ga = groupingAccuracy(truth, pred);
  // Events whose lines are not exactly one template, with the templates they went to.
  const bad: string[] = [];
  const byLabel = new Map<string, Map<string, number>>();
  truth.forEach((t, i) => {
    const m = byLabel.get(t) ?? new Map<string, number>();
    m.set(pred[i]!, (m.get(pred[i]!) ?? 0) + 1);
    byLabel.set(t, m);
  });
  const predLabels = new Map<string, Set<string>>();
  truth.forEach((t, i) => predLabels.set(pred[i]!, (predLabels.get(pred[i]!) ?? new Set()).add(t)));
  for (const [label, m] of byLabel) {
    const split = m.size > 1;
    const merged = [...m.keys()].some((p) => (predLabels.get(p)?.size ?? 0) > 1);
    if (split || merged)
      bad.push(`${label}: ${[...m].map(([p, n]) => `${n}× ${texts.get(Number(p)) ?? p}${(predLabels.get(p)?.size ?? 0) > 1 ? ` (shared with ${[...predLabels.get(p)!].filter((x) => x !== label).join(', ')})` : ''}`).join(' | ')}`);
  }
  return { ga, lines: truth.length, events: byLabel.size, templates: new Set(pred).size, bad };
}

export async function main(opts: { log?: (s: string) => void; show?: string } = {}): Promise<{ mean: number; perFormat: Record<string, number> }> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const files = loadFormats();
  log(`GA bench: ${files.length} formats, ${files.reduce((n, f) => n + f.lines.length, 0)} lines (test/fixtures/formats), raw lines with their headers`);
  const perFormat: Record<string, number> = {};
  for (const f of files) {
    const s = scoreFormat(f);
    perFormat[f.name] = s.ga;
    log(`  ${f.name.padEnd(16)} GA ${s.ga.toFixed(3)}  (${s.lines} lines, ${s.events} events, ${s.templates} templates)`);
    if (opts.show === f.name || opts.show === 'all') for (const b of s.bad) log(`      ${b}`);
  }
  const values = Object.values(perFormat);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const worst = Object.entries(perFormat).sort((a, b) => a[1] - b[1])[0]!;
  log(`  mean GA ${mean.toFixed(3)}; lowest ${worst[0]} ${worst[1].toFixed(3)}  (targets: mean ≥ 0.9, none below 0.75)`);
  return { mean, perFormat };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--show');
  main({ show: i > 0 ? process.argv[i + 1] : undefined }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

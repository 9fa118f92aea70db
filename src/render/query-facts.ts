/**
 * The server-made facts at the head of a query_node_logs answer: which nodes answered, what was asked,
 * what was actually searched, and the notices. Nothing here is log text, so it stands outside the
 * untrusted block. Each fact is said once.
 */
import type { NodeLogsAnswer } from '../nodelogs/run-query.js';
import type { NodeQueryOutcome } from '../nodelogs/query-node.js';
import type { EffectiveQuery } from '../query/types.js';
import { fmtBytes, fmtCount } from './text.js';

/** What was asked; the window and the tail are said by the scope line instead (each fact once). */
export function describeQuery(e: EffectiveQuery, windows: boolean): string {
  const parts: string[] = [];
  if (e.services?.length) parts.push(`${windows ? 'event-log providers' : 'services'} ${e.services.join(', ')}`);
  if (e.file) parts.push(`file /var/log${e.file}`);
  if (e.pattern !== undefined) parts.push(`pattern ${JSON.stringify(e.pattern)}`);
  if (e.boot !== undefined) parts.push(`boot ${e.boot}`);
  return parts.join('; ');
}

export interface QueryFacts {
  facts: string[];
  scope: string;
  notices: string[];
}

export function queryFacts(a: NodeLogsAnswer): QueryFacts {
  const facts: string[] = [];
  const windows = a.targets.every((t) => t.os === 'windows');
  const asked = describeQuery(a.effective, windows);
  if (a.targets.length === 1) {
    const t = a.targets[0]!;
    facts.push(`Node ${t.name} (${t.os}, kubelet ${t.kubeletVersion ?? 'unknown'}, Ready=${t.ready}); asked for ${asked}.`);
  } else {
    const ok = a.outcomes.filter((o) => o.ok).length;
    const leftOut = a.leftOutNodes ? ` ${a.leftOutAtLeast ? 'At least ' : ''}${a.leftOutNodes} more not queried (maxNodes cap; narrow the selector or raise maxNodes).` : '';
    facts.push(`Nodes matching ${JSON.stringify(a.selector)}: ${a.outcomes.length} queried, ${ok} answered${ok < a.outcomes.length ? `, ${a.outcomes.length - ok} failed` : ''}; asked for ${asked}.${leftOut}`);
    facts.push(...groupedFailures(a.outcomes.filter((o) => !o.ok)));
  }
  return { facts, scope: scopeOf(a), notices: a.fanOut ? [...a.planNotices, ...groupedNodeNotices(a.outcomes)] : a.notices };
}

/**
 * Fan-out: a notice several nodes share is said once with their names; answers that may have been cut at
 * the kubelet's deadline are listed in one line with their times.
 */
function groupedNodeNotices(outcomes: NodeQueryOutcome[]): string[] {
  const out: string[] = [];
  const cut = outcomes.filter((o) => o.ok && o.possiblyTruncated);
  // query-node's own wording for a possibly truncated answer.
  const isCutNotice = (n: string) => n.includes('(possibly truncated)');
  if (cut.length > 1)
    out.push(`Possibly truncated at the kubelet's deadline (the answer took about that long or ended mid-line): ${cut.map((o) => `${o.node} (${(o.elapsedMs / 1000).toFixed(1)} s)`).join(', ')}. Narrow the time window or add tailLines/pattern.`);
  const groups = new Map<string, { nodes: string[]; text: string }>();
  for (const o of outcomes) {
    for (const n of o.notices) {
      if (cut.length > 1 && isCutNotice(n)) continue;
      const key = n.split(o.node).join('\u0001');
      const g = groups.get(key);
      if (g) g.nodes.push(o.node);
      else groups.set(key, { nodes: [o.node], text: key });
    }
  }
  for (const { nodes, text } of groups.values()) out.push(nodes.length > 1 ? `${nodes.join(', ')}: ${text.split('\u0001').join('each of them')}` : text.split('\u0001').join(nodes[0]!));
  return out;
}

/**
 * Causes a fan-out names often, said short (check_node_log_support gives the whole story); other failures
 * keep their own message.
 */
const SHORT_CAUSE: Record<string, string> = {
  'query-mode-off':
    'node log query is off (the kubelet answered with its /var/log listing) — fix: kubelet config enableSystemLogHandler: true, enableSystemLogQuery: true (and featureGates NodeLogQuery: true before v1.36); files under /var/log stay readable',
  'handler-disabled': 'the kubelet log handler is off (405) — fix: kubelet config enableSystemLogHandler: true and enableSystemLogQuery: true',
  'debugging-disabled': 'the kubelet debugging handlers are off — fix: kubelet config enableDebuggingHandlers: true',
  'kubelet-unreachable': 'the API server could not reach its kubelet — the node may be down, NotReady or partitioned; list_nodes shows its Ready condition',
};

/** Failures grouped by cause: "worker-2, worker-4 failed: <cause — fix>", the cause said once. */
function groupedFailures(failed: NodeQueryOutcome[]): string[] {
  const groups = new Map<string, { nodes: string[]; message: string }>();
  for (const o of failed) {
    const kind = o.failure?.kind ?? 'failed';
    const message = SHORT_CAUSE[kind] ?? o.failure?.message ?? 'failed';
    // Same kind, same message once the node's own name is taken out: one cause.
    const key = `${kind}\u0000${message.split(o.node).join('\u0001')}`;
    const g = groups.get(key);
    if (g) g.nodes.push(o.node);
    else groups.set(key, { nodes: [o.node], message: message.split(o.node).join('\u0001') });
  }
  return [...groups.values()].map(({ nodes, message }) => `  ${nodes.join(', ')} failed: ${message.split('\u0001').join(nodes.length > 1 ? 'each node' : nodes[0]!)}`);
}

/** What was searched, in the words of what the kubelet or this server actually did. */
function scopeOf(a: NodeLogsAnswer): string {
  const e = a.effective;
  const d = a.digest;
  const n = d.linesScanned;
  const each = a.fanOut ? ' on each node' : '';
  const total = a.fanOut ? `: ${fmtCount(n)} lines in all` : '';
  const windows = a.targets.every((t) => t.os === 'windows');
  const boot = windows ? 'the event log' : e.boot === undefined || e.boot === 0 ? 'the current boot' : `boot ${e.boot}`;
  const deflt = e.defaultsApplied.includes('tailLines') ? ' (the default; tailLines up to 100000 or sinceTime/untilTime reach further)' : '';
  if (a.plan.kind === 'file') {
    const files = a.outcomes.filter((o) => o.file);
    const bytes = files.reduce((s, o) => s + (o.file!.bytesRead ?? 0), 0);
    const whole = files.length > 0 && files.every((o) => o.file!.reachedStart);
    const read = whole ? `Read all of /var/log${e.file}${each}` : `Read the last ${fmtBytes(bytes)} of /var/log${e.file}${each}`;
    const filtered = e.pattern !== undefined || e.sinceTime || e.untilTime;
    const kept = filtered ? `${fmtCount(n + d.linesFilteredOut)} lines, ${fmtCount(n)} matched` : `${fmtCount(n)} lines`;
    const capped = e.tailLines !== undefined && n >= e.tailLines ? ` (the last ${fmtCount(e.tailLines)} kept)` : '';
    return `${read}: ${kept}${capped}${deflt}`;
  }
  const window = e.sinceTime || e.untilTime ? `${e.sinceTime ?? 'the start'} → ${e.untilTime ?? 'now'}` : undefined;
  const tail = e.tailLines;
  const full = tail !== undefined && !a.fanOut && n >= tail;
  if (e.pattern !== undefined) {
    // journalctl --grep with --lines reads back until it has N matches.
    if (window) return `Searched ${window}${each} for the pattern: ${fmtCount(n)} matching lines${a.fanOut ? ' in all' : ''}${full ? ` (stopped at tailLines ${fmtCount(tail!)})` : ''}`;
    if (full) return `Searched ${boot} for the pattern back to the ${fmtCount(tail!)}th most recent match: showing the last ${fmtCount(tail!)} matches${deflt}`;
    return `Searched the whole of ${boot}${each} for the pattern: ${fmtCount(n)} matching lines`;
  }
  if (window) return `Read ${window}${each}: ${fmtCount(n)} lines${a.fanOut ? ' in all' : ''}${full ? ` (stopped at tailLines ${fmtCount(tail!)})` : ''}`;
  // The count read, not the count asked: they differ when a node sends more than tailLines.
  if (tail !== undefined) return full || a.fanOut ? `Read the last ${fmtCount(a.fanOut ? tail : n)} lines of ${boot}${each}${total}${deflt}` : `Read the whole of ${boot}: ${fmtCount(n)} lines, fewer than ${e.defaultsApplied.includes('tailLines') ? 'the default tail of' : 'tailLines'} ${fmtCount(tail)}`;
  return `Read ${fmtCount(n)} lines`;
}

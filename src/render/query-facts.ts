/**
 * The server-made facts at the head of a query_node_logs answer: which nodes answered, what was asked and
 * the notices. Nothing here is log text, so it stands outside the untrusted block.
 */
import type { NodeLogsAnswer } from '../nodelogs/run-query.js';
import type { EffectiveQuery } from '../query/types.js';

export function describeQuery(e: EffectiveQuery, windows: boolean): string {
  const parts: string[] = [];
  if (e.services?.length) parts.push(`${windows ? 'event-log providers' : 'services'} ${e.services.join(', ')}`);
  if (e.file) parts.push(`file /var/log${e.file}`);
  if (e.pattern !== undefined) parts.push(`pattern ${JSON.stringify(e.pattern)}`);
  if (e.sinceTime) parts.push(`since ${e.sinceTime}`);
  if (e.untilTime) parts.push(`until ${e.untilTime}`);
  if (e.tailLines !== undefined) parts.push(`last ${e.tailLines} lines`);
  if (e.boot !== undefined) parts.push(`boot ${e.boot}`);
  return parts.join('; ');
}

export function queryFacts(a: NodeLogsAnswer): string[] {
  const facts: string[] = [];
  if (a.targets.length === 1) {
    const t = a.targets[0]!;
    facts.push(`Node ${t.name} (${t.os}, kubelet ${t.kubeletVersion ?? 'unknown'}, Ready=${t.ready}).`);
  } else {
    const ok = a.outcomes.filter((o) => o.ok).length;
    const leftOut = a.leftOutNodes ? `, ${a.leftOutAtLeast ? 'at least ' : ''}${a.leftOutNodes} more not queried (maxNodes cap; narrow the selector or raise maxNodes)` : '';
    facts.push(`Nodes matching ${JSON.stringify(a.selector)}: ${a.outcomes.length} queried, ${ok} answered, ${a.outcomes.length - ok} failed${leftOut}.`);
    for (const o of a.outcomes.filter((o) => !o.ok)) facts.push(`  ${o.node} failed: ${o.failure?.message}`);
  }
  const fileNote = a.plan.kind === 'file' ? ' (file read with an HTTP Range request from its end; pattern and time filters applied by this server)' : '';
  facts.push(`Asked: ${describeQuery(a.effective, a.targets.every((t) => t.os === 'windows'))}${fileNote}.`);
  facts.push(...a.notices);
  return facts;
}

/**
 * One node log query from validated input to a merged digest: resolve the target nodes, plan per node
 * (the node's OS decides what may be sent), run the plans under the limits, and merge what came back.
 * The tool handler only parses arguments before this and renders after it.
 */
import { KubeError } from '../kube/errors.js';
import { listNodesCapped } from '../kube/list-nodes-capped.js';
import { summarizeNode, type NodeSummary } from '../kube/node-info.js';
import { mergeDigests, type MergedDigest } from '../logs/merge.js';
import type { LogDigest } from '../logs/pipeline.js';
import { planLogRequest } from '../query/plan.js';
import type { EffectiveQuery, LogRequestPlan, NodeLogQueryInput, QueryLimits } from '../query/types.js';
import type { ServerConfig } from '../config.js';
import type { SupportCache } from './support-cache.js';
import { describeKubeFailure } from '../kube/describe-failure.js';
import { queryNode, type NodeQueryDeps, type NodeQueryOutcome } from './query-node.js';

export interface NodeLogsDeps extends NodeQueryDeps {
  support: SupportCache;
}

export interface NodeLogsRequest {
  input: NodeLogQueryInput;
  /** Exactly one of node and labelSelector. */
  node?: string;
  labelSelector?: string;
  maxNodes?: number;
  format: 'summary' | 'lines';
}

export interface NodeLogsHooks {
  signal: AbortSignal;
  now: Date;
  /** Called as each node's run ends (fan-out progress). */
  onNodeDone?: (o: NodeQueryOutcome, done: number, total: number) => Promise<void> | void;
}

/** A call that failed as a whole: nothing to render but the message (cause, then what to do). */
export interface NodeLogsFailure {
  ok: false;
  message: string;
  /** invalid: rejected before any request was sent. */
  reason: 'invalid' | 'failed' | 'cancelled';
}

export interface NodeLogsAnswer {
  ok: true;
  targets: NodeSummary[];
  /** Every node's outcome (queried or refused by its plan), sorted by node name. */
  outcomes: NodeQueryOutcome[];
  /** One node's digest, or several nodes' merged. */
  digest: LogDigest | MergedDigest;
  fanOut: boolean;
  effective: EffectiveQuery;
  /** The OS-independent plan: its kind (file or services) describes the query. */
  plan: LogRequestPlan;
  /** Plan notices (each node's own, once) and then per-node notices. */
  notices: string[];
  /** The plan notices alone (per-node notices are on the outcomes). */
  planNotices: string[];
  selector?: string;
  leftOutNodes: number;
  leftOutAtLeast: boolean;
}

export type NodeLogsResult = NodeLogsFailure | NodeLogsAnswer;

export function queryLimitsOf(c: ServerConfig): QueryLimits {
  return {
    defaultTailLines: c.defaultTailLines,
    defaultWindowMs: c.defaultWindowMs,
    maxTailLines: c.maxTailLines,
    maxSummaryTailLines: c.maxSummaryTailLines,
    maxWindowMs: c.maxWindowMs,
    fileTailBytes: c.fileTailBytes,
    maxFileBytes: c.maxFileBytes,
  };
}

export function formatIssues(issues: { field: string; message: string; fix: string }[]): string {
  const lines = issues.map((i) => `- ${i.field}: ${i.message} Fix: ${i.fix}`);
  return `Invalid arguments; nothing was sent to the cluster.\n${lines.join('\n')}`;
}

const fail = (message: string, reason: NodeLogsFailure['reason'] = 'failed'): NodeLogsFailure => ({ ok: false, message, reason });

export async function runNodeLogQuery(deps: NodeLogsDeps, req: NodeLogsRequest, hooks: NodeLogsHooks): Promise<NodeLogsResult> {
  const { signal, now } = hooks;
  if (req.node && req.labelSelector) return fail('Give either node or labelSelector, not both. Use node for one node, labelSelector to query every matching node.', 'invalid');
  if (!req.node && !req.labelSelector) return fail('Say which node to read: give node (a name from list_nodes) or labelSelector (to query every matching node).', 'invalid');
  if (req.maxNodes !== undefined && !req.labelSelector) return fail('maxNodes only applies with labelSelector; remove it or query by labelSelector.', 'invalid');
  const limits = queryLimitsOf(deps.config);

  // Validate against the OS-independent rules before any request, so bad input sends nothing.
  const pre = planLogRequest(req.node ?? 'validation', req.input, { os: 'unknown', limits, now, format: req.format });
  if (!pre.ok) return fail(formatIssues(pre.issues), 'invalid');

  const resolved = await resolveTargets(deps, req, signal);
  if (!resolved.ok) return resolved;
  const { targets, leftOut, atLeast } = resolved;

  // Plan per node: the OS decides whether boot is allowed and which notices apply, the kubelet version how a window is sent.
  const plans = new Map<string, LogRequestPlan>();
  const osOf = new Map(targets.map((t) => [t.name, t.os]));
  const refused: NodeQueryOutcome[] = [];
  for (const t of targets) {
    const planned = planLogRequest(t.name, req.input, { os: t.os, limits, now, kubeletVersion: t.kubeletVersion, format: req.format });
    if (planned.ok) plans.set(t.name, planned.plan);
    else refused.push({ node: t.name, ok: false, failure: { kind: 'kubelet-rejected', message: formatIssues(planned.issues) }, notices: [], possiblyTruncated: false, byteCapHit: false, elapsedMs: 0 });
  }
  if (targets.length === 1 && refused.length === 1) return fail(refused[0]!.failure!.message, 'invalid');

  const keepTail = req.format === 'lines' ? 2000 : 300;
  let done = 0;
  const ran = await Promise.all(
    [...plans].map(async ([node, plan]) => {
      const o = await queryNode(deps, node, plan, { signal, keepTail, os: osOf.get(node) });
      done++;
      recordSupport(deps.support, o);
      await hooks.onNodeDone?.(o, done, plans.size);
      return o;
    }),
  );
  const outcomes = [...ran, ...refused].sort((a, b) => a.node.localeCompare(b.node));

  // One node: its failure is the call's failure.
  if (outcomes.length === 1 && !outcomes[0]!.ok) {
    const o = outcomes[0]!;
    return fail(`${o.failure!.message}${o.notices.length ? `\n${o.notices.join('\n')}` : ''}`);
  }
  const succeeded = outcomes.filter((o) => o.ok && o.digest);
  if (succeeded.length === 0) {
    const lines = [`None of the ${outcomes.length} nodes answered:`, ...outcomes.map((o) => `- ${o.node}: ${o.failure?.message ?? 'failed'}`)];
    return fail(lines.join('\n'));
  }
  const digest = outcomes.length === 1 ? succeeded[0]!.digest! : mergeDigests(succeeded.map((o) => ({ node: o.node, digest: o.digest! })));
  // Each node's own plan speaks for it (a Windows node's notices differ from a Linux node's).
  const planNotices = [...new Set([...plans.values()].flatMap((p) => p.notices))];
  return {
    ok: true,
    targets,
    outcomes,
    digest,
    fanOut: outcomes.length > 1,
    effective: pre.plan.effective,
    plan: pre.plan,
    notices: [...planNotices, ...outcomes.flatMap((o) => o.notices)],
    planNotices,
    ...(req.labelSelector ? { selector: req.labelSelector } : {}),
    leftOutNodes: leftOut,
    leftOutAtLeast: atLeast,
  };
}

async function resolveTargets(
  deps: NodeLogsDeps,
  req: NodeLogsRequest,
  signal: AbortSignal,
): Promise<NodeLogsFailure | { ok: true; targets: NodeSummary[]; leftOut: number; atLeast: boolean }> {
  try {
    if (req.node) return { ok: true, targets: [summarizeNode(await deps.kube.readNode(req.node, signal))], leftOut: 0, atLeast: false };
    const cap = Math.min(req.maxNodes ?? deps.config.maxNodes, deps.config.maxNodes);
    // Paging on just to count would read every node object of a large cluster: the count may be a lower bound.
    const found = await listNodesCapped(deps.kube, { labelSelector: req.labelSelector!, cap, pageSize: Math.min(500, cap + 1), countUpTo: 0 }, signal);
    if (found.nodes.length === 0) return fail(`No nodes match the label selector ${JSON.stringify(req.labelSelector)}. Use list_nodes to see the nodes and their labels.`);
    return { ok: true, targets: found.nodes.map(summarizeNode), leftOut: found.total - found.nodes.length, atLeast: found.totalAtLeast };
  } catch (err) {
    if (err instanceof KubeError && err.kind === 'not-found' && req.node) return fail(`Node ${JSON.stringify(req.node)} does not exist. Use list_nodes to see the node names.`);
    return fail(describeKubeFailure(err, req.node ? `reading node ${req.node}` : 'listing nodes'));
  }
}

function recordSupport(support: SupportCache, o: NodeQueryOutcome): void {
  if (o.ok) support.set(o.node, 'supported', 'a query answered');
  else if (o.failure && ['query-mode-off', 'handler-disabled', 'debugging-disabled'].includes(o.failure.kind)) support.set(o.node, 'not supported', o.failure.kind.replace(/-/g, ' '));
}

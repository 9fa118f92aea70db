import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { listNodesCapped } from '../kube/list-nodes-capped.js';
import { summarizeNode, type NodeSummary } from '../kube/node-info.js';
import { READ_ONLY, callSignal, errorResult, instrument, type ToolDeps } from './common.js';
import { describeKubeFailure } from '../kube/describe-failure.js';

const PAGE_SIZE = 500;
/** Counting what was left out must stay cheap on huge clusters: stop paging after this many names. */
const MAX_COUNTED = 100_000;

export const listNodesInput = z.strictObject({
  labelSelector: z
    .string()
    .max(1024)
    .optional()
    .describe('Kubernetes label selector to narrow the list, e.g. "node-role.kubernetes.io/control-plane", "kubernetes.io/os=windows", "topology.kubernetes.io/zone in (a,b)".'),
  limit: z.number().int().min(1).max(100000).optional().describe('Most nodes to show (default and maximum: the server\'s --list-nodes-max, 500 unless configured). The answer says how many were left out.'),
});

const nodeRow = z.object({
  name: z.string(),
  ready: z.string(),
  roles: z.array(z.string()),
  os: z.string(),
  kubeletVersion: z.string(),
  logQuery: z.string(),
  logQueryWhy: z.string(),
});

export const listNodesOutput = z.object({
  nodes: z.array(nodeRow),
  shown: z.number(),
  total: z.number().describe('Nodes matching the selector (counted, or as reported by the apiserver).'),
  leftOut: z.number(),
  labelSelector: z.string().optional(),
});

export function registerListNodes(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'list_nodes',
    {
      title: 'List cluster nodes',
      description:
        'List the nodes of the Kubernetes cluster with what matters for reading their logs: name, Ready status, roles, OS (linux/windows), kubelet version, and whether node log query can be expected there ("no" for kubelets older than v1.27; "unknown" until check_node_log_support or a query has tried it; "yes" once seen working). ' +
        'Use it first to find node names for query_node_logs, or to pick nodes by label. On Windows nodes services are event-log providers, event times are the node\'s local time (not UTC), and the kubelet and containerd usually log to files (e.g. "/kubelet/kubelet.log"). Files under /var/log work on every node, also rotated ("/syslog.2.gz") and container logs ("/pods/", "/containers/"); a directory path lists its entries. ' +
        'Sorted by name; capped (at most 500 rows, fewer when the answer would exceed the output budget), with the number of nodes left out: narrow with labelSelector. Read-only.',
      inputSchema: listNodesInput,
      outputSchema: listNodesOutput,
      annotations: { title: 'List cluster nodes', ...READ_ONLY },
    },
    instrument(deps, 'list_nodes', async (args, extra) => {
      const signal = callSignal(extra.signal, deps.config);
      const cap = Math.min(args.limit ?? deps.config.listNodesMax, deps.config.listNodesMax);
      let rows: NodeSummary[];
      let total: number;
      try {
        const found = await listNodesCapped(deps.kube, { labelSelector: args.labelSelector, cap, pageSize: PAGE_SIZE, countUpTo: MAX_COUNTED }, signal);
        rows = found.nodes.map(summarizeNode);
        total = found.total;
      } catch (err) {
        return errorResult(describeKubeFailure(err, 'listing nodes'));
      }
      rows.sort((a, b) => a.name.localeCompare(b.name));
      const nodes = rows.map((r) => {
        const seen = deps.support.get(r.name);
        const logQuery = r.logQuery === 'no' ? 'no' : seen ? (seen.verdict === 'supported' ? 'yes' : seen.verdict === 'not supported' ? 'no' : 'unknown') : 'unknown';
        return {
          name: r.name,
          ready: r.ready,
          roles: r.roles,
          os: r.os,
          kubeletVersion: r.kubeletVersion ?? 'unknown',
          logQuery,
          logQueryWhy: seen && r.logQuery !== 'no' ? seen.why : r.logQueryWhy,
        };
      });
      // The answer must fit a model's context like any other: fewer rows when the table or its JSON would not.
      const build = (rows: typeof nodes) => {
        const leftOut = Math.max(0, total - rows.length);
        const structured = { nodes: rows, shown: rows.length, total, leftOut, ...(args.labelSelector ? { labelSelector: args.labelSelector } : {}) };
        return { structured, text: renderNodeTable(rows, total, leftOut, args.labelSelector) };
      };
      const fits = (b: ReturnType<typeof build>) => b.text.length <= deps.config.defaultOutputChars && JSON.stringify(b.structured).length <= deps.config.maxOutputChars;
      let answer = build(nodes);
      if (!fits(answer)) {
        let lo = 1;
        let hi = nodes.length - 1;
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2);
          if (fits(build(nodes.slice(0, mid)))) lo = mid;
          else hi = mid - 1;
        }
        answer = build(nodes.slice(0, lo));
      }
      return { content: [{ type: 'text', text: answer.text }], structuredContent: answer.structured };
    }),
  );
}

function renderNodeTable(nodes: z.infer<typeof nodeRow>[], total: number, leftOut: number, selector?: string): string {
  if (nodes.length === 0) return `No nodes${selector ? ` match the label selector ${JSON.stringify(selector)}` : ' in the cluster'}.`;
  const header = ['NAME', 'READY', 'ROLES', 'OS', 'KUBELET', 'LOG-QUERY'];
  const body = nodes.map((n) => [n.name, n.ready, n.roles.join(',') || '<none>', n.os, n.kubeletVersion, n.logQuery]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const lines = [
    `${total} node${total === 1 ? '' : 's'}${selector ? ` matching ${JSON.stringify(selector)}` : ''}; showing ${nodes.length}${leftOut ? `, ${leftOut} left out (narrow with labelSelector, or raise limit)` : ''}.`,
    fmt(header),
    ...body.map(fmt),
  ];
  const why = new Map<string, string[]>();
  for (const n of nodes) {
    const key = `${n.logQuery}: ${n.logQueryWhy}`;
    why.set(key, [...(why.get(key) ?? []), n.name]);
  }
  lines.push('', 'LOG-QUERY means:');
  for (const [key, names] of why) lines.push(`- ${key} (${names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`})`);
  if (nodes.some((n) => n.logQuery === 'unknown')) lines.push('Run check_node_log_support on a node to settle "unknown".');
  return lines.join('\n');
}


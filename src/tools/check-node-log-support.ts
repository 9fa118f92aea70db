import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { KubeError, excerpt } from '../kube/errors.js';
import { classifyLogAnswer } from '../kube/kubelet-answer.js';
import { nodeApiPath } from '../kube/node-name.js';
import { summarizeNode, versionAtLeast, type NodeSummary } from '../kube/node-info.js';
import type { KubeletLogConfigz } from '../kube/client.js';
import { READ_ONLY, callSignal, errorResult, instrument, type ToolDeps } from './common.js';
import { describeKubeFailure } from '../kube/describe-failure.js';
import type { SupportVerdict } from '../nodelogs/support-cache.js';
import { formatIssues } from '../nodelogs/run-query.js';
import { checkNode } from '../query/plan.js';

export const checkSupportInput = z.strictObject({
  node: z.string().min(1).max(253).describe('Node name, as list_nodes shows it.'),
});

const evidence = z.object({ check: z.string(), result: z.enum(['pass', 'fail', 'unknown', 'info']), detail: z.string() });

export const checkSupportOutput = z.object({
  node: z.string(),
  verdict: z.enum(['supported', 'not supported', 'unknown']),
  evidence: z.array(evidence),
  fixes: z.array(z.string()),
});

type Evidence = z.infer<typeof evidence>;

const RBAC_FIX =
  'Grant "get" on "nodes/proxy" to this user or service account, e.g. a ClusterRole with rules [{apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"]}, {apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"]}] and a ClusterRoleBinding to the subject.';

function kubeletFix(version: string | undefined, debuggingOff = false): string {
  const gate = versionAtLeast(version, 1, 36) ? '' : '\n  featureGates:\n    NodeLogQuery: true';
  const debug = debuggingOff ? '\n  enableDebuggingHandlers: true' : '';
  return `In the kubelet configuration file of the node (e.g. /var/lib/kubelet/config.yaml), set:${debug}\n  enableSystemLogHandler: true\n  enableSystemLogQuery: true${gate}\nthen restart the kubelet (systemctl restart kubelet).`;
}

export function registerCheckNodeLogSupport(server: McpServer, deps: ToolDeps): void {
  server.registerTool(
    'check_node_log_support',
    {
      title: 'Check node log query support',
      description:
        'Find out whether query_node_logs can work on one node, and if not, exactly why and how to fix it. Checks, in order: your RBAC permission "get nodes/proxy" (SelfSubjectAccessReview), that the node exists and is Ready, its OS, its kubelet version (node log query exists from v1.27; the NodeLogQuery gate is locked on from v1.36), the kubelet configuration from /configz (enableDebuggingHandlers, enableSystemLogHandler, enableSystemLogQuery, featureGates.NodeLogQuery), and a tiny live probe (query=kubelet&tailLines=1). ' +
        'A 404 on /configz means the debugging handlers are off (enableDebuggingHandlers: false), which also turns off /logs/. ' +
        'Returns a verdict (supported / not supported / unknown), each piece of evidence, and the fix (kubelet config lines or the ClusterRole rule). Use it when query_node_logs fails or before querying an unfamiliar node. Read-only; sends at most 4 small requests. ' +
        'Even where node log query is off, files under /var/log stay readable with query_node_logs (e.g. "/syslog", rotated "/syslog.2.gz", container logs under "/pods/" and "/containers/"; a directory path lists its entries). On Windows nodes event times are the node\'s local time, not UTC.',
      inputSchema: checkSupportInput,
      outputSchema: checkSupportOutput,
      annotations: { title: 'Check node log query support', ...READ_ONLY },
    },
    instrument(deps, 'check_node_log_support', async ({ node }, extra) => {
      const badName = checkNode(node);
      if (badName) return errorResult(formatIssues([badName]));
      const signal = callSignal(extra.signal, deps.config);
      const ev: Evidence[] = [];
      const fixes: string[] = [];
      let verdict: SupportVerdict | undefined;
      // Which way the requests below went (direct, or which proxy and why): a proxy is a common cause of failures.
      ev.push({ check: 'route to the API server', result: 'info', detail: `${deps.kube.server} ${deps.kube.route.describe}` });

      // 1. RBAC
      let rbacAllowed: boolean | undefined;
      try {
        const review = await deps.kube.reviewNodeProxyAccess(node, signal);
        rbacAllowed = review.allowed;
        ev.push({
          check: 'RBAC get nodes/proxy',
          result: review.allowed ? 'pass' : 'fail',
          detail: review.allowed ? `allowed${review.reason ? ` (${review.reason})` : ''}` : `denied${review.reason ? ` (${review.reason})` : ''}${review.evaluationError ? `; ${review.evaluationError}` : ''}`,
        });
        if (!review.allowed) fixes.push(RBAC_FIX);
      } catch (err) {
        if (signal.aborted) return errorResult(describeKubeFailure(err, `checking ${node}`));
        ev.push({ check: 'RBAC get nodes/proxy', result: 'unknown', detail: describeKubeFailure(err, 'running a SelfSubjectAccessReview') });
      }

      // 2. Node object
      let info: NodeSummary | undefined;
      try {
        info = summarizeNode(await deps.kube.readNode(node, signal));
      } catch (err) {
        if (err instanceof KubeError && err.kind === 'not-found') {
          return errorResult(`Node ${JSON.stringify(node)} does not exist. Use list_nodes to see the node names.`);
        }
        if (signal.aborted) return errorResult(describeKubeFailure(err, `checking ${node}`));
        ev.push({ check: 'node exists', result: 'unknown', detail: describeKubeFailure(err, `reading node ${node}`) });
      }
      if (info) {
        ev.push({
          check: 'node Ready',
          result: info.ready === 'True' ? 'pass' : 'fail',
          detail: `Ready=${info.ready}${info.readyReason ? ` (${excerpt(info.readyReason, 80)}${info.readyMessage ? `: ${excerpt(info.readyMessage, 200)}` : ''})` : ''}`,
        });
        ev.push({ check: 'OS', result: info.os === 'unknown' ? 'unknown' : 'info', detail: `${info.os}${info.osImage ? ` (${excerpt(info.osImage, 80)})` : ''}${info.os === 'windows' ? ': services are Windows event-log providers; boot is not supported' : ''}` });
        const v = info.kubeletVersion;
        const at127 = versionAtLeast(v, 1, 27);
        if (at127 === false) {
          ev.push({ check: 'kubelet version', result: 'fail', detail: `${v}: older than v1.27, which introduced node log query` });
          fixes.push(`Upgrade the kubelet on ${node} to v1.27 or later (v1.36+ has the feature GA), then enable it in the kubelet configuration.`);
          verdict = 'not supported';
        } else if (at127) {
          ev.push({ check: 'kubelet version', result: 'pass', detail: versionAtLeast(v, 1, 36) ? `${v}: NodeLogQuery is GA (gate locked on); enableSystemLogQuery must still be true` : `${v}: needs the NodeLogQuery feature gate and enableSystemLogQuery: true` });
        } else ev.push({ check: 'kubelet version', result: 'unknown', detail: 'not reported' });
      }

      // 3. /configz
      let configSaysOn: boolean | undefined;
      let debuggingOff = false;
      let cfgDebugging: boolean | undefined;
      if (rbacAllowed !== false) {
        try {
          // Every request that reaches the node's kubelet counts against its per-node limit.
          const cfg = await deps.scheduler.run(node, signal, (sig) => deps.kube.getKubeletConfigz(node, sig));
          configSaysOn = configVerdict(cfg, info?.kubeletVersion, ev);
          cfgDebugging = cfg.enableDebuggingHandlers;
        } catch (err) {
          if (signal.aborted) return errorResult(describeKubeFailure(err, `checking ${node}`));
          if (err instanceof KubeError && err.kind === 'not-found') {
            // /configz is installed with the debugging handlers only: a 404 means they are off, and /logs/ with them.
            debuggingOff = true;
            configSaysOn = false;
            ev.push({ check: 'kubelet /configz', result: 'fail', detail: '404: the kubelet serves no /configz, so its debugging handlers are off (enableDebuggingHandlers: false), which also turns off /logs/' });
          } else {
            const detail =
              err instanceof KubeError && err.kind === 'forbidden'
                ? `403 on /configz: ${err.message} (itself evidence that nodes/proxy is not granted)`
                : describeKubeFailure(err, 'reading the kubelet configuration (/configz)');
            ev.push({ check: 'kubelet /configz', result: 'unknown', detail });
          }
        }
      }

      // 4. Live probe
      let probe: 'on' | 'off' | 'disabled' | 'unknown' = 'unknown';
      if (rbacAllowed !== false && verdict !== 'not supported') {
        const path = nodeApiPath(node, '/proxy/logs/?query=kubelet&tailLines=1');
        try {
          const answer = await deps.scheduler.run(node, signal, async (sig) => {
            const res = await deps.kube.proxyGet(path, { signal: sig, timeoutMs: Math.min(deps.config.requestTimeoutMs, 15_000) });
            try {
              return await classifyLogAnswer(res, { node, isFile: false });
            } finally {
              res.abort();
            }
          });
          if (answer.ok) {
            probe = 'on';
            ev.push({ check: 'live probe (query=kubelet&tailLines=1)', result: 'pass', detail: `HTTP ${answer.status} with a journal answer: query mode is on` });
          } else {
            const f = answer.failure;
            probe = f.kind === 'query-mode-off' ? 'off' : f.kind === 'handler-disabled' || f.kind === 'debugging-disabled' ? 'disabled' : 'unknown';
            if (f.kind === 'debugging-disabled') debuggingOff = true;
            ev.push({ check: 'live probe (query=kubelet&tailLines=1)', result: probe === 'unknown' ? 'unknown' : 'fail', detail: f.message });
            if (f.kind === 'forbidden') fixes.includes(RBAC_FIX) || fixes.push(RBAC_FIX);
          }
        } catch (err) {
          if (signal.aborted) return errorResult(describeKubeFailure(err, `checking ${node}`));
          ev.push({ check: 'live probe (query=kubelet&tailLines=1)', result: 'unknown', detail: describeKubeFailure(err, 'probing /logs/') });
        }
      }

      if (!verdict) {
        if (rbacAllowed === false) verdict = 'not supported';
        else if (probe === 'on') verdict = 'supported';
        else if (probe === 'off' || probe === 'disabled') verdict = 'not supported';
        else if (configSaysOn === false) verdict = 'not supported';
        else verdict = 'unknown';
      }
      if ((probe === 'off' || probe === 'disabled' || configSaysOn === false) && !fixes.some((f) => f.startsWith('In the kubelet'))) fixes.push(kubeletFix(info?.kubeletVersion, debuggingOff || (cfgDebugging === false)));
      if (verdict === 'unknown' && info?.ready !== 'True') fixes.push(`The node is not Ready: bring the kubelet on ${node} back (check the machine, its network and systemctl status kubelet), then check again.`);

      deps.support.set(node, verdict, evidenceSummary(verdict, ev));
      const structured = { node, verdict, evidence: ev, fixes };
      return { content: [{ type: 'text', text: renderCheck(structured) }], structuredContent: structured };
    }),
  );
}

/** Reads /configz per the upstream rule: debugging on, handler on, query on, and the gate effective. */
function configVerdict(cfg: KubeletLogConfigz, version: string | undefined, ev: Evidence[]): boolean {
  const gates = cfg.featureGates ?? {};
  // Alpha in v1.27–v1.29, beta (still off by default) from v1.30. A running kubelet with enableSystemLogQuery
  // has an effective gate: it refuses to start otherwise (validation.go).
  const beta = versionAtLeast(version, 1, 30) === true;
  const gateOn =
    versionAtLeast(version, 1, 36) === true ||
    gates.NodeLogQuery === true ||
    cfg.enableSystemLogQuery === true ||
    (gates.NodeLogQuery !== false && (beta ? gates.AllBeta === true : gates.AllAlpha === true));
  const flag = (name: keyof KubeletLogConfigz, value: unknown, want: boolean) =>
    ev.push({ check: `kubelet config ${name}`, result: value === want ? 'pass' : 'fail', detail: `${String(value ?? 'absent')}${value === want ? '' : ` (needs ${want})`}` });
  flag('enableDebuggingHandlers', cfg.enableDebuggingHandlers, true);
  flag('enableSystemLogHandler', cfg.enableSystemLogHandler, true);
  flag('enableSystemLogQuery', cfg.enableSystemLogQuery, true);
  ev.push({
    check: 'feature gate NodeLogQuery',
    result: gateOn ? 'pass' : 'fail',
    detail: versionAtLeast(version, 1, 36)
      ? 'locked on (v1.36+)'
      : gates.NodeLogQuery !== undefined
        ? `explicitly ${gates.NodeLogQuery}`
        : cfg.enableSystemLogQuery === true
          ? 'effective (a kubelet with enableSystemLogQuery does not start without it)'
          : gateOn
            ? `on via ${beta ? 'AllBeta' : 'AllAlpha'}`
            : 'not set (off by default before v1.36)',
  });
  return cfg.enableDebuggingHandlers !== false && cfg.enableSystemLogHandler === true && cfg.enableSystemLogQuery === true && gateOn;
}

function evidenceSummary(verdict: SupportVerdict, ev: Evidence[]): string {
  const failed = ev.filter((e) => e.result === 'fail').map((e) => e.check);
  return verdict === 'supported' ? 'checked: live probe answered' : failed.length ? `checked: ${failed.join(', ')} failed` : 'checked: inconclusive';
}

function renderCheck(r: { node: string; verdict: string; evidence: Evidence[]; fixes: string[] }): string {
  const mark = { pass: 'ok  ', fail: 'FAIL', unknown: '??  ', info: 'info' } as const;
  const lines = [`Node log query on ${r.node}: ${r.verdict.toUpperCase()}`, '', 'Evidence:'];
  for (const e of r.evidence) lines.push(`  [${mark[e.result]}] ${e.check}: ${e.detail}`);
  if (r.fixes.length) {
    lines.push('', 'Fix:');
    for (const f of r.fixes) lines.push(...f.split('\n').map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)));
  }
  if (r.verdict === 'supported') lines.push('', `Next: query_node_logs with node "${r.node}" and query "kubelet" (or "containerd", or a file such as "/syslog"; "/" lists /var/log, "/pods/" the container logs).`);
  return lines.join('\n');
}

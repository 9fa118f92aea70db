/**
 * Turns a validated query into the exact request for the apiserver node proxy.
 * Never unbounded: a journal request always carries tailLines and/or a time
 * window; a file request carries nothing but `query` (the kubelet answers 406
 * to a file with options) and is tailed with HTTP Range and filtered locally.
 */
import { isSmartCaseInsensitive } from './go-regexp.js';
import { formatUtcSeconds, type Rfc3339Instant } from './rfc3339.js';
import { analyzeNodeLogQuery, KUBELET_MAX_TAIL_LINES } from './validate.js';
import type { EffectiveQuery, LogRequestPlan, NodeLogQueryInput, NodeOs, QueryLimits, ValidationIssue } from './types.js';

// Node names are DNS subdomains (ValidateNodeName).
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function logsPathPrefix(node: string): string {
  return `/api/v1/nodes/${encodeURIComponent(node)}/proxy/logs/`;
}

/**
 * Files are fetched by path (/proxy/logs/<file>), not as ?query=<file>: with no query parameters the kubelet
 * serves /var/log through its file server in every mode, so files stay readable on kubelets where query
 * mode is off or does not exist, and Range requests work the same. Segments are encoded one by one.
 */
export function filePathFor(node: string, file: string): string {
  const segments = file.replace(/\\/g, '/').split('/').filter(Boolean).map(encodeURIComponent);
  return `${logsPathPrefix(node)}${segments.join('/')}`;
}

/** encodeURIComponent keeps `+`, `&`, spaces and unicode unambiguous for Go's query parser. */
function encodeParams(params: URLSearchParams): string {
  const parts: string[] = [];
  for (const [k, v] of params) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.join('&');
}

function checkNode(node: unknown): ValidationIssue | undefined {
  if (typeof node === 'string' && node.length <= 253 && NODE_NAME.test(node)) return undefined;
  const shown = typeof node === 'string' ? JSON.stringify(node.slice(0, 100)) : typeof node;
  return {
    field: 'node',
    message: `node ${shown} is not a valid node name (lowercase letters, digits, "-" and ".", at most 253 characters).`,
    fix: 'Use a name exactly as list_nodes reports it, e.g. "worker-1".',
  };
}

const utcSeconds = (epochSeconds: number) => `${formatUtcSeconds(epochSeconds)}Z`;

/**
 * A lowercase pattern is matched case-insensitively (journalctl smart-case). That only surprises when case
 * carries meaning: klog level letters before digits ("e[0-9]{4}" also matches "E1127" and "e1234" in hex
 * ids) or letter ranges; plain words matching any case is what people expect, so those get no notice.
 */
function smartCaseCouldSurprise(pattern: string): boolean {
  return /(^|[^a-z])[iwef](\[0-9|\\d|[0-9])/.test(pattern) || /\[[^\]]*[a-z]-[a-z]/.test(pattern);
}

export function planLogRequest(
  node: string,
  input: NodeLogQueryInput,
  /** format: summaries may scan deeper (limits.maxSummaryTailLines) than raw lines are shown. */
  ctx: { os: NodeOs; limits: QueryLimits; now: Date; format?: 'summary' | 'lines' },
): { ok: true; plan: LogRequestPlan } | { ok: false; issues: ValidationIssue[] } {
  const nodeIssue = checkNode(node);
  const { issues, query } = analyzeNodeLogQuery(input, ctx);
  if (nodeIssue) issues.unshift(nodeIssue);
  if (issues.length > 0 || !query) return { ok: false, issues };

  const { limits } = ctx;
  const maxTailFor = ctx.format === 'summary' ? Math.max(limits.maxTailLines, limits.maxSummaryTailLines ?? 0) : limits.maxTailLines;
  const maxTail = Math.min(Math.max(0, Math.floor(maxTailFor)), KUBELET_MAX_TAIL_LINES);
  const defaultTail = Math.min(Math.max(0, Math.floor(limits.defaultTailLines)), maxTail);
  const nowMs = ctx.now.getTime();
  const notices: string[] = [];
  const defaultsApplied: string[] = [];

  if (query.duplicateServices.length > 0) {
    notices.push(`Duplicate services were sent once: ${query.duplicateServices.join(', ')}.`);
  }

  let tailLines = query.tailLines;
  if (tailLines !== undefined && tailLines > maxTail) {
    const summaryCap = ctx.format === 'lines' && (limits.maxSummaryTailLines ?? 0) > maxTail ? ` (format "summary" reads up to ${Math.min(limits.maxSummaryTailLines!, KUBELET_MAX_TAIL_LINES)})` : '';
    notices.push(`tailLines ${tailLines} is above this server's limit of ${maxTail} for format "${ctx.format ?? 'lines'}"${summaryCap}; reading the last ${maxTail} lines instead. Narrow with sinceTime/untilTime or pattern to see older lines.`);
    tailLines = maxTail;
  }
  if (tailLines === 0) notices.push('tailLines 0 asks for no lines at all; leave it out or pass a positive number to see log lines.');

  if (query.file !== undefined) {
    if (tailLines === undefined) {
      // The answer's scope line says this (defaultsApplied), once.
      tailLines = defaultTail;
      defaultsApplied.push('tailLines');
    }
    const optionsGiven = [query.pattern !== undefined && 'pattern', query.since && 'sinceTime', query.until && 'untilTime']
      .filter(Boolean)
      .join(', ');
    if (optionsGiven) {
      // It reads back from the end until it has tailLines matching lines (or hits --max-file-bytes).
      notices.push(`File query: ${optionsGiven} ${optionsGiven.includes(',') ? 'are' : 'is'} applied by this server (the kubelet accepts no options with a file), keeping the last ${tailLines} matching lines.`);
    }
    const effective: EffectiveQuery = {
      file: query.file,
      tailLines,
      ...(query.pattern !== undefined && { pattern: query.pattern }),
      ...(query.since && { sinceTime: query.since.utc }),
      ...(query.until && { untilTime: query.until.utc }),
      defaultsApplied,
    };
    return {
      ok: true,
      plan: {
        kind: 'file',
        file: query.file,
        path: filePathFor(node, query.file),
        tail: {
          lines: tailLines,
          initialBytes: Math.max(1, Math.min(limits.fileTailBytes, limits.maxFileBytes)),
          maxBytes: Math.max(1, limits.maxFileBytes),
        },
        localFilter: {
          ...(query.pattern !== undefined && { pattern: query.pattern }),
          ...(query.since && { sinceMs: query.since.ms }),
          ...(query.until && { untilMs: query.until.ms }),
        },
        effective,
        notices,
      },
    };
  }

  let sinceTime = query.since?.utc;
  const untilTime = query.until?.utc;
  // Defaults avoid pairing a window with tailLines: journalctl before systemd 254 answers
  // `--since … --lines=N` with the FIRST N entries of the window, and `--until … --lines=N` with nothing.
  if (tailLines === undefined && !query.since && !query.until) {
    // The answer's scope line says this (defaultsApplied), once: "Read the last 2,000 lines of the current boot (the default tail; …)".
    tailLines = defaultTail;
    defaultsApplied.push('tailLines');
  } else if (tailLines === undefined && !query.since && query.until) {
    const sinceMs = query.until.ms - limits.defaultWindowMs;
    sinceTime = utcSeconds(Math.floor(sinceMs / 1000));
    defaultsApplied.push('sinceTime');
    notices.push(`Only untilTime given: reading the ${describeMs(limits.defaultWindowMs)} before it (sinceTime ${sinceTime}). Pass sinceTime to choose the start.`);
  }
  if (query.since) {
    const endMs = query.until ? query.until.ms : nowMs;
    if (endMs - query.since.ms > limits.maxWindowMs) {
      // Whole seconds, rounded up, so the window never exceeds the limit.
      const clampedSeconds = Math.ceil((endMs - limits.maxWindowMs) / 1000);
      sinceTime = utcSeconds(clampedSeconds);
      notices.push(`The window from ${query.since.utc} to ${query.until ? query.until.utc : 'now'} is wider than this server's limit of ${describeMs(limits.maxWindowMs)}; sinceTime was moved forward to ${sinceTime}. Query the earlier part separately if you need it.`);
    }
  }

  if (query.pattern !== undefined) {
    if (ctx.os === 'windows') {
      notices.push('On Windows nodes the pattern is matched case-insensitively against the event message (PowerShell -Match).');
      if (tailLines !== undefined)
        notices.push(`On Windows nodes tailLines takes the newest ${tailLines} events before the pattern is applied (Get-WinEvent -MaxEvents), so fewer may match; raise tailLines or use sinceTime to look further back.`);
    } else if (isSmartCaseInsensitive(query.pattern) && smartCaseCouldSurprise(query.pattern)) {
      notices.push('The pattern has no uppercase letters, so journalctl matches it case-insensitively; add an uppercase letter to make it case-sensitive.');
    }
  }

  const params = new URLSearchParams();
  for (const s of query.services) params.append('query', s);
  if (query.pattern !== undefined) params.append('pattern', query.pattern);
  if (sinceTime !== undefined) params.append('sinceTime', sinceTime);
  if (untilTime !== undefined) params.append('untilTime', untilTime);
  if (tailLines !== undefined) params.append('tailLines', String(tailLines));
  if (query.boot !== undefined) params.append('boot', String(query.boot));

  const effective: EffectiveQuery = {
    services: [...query.services],
    ...(sinceTime !== undefined && { sinceTime }),
    ...(untilTime !== undefined && { untilTime }),
    ...(tailLines !== undefined && { tailLines }),
    ...(query.pattern !== undefined && { pattern: query.pattern }),
    ...(query.boot !== undefined && { boot: query.boot }),
    defaultsApplied,
  };
  return {
    ok: true,
    plan: {
      kind: 'journal',
      services: [...query.services],
      params,
      path: `${logsPathPrefix(node)}?${encodeParams(params)}`,
      effective,
      notices,
    },
  };
}

function describeMs(ms: number): string {
  const units: [number, string][] = [[86400000, 'day'], [3600000, 'hour'], [60000, 'minute'], [1000, 'second']];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) {
      const n = ms / size;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

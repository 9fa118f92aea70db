/**
 * Turns a validated query into the exact request for the apiserver node proxy.
 * Never unbounded: a journal request always carries tailLines and/or a time
 * window; a file request carries nothing but `query` (the kubelet answers 406
 * to a file with options) and is tailed with HTTP Range and filtered locally.
 */
import { isSmartCaseInsensitive } from './go-regexp.js';
import { NODE_NAME_FIX, nodeApiPath, nodeNameProblem } from '../kube/node-name.js';
import { formatUtcSeconds, type Rfc3339Instant } from './rfc3339.js';
import { analyzeNodeLogQuery, KUBELET_MAX_TAIL_LINES } from './validate.js';
import type { EffectiveQuery, LogRequestPlan, NodeLogQueryInput, NodeOs, QueryLimits, ValidationIssue } from './types.js';

export function logsPathPrefix(node: string): string {
  return nodeApiPath(node, '/proxy/logs/');
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

/** The node name's problem as a validation issue (with the fix), or undefined for a valid name. */
export function checkNode(node: unknown): ValidationIssue | undefined {
  const problem = nodeNameProblem(node);
  return problem ? { field: 'node', message: problem, fix: NODE_NAME_FIX } : undefined;
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

/** Kubelets before v1.30 build journalctl's --until from sinceTime (fixed by PR #122693; not in the v1.29 backport). */
export function untilTimeBroken(kubeletVersion: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(kubeletVersion ?? '');
  return !!m && Number(m[1]) === 1 && Number(m[2]) < 30;
}

/**
 * The journal request as sent to one node: the kubelet formats sinceTime/untilTime in the offset the
 * client sent and journalctl reads that wall-clock time in the node's zone, so the times go out shifted
 * by the node's UTC offset (local = UTC + offset) to mean the instants asked for.
 */
export function journalPathFor(node: string, plan: Extract<LogRequestPlan, { kind: 'journal' }>, zoneOffsetMs = 0): string {
  const params = new URLSearchParams(plan.params);
  const { sinceMs, untilMs } = plan.wire;
  if (sinceMs !== undefined) params.set('sinceTime', utcSeconds(Math.floor((sinceMs + zoneOffsetMs) / 1000)));
  if (untilMs !== undefined) params.set('untilTime', utcSeconds(Math.ceil((untilMs + zoneOffsetMs) / 1000)));
  return `${logsPathPrefix(node)}?${encodeParams(params)}`;
}

export function planLogRequest(
  node: string,
  input: NodeLogQueryInput,
  /** format: summaries may scan deeper (limits.maxSummaryTailLines) than raw lines are shown. */
  ctx: { os: NodeOs; limits: QueryLimits; now: Date; kubeletVersion?: string; format?: 'summary' | 'lines' },
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
    if (tailLines === undefined && !query.file.endsWith('/')) {
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
    tailLines ??= defaultTail;
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

  let sinceMs = query.since?.ms;
  const untilMs = query.until?.ms;
  const windows = ctx.os === 'windows';
  const brokenUntil = !windows && query.until !== undefined && untilTimeBroken(ctx.kubeletVersion);
  if (tailLines === undefined && !query.since && !query.until) {
    // The answer's scope line says this (defaultsApplied), once: "Read the last 2,000 lines of the current boot (the default tail; …)".
    tailLines = defaultTail;
    defaultsApplied.push('tailLines');
  } else if (!query.since && query.until && (tailLines === undefined || brokenUntil)) {
    sinceMs = Math.floor((query.until.ms - limits.defaultWindowMs) / 1000) * 1000;
    defaultsApplied.push('sinceTime');
    notices.push(`Only untilTime given: reading the ${describeMs(limits.defaultWindowMs)} before it (sinceTime ${utcSeconds(sinceMs / 1000)}). Pass sinceTime to choose the start.`);
  }
  if (query.since) {
    const endMs = query.until ? query.until.ms : nowMs;
    if (endMs - query.since.ms > limits.maxWindowMs) {
      // Whole seconds, rounded up, so the window never exceeds the limit.
      const clampedSeconds = Math.ceil((endMs - limits.maxWindowMs) / 1000);
      sinceMs = clampedSeconds * 1000;
      notices.push(`The window from ${query.since.utc} to ${query.until ? query.until.utc : 'now'} is wider than this server's limit of ${describeMs(limits.maxWindowMs)}; sinceTime was moved forward to ${utcSeconds(clampedSeconds)}. Query the earlier part separately if you need it.`);
    }
  }
  const sinceTime = sinceMs === undefined ? undefined : sinceMs === query.since?.ms ? query.since.utc : utcSeconds(sinceMs / 1000);
  const untilTime = query.until?.utc;

  // journalctl before systemd 254 answers `--since … --lines=N` with the FIRST N entries of the window and
  // `--until … --lines=N` with nothing when its last N entries are later; with any --grep it returns the
  // last N matches inside the window, newest first. So a window with tailLines always carries a pattern.
  const windowed = sinceMs !== undefined || untilMs !== undefined;
  let wirePattern = query.pattern;
  let wireTail = tailLines;
  let localTail: number | undefined;
  if (brokenUntil) {
    // untilTime would become a copy of sinceTime: leave it (and with it the tail) to this server.
    if (tailLines !== undefined) {
      localTail = tailLines;
      wireTail = undefined;
    }
    notices.push(`The kubelet on this node is older than v1.30 and builds journalctl's --until from sinceTime, so untilTime was not sent: the node streamed everything from sinceTime on and this server cut it at ${query.until!.utc}${localTail !== undefined ? ` and kept the last ${localTail} lines` : ''}.`);
  } else if (!windows && windowed && tailLines !== undefined && wirePattern === undefined) {
    wirePattern = '^';
  }

  if (query.pattern !== undefined) {
    if (windows) {
      notices.push('On Windows nodes the pattern is matched case-insensitively against the event message (PowerShell -Match).');
      if (tailLines !== undefined)
        notices.push(`On Windows nodes tailLines takes the newest ${tailLines} events before the pattern is applied (Get-WinEvent -MaxEvents), so fewer may match; raise tailLines or use sinceTime to look further back.`);
    } else if (isSmartCaseInsensitive(query.pattern) && smartCaseCouldSurprise(query.pattern)) {
      notices.push('The pattern has no uppercase letters, so journalctl matches it case-insensitively; add an uppercase letter to make it case-sensitive.');
    }
  }
  if (windows && windowed)
    notices.push('Windows nodes read sinceTime/untilTime in the node\'s local time zone and print event times (TimeCreated) in it too, not in UTC: this server cannot convert them, so the window may be off by the node\'s UTC offset; check the node\'s zone before comparing times.');

  const wireSinceMs = sinceMs === undefined ? undefined : Math.floor(sinceMs / 1000) * 1000;
  // The kubelet drops fractions (and --until is exact to the second): round up on the wire, cut exactly here.
  const wireUntilMs = untilMs === undefined || brokenUntil ? undefined : Math.ceil(untilMs / 1000) * 1000;
  const params = new URLSearchParams();
  for (const s of query.services) params.append('query', s);
  if (wirePattern !== undefined) params.append('pattern', wirePattern);
  if (wireSinceMs !== undefined) params.append('sinceTime', utcSeconds(wireSinceMs / 1000));
  if (wireUntilMs !== undefined) params.append('untilTime', utcSeconds(wireUntilMs / 1000));
  if (wireTail !== undefined) params.append('tailLines', String(wireTail));
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
  const journalPlan: Extract<LogRequestPlan, { kind: 'journal' }> = {
    kind: 'journal',
    services: [...query.services],
    params,
    path: '',
    wire: {
      ...(wireSinceMs !== undefined && { sinceMs: wireSinceMs }),
      ...(wireUntilMs !== undefined && { untilMs: wireUntilMs }),
      ...(windowed && !windows && { window: { ...(sinceMs !== undefined && { sinceMs }), ...(untilMs !== undefined && { untilMs }) } }),
      newestFirst: wirePattern !== undefined && wireTail !== undefined && !windows,
      ...(localTail !== undefined && { localTail }),
    },
    effective,
    notices,
  };
  journalPlan.path = journalPathFor(node, journalPlan);
  return { ok: true, plan: journalPlan };
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

/**
 * One node's file answers: a /var/log file tailed with Range requests (or a rotated .gz decompressed from
 * the start), a directory answered with its listing, a missing file with its directory's, and the
 * kubelet's file heuristic for services that are not journald units.
 */
import { makeLocalLineFilter, makeLocalTailFilter, type FilterBudget } from '../query/local-filter.js';
import type { ServerConfig } from '../config.js';
import { filePathFor } from '../query/plan.js';
import type { LocalFilterSpec, LogRequestPlan } from '../query/types.js';
import { digestLines, type LogDigest } from '../logs/pipeline.js';
import { mergeDigests, type MergedDigest } from '../logs/merge.js';
import { parseLineTime } from '../logs/header.js';
import type { LogFailure } from '../kube/kubelet-answer.js';
import { readFileTail, type FileTailResult } from './read-file-tail.js';
import { isGzipName, readGzipTail } from './read-gzip-tail.js';
import { describeListing, dirSegments, listDirectory, parentDir } from './read-listing.js';
import { joinCriPartials, looksLikeCri } from './cri-lines.js';
import type { NodeQueryDeps, NodeQueryFailure, NodeQueryOutcome } from './query-node.js';

export async function queryFile(
  deps: NodeQueryDeps,
  node: string,
  plan: Extract<LogRequestPlan, { kind: 'file' }>,
  signal: AbortSignal,
  keepTail: number,
  outcome: (o: Partial<NodeQueryOutcome>) => NodeQueryOutcome,
): Promise<NodeQueryOutcome> {
  const spec = plan.localFilter;
  const hasFilter = spec.pattern !== undefined || spec.sinceMs !== undefined || spec.untilMs !== undefined;
  const timeoutMs = deps.config.requestTimeoutMs;
  const tail = isGzipName(plan.file)
    ? await readGzipDigest(deps, node, plan, signal, keepTail)
    : await readFileDigest(deps, node, plan.path, { ...plan.tail, spec, keepTail }, signal, nodeBudget(deps.config));
  if (!tail.ok) {
    if (tail.failure.kind === 'file-not-found') {
      // Say what is there instead, so the model can pick (rotated names, pods/, containers/).
      const dir = parentDir(plan.file);
      const listing = await listDirectory(deps.kube, node, dir, signal, timeoutMs).catch(() => undefined);
      const message = `${plan.file} does not exist on ${node} (paths are relative to /var/log). ${listing ? describeListing(dir, listing) : `Its directory /var/log${dir} does not exist either.`} Pick one of those${dir === '/' ? '' : ', or list another directory (e.g. "/")'}; container logs are under "/pods/" and "/containers/".`;
      return outcome({ failure: { kind: 'file-not-found', message } });
    }
    return outcome({ failure: { kind: tail.failure.kind, message: tail.failure.message } });
  }
  if (!tail.read) {
    // A directory: the kubelet redirected to "dir/" or answered with its listing. Show the names.
    const dir = plan.file.endsWith('/') ? plan.file : `${plan.file}/`;
    const listing = await listDirectory(deps.kube, node, dir, signal, timeoutMs).catch(() => undefined);
    if (!listing) return outcome({ failure: { kind: 'file-not-found', message: `${plan.file} is a directory on ${node}, not a log file, and its listing could not be read. Name a file inside it.` } });
    const shown = `/${dirSegments(dir).join('/')}${dirSegments(dir).length ? '/' : ''}`;
    return outcome({
      ok: true,
      digest: digestLines([], { keepTail }),
      notices: [
        `${plan.file} is a directory on ${node}, not a log file. ${describeListing(shown, listing)} Query a file inside it (e.g. "${shown}${listing.names.find((n) => !n.endsWith('/')) ?? listing.names[0] ?? ''}"), or a subdirectory ending in "/" to list it.${/^\/?(pods|containers)\b/.test(shown.slice(1)) ? ' Container logs are CRI lines (time, stdout/stderr, text); pods/<namespace>_<pod>_<uid>/<container>/0.log is the current one.' : ''}`,
      ],
    });
  }
  const { result: r, digest } = tail.read;
  const notices: string[] = [];
  if (isGzipName(plan.file)) {
    notices.push(`${plan.file} is a gzip-compressed rotated log: this server decompressed it while reading it from the start${r.byteCapHit ? '' : ` and kept the last ${r.lines.length} lines${hasFilter ? ' that matched' : ''}`}.`);
    if (r.byteCapHit) notices.push(`Stopped after ${r.bytesRead} compressed bytes (--max-file-bytes): the lines shown are the last read before that point, not the end of the file.`);
  } else {
    if (!r.rangeHonoured) notices.push(`The node did not honour the HTTP Range request: only the first ${r.bytesRead} bytes of the file were read.`);
    if (r.byteCapHit)
      notices.push(`Read the last ${r.bytesRead} bytes of the file (the cap, --max-file-bytes) and found ${r.lines.length} matching lines, fewer than the ${plan.tail.lines} asked for; older parts of the file were not read.`);
  }
  if (r.filterCut) notices.push(filterCutNotice(deps.config, `${plan.file} on ${node}`, r));
  if (r.lines.length === 0) notices.push(`No lines of ${plan.file} on ${node} matched${hasFilter ? ' the pattern/time window' : ' (the file is empty)'}${r.filterCut ? ' in the part searched' : ''}.`);
  return outcome({
    ok: true,
    digest,
    notices,
    byteCapHit: r.byteCapHit,
    file: { bytesRead: r.bytesRead, fileSize: r.fileSize, reachedStart: r.reachedStart, rangeHonoured: r.rangeHonoured },
  });
}

async function readGzipDigest(
  deps: NodeQueryDeps,
  node: string,
  plan: Extract<LogRequestPlan, { kind: 'file' }>,
  signal: AbortSignal,
  keepTail: number,
): Promise<{ ok: true; read?: { result: FileTailResult; digest: LogDigest } } | { ok: false; failure: { kind: NodeQueryFailure['kind']; message: string } }> {
  const spec = plan.localFilter;
  const hasFilter = spec.pattern !== undefined || spec.sinceMs !== undefined || spec.untilMs !== undefined;
  const gz = await readGzipTail(deps.kube, {
    node,
    path: plan.path,
    lines: plan.tail.lines,
    maxBytes: plan.tail.maxBytes,
    makeFilter: hasFilter ? () => makeLocalLineFilter(spec, (l) => parseLineTime(l)) : undefined,
    timeoutMs: deps.config.requestTimeoutMs,
    signal,
    budget: { remaining: deps.config.maxBytesPerNode },
  });
  if (!gz.ok) return gz;
  if (!gz.result) return { ok: true };
  return { ok: true, read: { result: gz.result, digest: digestKept(gz.result, keepTail) } };
}

/** The digest of the lines a local tail kept (container logs joined into records first). */
function digestKept(result: FileTailResult, keepTail: number): LogDigest {
  const lines = looksLikeCri(result.lines) ? joinCriPartials(result.lines) : result.lines;
  const digest = digestLines(lines, { keepTail });
  // The digest saw only the kept lines; report what was actually scanned on the node's file.
  digest.bytesRead = result.bytesRead;
  digest.linesFilteredOut = result.linesFilteredOut;
  return digest;
}

/** What one node may spend in one call on local file reads: bytes, and time matching the pattern. */
interface NodeBudget {
  remaining: number;
  filter: FilterBudget;
}

/**
 * Pattern matching in this process may take half the call's deadline per node; past it the search stops
 * (newest lines were searched first) and the answer says so, rather than the whole call timing out.
 */
function nodeBudget(config: ServerConfig): NodeBudget {
  return { remaining: config.maxBytesPerNode, filter: { deadline: Date.now() + config.callTimeoutMs / 2 } };
}

function filterCutNotice(config: ServerConfig, what: string, r: FileTailResult): string {
  return `The pattern is costly to run here: matching on ${what} stopped after ${Number((config.callTimeoutMs / 2000).toFixed(1))} s (half of --call-timeout) with ${r.lines.length} matching lines found among the newest ${r.linesFilteredOut + r.lines.length} of ${r.linesScanned} lines read; older lines were not searched. Simplify the pattern (fewer ".*", a distinctive literal word) or narrow the time window.`;
}

/** Tails one /var/log file with Range requests and local filters, and digests the lines kept. */
async function readFileDigest(
  deps: NodeQueryDeps,
  node: string,
  /** API path of the file (filePathFor). */
  path: string,
  want: { lines: number; initialBytes: number; maxBytes: number; spec: LocalFilterSpec; keepTail: number },
  signal: AbortSignal,
  budget: NodeBudget,
): Promise<{ ok: true; read?: { result: FileTailResult; digest: LogDigest } } | { ok: false; failure: LogFailure }> {
  const { spec } = want;
  const hasFilter = spec.pattern !== undefined || spec.sinceMs !== undefined || spec.untilMs !== undefined;
  const tail = await readFileTail(deps.kube, {
    node,
    path,
    lines: want.lines,
    initialBytes: want.initialBytes,
    maxBytes: want.maxBytes,
    filter: hasFilter ? makeLocalTailFilter(spec, (l) => parseLineTime(l), { signal, budget: budget.filter }) : undefined,
    timeOf: (l) => parseLineTime(l),
    sinceMs: spec.sinceMs,
    timeoutMs: deps.config.requestTimeoutMs,
    signal,
    budget,
  });
  if (!tail.ok) return tail;
  if (!tail.result) return { ok: true };
  return { ok: true, read: { result: tail.result, digest: digestKept(tail.result, want.keepTail) } };
}

/** The kubelet's file heuristic for a service, in its order: /var/log/svc, svc.log, svc/svc.log. */
export function fileLoggerCandidates(service: string): string[] {
  return [`/${service}`, `/${service}.log`, `/${service}/${service}.log`];
}

export async function fileLoggerFallback(
  deps: NodeQueryDeps,
  node: string,
  plan: Extract<LogRequestPlan, { kind: 'journal' }>,
  services: string[],
  signal: AbortSignal,
  keepTail: number,
): Promise<{ parts: { service: string; file: string; digest: LogDigest }[]; notices: string[]; byteCapHit: boolean }> {
  const e = plan.effective;
  const spec = {
    pattern: e.pattern,
    sinceMs: e.sinceTime ? Date.parse(e.sinceTime) : undefined,
    untilMs: e.untilTime ? Date.parse(e.untilTime) : undefined,
  };
  const parts: { service: string; file: string; digest: LogDigest }[] = [];
  const notices: string[] = [];
  let byteCapHit = false;
  // One node, one byte and filter-time budget, however many candidate files and growth steps it takes.
  const budget = nodeBudget(deps.config);
  const want = { lines: e.tailLines ?? deps.config.defaultTailLines, initialBytes: deps.config.fileTailBytes, maxBytes: deps.config.maxFileBytes, spec, keepTail };
  for (const service of services) {
    for (const file of fileLoggerCandidates(service)) {
      const tail = await readFileDigest(deps, node, filePathFor(node, file), want, signal, budget);
      if (!tail.ok || !tail.read) continue; // missing, or a directory: the kubelet skips those too
      if (tail.read.result.byteCapHit) {
        byteCapHit = true;
        notices.push(`Read the last ${tail.read.result.bytesRead} bytes of /var/log${file} (--max-file-bytes); older lines were not read.`);
      }
      if (tail.read.result.filterCut) notices.push(filterCutNotice(deps.config, `/var/log${file}`, tail.read.result));
      parts.push({ service, file, digest: tail.read.digest });
      break;
    }
  }
  return { parts, notices, byteCapHit };
}

/** The digests of a file-logger's files as one (a single file's digest as it is). */
export function mergeSources(parts: { service: string; file: string; digest: LogDigest }[]): LogDigest | MergedDigest {
  if (parts.length === 1) return parts[0]!.digest;
  return mergeDigests(parts.map((p) => ({ node: p.file, digest: p.digest })));
}

/**
 * One node's run of a planned request: journal answers (zone-measured window, local cut, time order,
 * in-band messages, unit state, the file fallbacks) here; file answers in query-file.ts.
 */
import type { ServerConfig } from '../config.js';
import type { KubeClient } from '../kube/client.js';
import { classifyLogAnswer, type LogFailure } from '../kube/kubelet-answer.js';
import { classifyInbandLine, classifyWindowsInbandLine, type InbandKind } from '../logs/inband.js';
import { KubeError, untrustedExcerpt } from '../kube/errors.js';
import type { KubeResponse } from '../kube/transport.js';
import type { NodeScheduler } from '../limits/scheduler.js';
import type { Metrics } from '../metrics.js';
import { digestLogStream, type LogDigest } from '../logs/pipeline.js';
import { parseLineTime } from '../logs/header.js';
import { makeLocalLineFilter } from '../query/local-filter.js';
import { filePathFor, journalPathFor } from '../query/plan.js';
import { formatOffset, nodeZone } from './node-zone.js';
import { compileLocalPattern, localPatternProblem } from '../query/go-regexp.js';
import { KUBELET_MAX_TAIL_LINES } from '../query/validate.js';
import type { LogRequestPlan } from '../query/types.js';
import { fileLoggerCandidates, fileLoggerFallback, mergeSources, queryFile } from './query-file.js';
import { promoteUnitState, restartFact } from './unit-state.js';
import { joinWrappedRows } from './windows-table.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MergedDigest } from '../logs/merge.js';

export interface NodeQueryDeps {
  kube: KubeClient;
  scheduler: NodeScheduler;
  config: ServerConfig;
  metrics?: Metrics;
}

export interface NodeQueryFailure {
  kind: LogFailure['kind'] | 'not-gzip' | 'unknown-service' | 'options-with-file-logger' | 'bad-boot' | 'journal-unavailable' | 'timeout' | 'busy' | 'limits-unavailable' | 'cancelled' | 'connection';
  message: string;
}

export interface NodeQueryOutcome {
  node: string;
  ok: boolean;
  failure?: NodeQueryFailure;
  /** One node's digest; several files of one node (file-backed services) come as a merged digest. */
  digest?: LogDigest | MergedDigest;
  /** Server-made notes about this node's answer (truncation, unknown services, …). */
  notices: string[];
  /** The stream ran as long as the kubelet's deadline: the kubelet may have cut it. */
  possiblyTruncated: boolean;
  byteCapHit: boolean;
  elapsedMs: number;
  /** File queries: how the tail was read. */
  file?: { bytesRead: number; fileSize?: number; reachedStart: boolean; rangeHonoured: boolean };
}

const DEADLINE_SLACK = 0.95;
/** Re-asks after the redaction re-check dropped lines from a tail (see readJournalAnswer). */
const MAX_REFILLS = 4;
const MAX_REORDER_LINES = 20_000;

/** Newest-first answers (grep + tail) are reversed so the tail reads oldest → newest like every other. */
function putTailInTimeOrder(digest: LogDigest, keep: number): void {
  const t = digest.tail;
  const ids = digest.tailTemplates;
  if (t.length >= 2) {
    const first = parseLineTime(t[0]!);
    const last = parseLineTime(t[t.length - 1]!);
    if (first !== undefined && last !== undefined && first > last) {
      t.reverse();
      ids?.reverse();
    }
  }
  if (t.length > keep) {
    ids?.splice(0, t.length - keep);
    t.splice(0, t.length - keep);
  }
}

/** Remembers whether a byte stream ended on a newline (a stream cut by a deadline usually does not). */
function trackEnd(body: AsyncIterable<Buffer>, state: { lastByte: number; bytes: number }): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const chunk of body) {
        if (chunk.length) {
          state.lastByte = chunk[chunk.length - 1]!;
          state.bytes += chunk.length;
        }
        yield chunk;
      }
    },
  };
}

/**
 * The node matched the raw lines; this re-checks one that redaction changed. A pattern that cannot run here
 * (Unicode classes, too many repetitions) cannot re-check: every such line is left out, whatever it holds,
 * so the answer is the same whether or not the pattern matched inside a secret.
 */
function recheckOf(pattern: string | undefined): { test: (line: string) => boolean; problem?: string } | undefined {
  if (pattern === undefined || pattern === '') return undefined;
  try {
    const re = compileLocalPattern(pattern);
    return { test: (line) => re.test(line) };
  } catch (err) {
    return { test: () => false, problem: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs one planned request against one node, under the limits, and digests the answer. */
export async function queryNode(deps: NodeQueryDeps, node: string, plan: LogRequestPlan, opts: { signal: AbortSignal; keepTail: number; os?: string }): Promise<NodeQueryOutcome> {
  const started = Date.now();
  const outcome = (o: Partial<NodeQueryOutcome>): NodeQueryOutcome => ({
    node,
    ok: false,
    notices: [],
    possiblyTruncated: false,
    byteCapHit: false,
    elapsedMs: Date.now() - started,
    ...o,
  });
  let result: NodeQueryOutcome;
  try {
    result = await deps.scheduler.run(node, opts.signal, async (signal, holdNode) => {
      if (plan.kind === 'file') return queryFile(deps, node, plan, signal, opts.keepTail, outcome);
      const windows = opts.os === 'windows';
      // Kernel messages have no unit: say where they are on this node instead of "unknown service".
      const kernel = windows ? [] : plan.services.filter(isKernelName);
      if (!kernel.length) return queryJournal(deps, node, plan, signal, opts.keepTail, Date.now(), outcome, windows, holdNode);
      const hint = await kernelFileHint(deps, node, kernel, signal);
      if (kernel.length === plan.services.length) return outcome({ failure: { kind: 'unknown-service', message: hint } });
      const r = await queryJournal(deps, node, plan, signal, opts.keepTail, Date.now(), outcome, windows, holdNode, new Set(kernel));
      return { ...r, notices: [hint, ...r.notices] };
    });
  } catch (err) {
    result = outcome({ failure: deadlineFailure(err, opts.signal, deps.config, Date.now() - started) ?? failureFromError(err, deps.config) });
  }
  const m = deps.metrics;
  if (m) {
    const kind = plan.kind;
    if (result.failure?.kind === 'busy') m.rejectedCalls.inc({ reason: 'busy' });
    else if (result.failure?.kind === 'limits-unavailable') m.rejectedCalls.inc({ reason: 'limit-store-down' });
    else if (result.failure?.kind === 'rate-limited') m.rejectedCalls.inc({ reason: 'rate-limited' });
    m.kubeletRequestSeconds.observe({ kind, outcome: result.ok ? 'ok' : result.failure?.kind ?? 'error' }, result.elapsedMs / 1000);
    m.kubeletBytes.inc({ kind }, result.digest?.bytesRead ?? 0);
    m.linesScanned.inc(result.digest?.linesScanned ?? 0);
  }
  return result;
}

async function queryJournal(
  deps: NodeQueryDeps,
  node: string,
  plan: Extract<LogRequestPlan, { kind: 'journal' }>,
  signal: AbortSignal,
  keepTail: number,
  /** When the request was sent (after any queueing): the kubelet's deadline counts from here. */
  startedAt: number,
  outcome: (o: Partial<NodeQueryOutcome>) => NodeQueryOutcome,
  windows = false,
  /** Keeps the node's slot until the node is done with a request we stopped reading (see below). */
  holdNode: (until: Promise<unknown>) => void = () => undefined,
  /** Services already explained elsewhere (kernel names): no unknown-service notice or file fallback for them. */
  explained: ReadonlySet<string> = new Set(),
): Promise<NodeQueryOutcome> {
  let started = startedAt;
  const { config, kube } = deps;
  const notices: string[] = [];
  const { wire } = plan;
  let path = plan.path;
  /** Said only with journal lines: a file-backed service has no journal entries to measure with. */
  let zoneUnknown: string | undefined;
  if (wire.window && !windows && plan.services.length > 0) {
    // journalctl reads the window in the node's zone: send it in node time, cut it exactly on --utc times.
    const zone = await nodeZone(kube, node, plan.services[0]!, signal, config.requestTimeoutMs);
    if (zone.offsetMs !== 0) {
      path = journalPathFor(node, plan, zone.offsetMs);
      notices.push(`${node} runs in ${formatOffset(zone.offsetMs)}, and journalctl reads sinceTime/untilTime in the node's zone: the window was sent in node time so that it covers exactly the UTC times asked for (line times are UTC).`);
    } else if (!zone.known) {
      zoneUnknown = `Could not measure ${node}'s time zone (no ${plan.services[0]} entries in the current boot); assumed UTC. journalctl reads sinceTime/untilTime in the node's zone, so on a node not in UTC the window may be shifted.`;
    }
  }
  started = Date.now();
  // Cancelling or cutting the request does not stop journalctl on the node: the kubelet kills it only at its
  // own deadline. Until then the node's slot stays taken, so a burst of cancellations cannot stack processes.
  // (A request that never reached the kubelet, e.g. a refused connection, leaves nothing running.)
  let endedByItself = false;
  const sentAt = started;
  try {
    const res = await kube.proxyGet(path, { signal, timeoutMs: config.requestTimeoutMs });
    return await readJournalAnswer(res);
  } catch (err) {
    if (!signal.aborted && !(err instanceof KubeError && err.kind === 'timeout')) endedByItself = true;
    throw err;
  } finally {
    const left = sentAt + config.kubeletDeadlineMs - Date.now();
    if (!endedByItself && left > 0) holdNode(sleep(left, undefined, { ref: false }));
  }

  async function readJournalAnswer(first: KubeResponse): Promise<NodeQueryOutcome> {
    const eff = plan.effective;
    // journalctl --grep with --lines reads backwards and prints newest first: keep every line it sends so
    // the most recent ones can be put back in time order below. A tail kept here keeps its own lines.
    const wanted = wire.localTail ?? (wire.newestFirst ? eff.tailLines : undefined);
    const recheck = recheckOf(eff.pattern);
    let res = first;
    let asked = eff.tailLines;
    let budget = config.maxBytesPerNode;
    let end = { lastByte: 10, bytes: 0 };
    let digest: LogDigest;
    for (let attempt = 0; ; attempt++) {
      const answer = await classifyLogAnswer(res, { node, isFile: false });
      if (!answer.ok) {
        endedByItself = true; // an error status: nothing runs on the node
        return outcome({ failure: { kind: answer.failure.kind, message: answer.failure.message } });
      }
      end = { lastByte: 10, bytes: 0 };
      const cut = wire.window ? makeLocalLineFilter({ sinceMs: wire.window.sinceMs, untilMs: wire.window.untilMs }, (l) => parseLineTime(l)) : undefined;
      // Windows: -Wrap continuation lines rejoin their event, and each row names its provider.
      const body = trackEnd(answer.body, end);
      let dropped = 0;
      const current = res;
      digest = await digestLogStream(windows ? joinWrappedRows(body) : body, {
        maxBytes: budget,
        keepTail: wanted !== undefined ? Math.max(keepTail, Math.min(wanted, MAX_REORDER_LINES)) : keepTail,
        classifyInband: windows ? classifyWindowsInbandLine : classifyInbandLine,
        ...(cut && { lineFilter: cut }),
        // A line the node matched only inside what redaction hid is dropped and counted nowhere.
        ...(recheck && {
          recheckRedacted: (line: string) => {
            if (recheck.test(line)) return true;
            dropped++;
            return false;
          },
        }),
        signal,
      }).finally(() => current.abort());
      budget -= end.bytes;
      // Lines dropped by the re-check must not shorten a tail (a right guess would then show fewer lines than
      // a wrong one): ask again for as many more as were dropped, until the tail is full or the journal has no
      // more matches. Tails are nested (newest N ⊂ newest N+d), so this ends with the lines a wrong guess gets.
      const raw = digest.linesScanned + dropped;
      if (dropped === 0 || asked === undefined || eff.tailLines === undefined || digest.linesScanned >= eff.tailLines || raw < asked) break;
      if (attempt >= MAX_REFILLS || budget <= 0 || asked >= KUBELET_MAX_TAIL_LINES) break;
      asked = Math.min(KUBELET_MAX_TAIL_LINES, eff.tailLines + dropped);
      const refill = path.replace(/([?&]tailLines=)\d+/, `$1${asked}`);
      if (refill === path) break;
      started = Date.now();
      res = await kube.proxyGet(refill, { signal, timeoutMs: config.requestTimeoutMs });
    }
    // journalctl says "-- No entries --" only when its raw grep matched nothing: with lines dropped by the
    // re-check, that message would tell a right guess from a wrong one. The counts speak for both instead.
    if (recheck) digest.inband = digest.inband.filter((i) => i.kind !== 'no-entries');
    if (recheck?.problem)
      notices.push(`Lines in which something was redacted are left out of this answer: the pattern cannot be re-checked on redacted text here (${recheck.problem}), and a pattern must not reveal what redaction hid. Simplify the pattern to see them.`);
    const elapsedMs = Date.now() - started;
    endedByItself = !digest.byteCapHit;
    putTailInTimeOrder(digest, wire.localTail !== undefined ? Math.min(keepTail, wire.localTail) : keepTail);
    if (windows) {
      // Event times are the node's local time in an unknown zone: never let them pass for UTC instants.
      digest.firstTime = undefined;
      digest.lastTime = undefined;
      for (const t of digest.templates) t.firstTime = t.lastTime = undefined;
    } else {
      promoteUnitState(digest);
      const restarts = restartFact(digest, plan.services, node);
      if (restarts) notices.push(restarts);
    }
    const kinds = new Map<InbandKind, string[]>();
    for (const { kind, line } of digest.inband) {
      const list = kinds.get(kind as InbandKind) ?? [];
      list.push(line);
      kinds.set(kind as InbandKind, list);
    }
    const logLines = digest.linesScanned;
    const possiblyTruncated =
      !digest.byteCapHit && (elapsedMs >= config.kubeletDeadlineMs * DEADLINE_SLACK || (end.bytes > 0 && end.lastByte !== 10));
    if (digest.byteCapHit)
      notices.push(`Stopped reading ${node} after ${digest.bytesRead} bytes (the per-node cap, --max-bytes-per-node); older lines in the answer were not read. Narrow with sinceTime/untilTime, tailLines or pattern.`);
    if (possiblyTruncated)
      notices.push(`The answer from ${node} took ${(elapsedMs / 1000).toFixed(1)} s, about the kubelet's ${config.kubeletDeadlineMs / 1000} s limit, or ended mid-line: the kubelet may have cut it short (possibly truncated). Narrow the time window or add tailLines/pattern.`);

    const notFound = (kinds.get('log-not-found') ?? []).map((l) => l.replace(/^log not found for /, ''));
    const fileLogger = kinds.get('options-with-file-logger') ?? [];
    const journalErrors = kinds.get('journalctl-error') ?? [];
    const journalUnavailable = kinds.has('journal-unavailable');
    const fileErrors = kinds.get('file-read-error') ?? [];
    if (fileErrors.length) notices.push(`The kubelet could not finish reading a service's log file (kubelet said: ${fileErrors.map((l) => JSON.stringify(sanitizeShort(l))).join('; ')}): the answer may be incomplete.`);

    const services = plan.services.filter((s) => !explained.has(s));
    const unknown = services.filter((s) => notFound.includes(s));
    if (unknown.length)
      notices.push(
        `Unknown service${unknown.length > 1 ? 's' : ''} on ${node}: ${unknown.map((s) => JSON.stringify(s)).join(', ')} — not a journald unit there, and no /var/log/${unknown[0]}, /var/log/${unknown[0]}.log or /var/log/${unknown[0]}/${unknown[0]}.log file. Check the unit name (e.g. "kubelet", "containerd") or query a file path.`,
      );
    const fileLoggerNames = (/\[(.*)\]/.exec(fileLogger[0] ?? '')?.[1] ?? '').split(' ').filter((n) => n && !explained.has(n));
    if (fileLoggerNames.length && logLines > 0) {
      const names = fileLoggerNames.join(' ');
      notices.push(
        windows
          ? `On ${node}, ${sanitizeShort(names)} is not an event-log provider: the kubelet serves it from a file under C:\\var\\log and refuses options for it. On Windows the kubelet and containerd usually log to files: query the file path (e.g. "/${sanitizeShort(names.split(' ')[0] ?? '')}/${sanitizeShort(names.split(' ')[0] ?? '')}.log"; list "/" to see what exists), which this server tails and filters itself.`
          : `On ${node}, ${sanitizeShort(names)} is not a journald unit: the kubelet serves it from a /var/log file and refuses options (tailLines, sinceTime, untilTime, pattern, boot) for it. Query that service alone without options, or query its file path (e.g. "/${sanitizeShort(names.split(' ')[0] ?? '')}.log"), which this server tails and filters itself.`,
      );
    }
    if (journalErrors.length && logLines === 0) {
      const boot = plan.effective.boot;
      return outcome({
        digest,
        elapsedMs,
        failure: {
          kind: 'bad-boot',
          message:
            boot !== undefined && boot !== 0
              ? `journalctl on ${node} has no boot ${boot}: ${sanitizeShort(journalErrors[0]!)}. boot 0 is the current boot; earlier boots (-1, -2, …) exist only when journald keeps a persistent journal on the node.`
              : `journalctl on ${node} failed: ${sanitizeShort(journalErrors[0]!)}.`,
        },
      });
    }
    if (journalUnavailable && logLines === 0)
      return outcome({
        digest,
        elapsedMs,
        failure: {
          kind: 'journal-unavailable',
          message: windows
            ? `The kubelet on ${node} could not run its PowerShell event-log query ("error: journal output not available"). Query the component's file under C:\\var\\log instead (e.g. "/kubelet/kubelet.log"; list "/" to see what exists).`
            : `The kubelet on ${node} could not run journalctl ("error: journal output not available"). The node may not use systemd-journald; query files under /var/log instead (e.g. "/syslog").`,
        },
      });
    const psErrors = kinds.get('powershell-error') ?? [];
    if (windows && psErrors.length)
      notices.push(`PowerShell on ${node} reported an error with the event-log query (an in-band message, not a log line): ${psErrors.map((l) => JSON.stringify(sanitizeShort(l))).join('; ')}.`);
    if (windows && logLines === 0 && kinds.has('windows-no-events') && !possiblyTruncated) {
      notices.push(
        `No events on ${node} matched (Get-WinEvent: "No events were found that match the specified selection criteria"). On Windows nodes the kubelet and containerd usually log to files under C:\\var\\log rather than to an event-log provider: query "/kubelet/kubelet.log" or "/containerd/containerd.log", or list "/" to see the files.`,
      );
      return outcome({ ok: true, digest, notices, possiblyTruncated, byteCapHit: digest.byteCapHit, elapsedMs });
    }
    if (logLines === 0 && unknown.length === services.length && services.length > 0)
      return outcome({ digest, elapsedMs, notices, failure: { kind: 'unknown-service', message: notices.find((n) => n.startsWith('Unknown service')) ?? 'Unknown service.' } });
    if (logLines === 0 && fileLoggerNames.length) {
      // Every service asked for is served from a file, and the kubelet refuses options for those. Do what the
      // kubelet's heuristic does, but with a real tail and our filters: look for the same three files.
      const names = fileLoggerNames;
      const unsafe = plan.effective.pattern !== undefined ? localPatternProblem(plan.effective.pattern) : undefined;
      if (unsafe)
        return outcome({
          digest,
          elapsedMs,
          failure: {
            kind: 'options-with-file-logger',
            message: `On ${node}, ${names.join(', ')} is not a journald unit, so its file must be filtered by this server, and this pattern cannot be run here: ${unsafe}. Simplify the pattern or leave it out.`,
          },
        });
      const found = await fileLoggerFallback(deps, node, plan, names, signal, keepTail);
      if (found.parts.length === 0)
        return outcome({
          digest,
          elapsedMs,
          failure: {
            kind: 'unknown-service',
            message: `Unknown service${names.length > 1 ? 's' : ''} on ${node}: ${names.map((n) => JSON.stringify(n)).join(', ')} — not a journald unit there, and none of /var/log/NAME, /var/log/NAME.log, /var/log/NAME/NAME.log exists. Check the unit name (e.g. "kubelet", "containerd") or query a file path.`,
          },
        });
      const missing = names.filter((n) => !found.parts.some((p) => p.service === n));
      const fileNotices = [
        windows
          ? `On ${node}, ${found.parts.map((p) => `${p.service} is not an event-log provider; read its file C:\\var\\log${p.file.replace(/\//g, '\\')}`).join('; ')} (tailed and filtered by this server, as the kubelet refuses options for file-backed services; on Windows the kubelet and containerd usually log to files). Line times in these files are the node's local time.`
          : `On ${node}, ${found.parts.map((p) => `${p.service} is not a journald unit; read its file /var/log${p.file}`).join('; ')} (tailed and filtered by this server, as the kubelet refuses options for file-backed services).`,
        ...(missing.length
          ? [`Unknown service${missing.length > 1 ? 's' : ''} on ${node}: ${missing.map((n) => JSON.stringify(n)).join(', ')} — no journald unit and no /var/log file of that name.`]
          : []),
        ...(plan.effective.tailLines === undefined ? [`The file${found.parts.length > 1 ? 's were' : ' was'} read for at most the last ${deps.config.defaultTailLines} matching lines (--default-tail-lines).`] : []),
        ...found.notices,
      ];
      const merged = mergeSources(found.parts);
      return outcome({ ok: true, digest: merged, notices: fileNotices, byteCapHit: found.byteCapHit, elapsedMs: Date.now() - started });
    }
    // With a pattern, journalctl's "-- No entries --" was dropped above (it would tell a right guess of a
    // redacted value from a wrong one), so any empty answer stands for it.
    if (logLines === 0 && (kinds.has('no-entries') || recheck !== undefined) && !windows && !possiblyTruncated) {
      // The kubelet's native test is a substring one: "syslog" counts as a unit beside rsyslog.service and
      // "proxy" beside kube-proxy.service, and journalctl --unit=syslog has nothing. The file may be there.
      const asked = eff.sinceTime !== undefined || eff.untilTime !== undefined || eff.pattern !== undefined;
      const candidates = services.map((svc) => fileLoggerCandidates(svc).map((f) => JSON.stringify(f)).join(' or ')).join('; ');
      if (!asked && services.length) {
        const found = await fileLoggerFallback(deps, node, plan, services, signal, keepTail);
        if (found.parts.length > 0) {
          const merged = mergeSources(found.parts);
          return outcome({
            ok: true,
            digest: merged,
            notices: [
              `journalctl on ${node} had no entries for ${plan.services.map((x) => `--unit=${x}`).join(' ')}: the kubelet took ${found.parts.map((p) => JSON.stringify(p.service)).join(', ')} for a journald unit because its check is a substring match (e.g. "syslog" inside "rsyslog.service"). Read the file /var/log${found.parts.map((p) => p.file).join(', /var/log')} instead (tailed by this server); query it as a file next time.`,
              ...found.notices,
            ],
            byteCapHit: found.byteCapHit,
            elapsedMs: Date.now() - started,
          });
        }
      } else {
        notices.push(
          `If ${plan.services.map((x) => JSON.stringify(x)).join(', ')} is not really a systemd unit on ${node} (the kubelet's unit check is a substring match, so "syslog" passes beside rsyslog.service), its log may be a file: query ${candidates} as a file (this server applies pattern and window to files).`,
        );
      }
    }
    if (logLines === 0 && !possiblyTruncated) notices.push(`No log entries on ${node} matched${kinds.has('no-entries') ? ' (journalctl: "-- No entries --")' : ''}.`);
    if (zoneUnknown && logLines > 0) notices.push(zoneUnknown);
    if (windows && logLines > 0 && eff.sinceTime === undefined && eff.untilTime === undefined)
      notices.push(`Event times from ${node} (TimeCreated) are the node's local time, not UTC: PowerShell prints them in the node's zone, which this server cannot see.`);
    return outcome({ ok: true, digest, notices, possiblyTruncated, byteCapHit: digest.byteCapHit, elapsedMs });
  }
}

function sanitizeShort(s: string): string {
  // Kubelet in-band text lands in notices, outside the untrusted block.
  return untrustedExcerpt(s, 160);
}

/**
 * The call's own deadline (--call-timeout) fired, not the client: say so, and whether the node was never
 * asked because the time ran out in the queue.
 */
function deadlineFailure(err: unknown, signal: AbortSignal, config: ServerConfig, waitedMs: number): NodeQueryFailure | undefined {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  if (!(reason instanceof Error) || reason.name !== 'TimeoutError') return undefined;
  const queued = (err as { whileQueued?: boolean })?.whileQueued === true;
  const limit = `the call's overall deadline of ${formatSeconds(config.callTimeoutMs)} (--call-timeout, queueing included)`;
  return {
    kind: 'timeout',
    message: queued
      ? `${limit[0]!.toUpperCase()}${limit.slice(1)} passed while the request to this node was still waiting ${formatSeconds(waitedMs)} for a free slot (other queries hold the concurrency limits); nothing was sent to it. Retry later, or query fewer nodes at once.`
      : `No complete answer within ${limit}; the request was aborted. Narrow the query (tailLines, a shorter window, a pattern) or query fewer nodes at once.`,
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export function failureFromError(err: unknown, config: ServerConfig): NodeQueryFailure {
  const e = err as Error;
  if (e?.name === 'BusyError') return { kind: 'busy', message: e.message };
  if (e?.name === 'LimitStoreUnavailableError') return { kind: 'limits-unavailable', message: e.message };
  if (e?.name === 'CancelledError') return { kind: 'cancelled', message: 'The call was cancelled.' };
  if (err instanceof KubeError) {
    if (err.kind === 'aborted') return { kind: 'cancelled', message: 'The call was cancelled.' };
    if (err.kind === 'timeout')
      return { kind: 'timeout', message: `No complete answer within ${config.requestTimeoutMs / 1000} s (--request-timeout). The node or the apiserver is slow; narrow the query (tailLines, a shorter window) and retry.` };
    return { kind: 'connection', message: err.message };
  }
  if (e?.name === 'AbortError') return { kind: 'cancelled', message: 'The call was cancelled.' };
  return { kind: 'connection', message: `Reading logs failed: ${sanitizeShort(e?.message ?? String(err))}` };
}

/** Names people give the kernel's log; journald keeps it without a unit (_TRANSPORT=kernel). */
const KERNEL_NAMES = new Set(['kernel', 'dmesg', 'kern', 'kmsg', 'kernel.log', 'kern.log']);

export function isKernelName(service: string): boolean {
  return KERNEL_NAMES.has(service.toLowerCase());
}

/** Where rsyslog-style systems keep kernel lines, most specific first. */
export const KERNEL_FILES = ['/kern.log', '/syslog', '/messages'];

/** Looks for the kernel's log files on the node (one byte each, through the limits) and says which to query. */
async function kernelFileHint(deps: NodeQueryDeps, node: string, names: string[], signal: AbortSignal): Promise<string> {
  let found: string | undefined;
  for (const file of KERNEL_FILES) {
    const res = await deps.kube.proxyGet(filePathFor(node, file), { range: 'bytes=0-0', signal, timeoutMs: deps.config.requestTimeoutMs });
    res.abort();
    if (res.status === 200 || res.status === 206) {
      found = file;
      break;
    }
  }
  const asked = names.map((n) => JSON.stringify(n)).join(', ');
  const head = `Kernel messages have no systemd unit, so node log query cannot select them as a service (${asked}).`;
  if (!found)
    return `${head} None of ${KERNEL_FILES.map((f) => `/var/log${f}`).join(', ')} exists on ${node}, so its kernel lines are only in the journal, where the kubelet cannot select them; kubelet and containerd lines often quote the kernel's verdicts (OOM kills, disk errors).`;
  const filter = found === '/kern.log' ? '' : ' with pattern "kernel:" to keep only kernel lines';
  return `${head} On ${node} they are in /var/log${found}: query "${found}"${filter}.`;
}

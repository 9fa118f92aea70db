import type { KubeClient } from '../kube/client.js';
import { classifyLogAnswer, type LogFailure } from '../kube/kubelet-answer.js';
import { KubeError } from '../kube/errors.js';
import { readBounded } from '../kube/transport.js';
import type { LocalTailFilter } from '../query/local-filter.js';

export interface FileTailRequest {
  node: string;
  /** API path of the file through the node proxy. */
  path: string;
  /** Lines wanted after filtering. */
  lines: number;
  initialBytes: number;
  maxBytes: number;
  /** Local filter (pattern and time window) for one pass over raw lines in file order: the newest `want` matches. */
  filter?: LocalTailFilter;
  /** Time of a line, to know when reading further back cannot find more lines inside the window. */
  timeOf?: (line: string) => number | undefined;
  sinceMs?: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Bytes this node may still send in this call (--max-bytes-per-node), shared by every read of the call. */
  budget?: { remaining: number };
}

export interface FileTailResult {
  lines: string[];
  /** Lines examined (in the bytes read), before filtering. */
  linesScanned: number;
  linesFilteredOut: number;
  bytesRead: number;
  fileSize?: number;
  /** The whole file was read (the start of the file was reached). */
  reachedStart: boolean;
  /** Stopped at maxBytes while more lines were wanted. */
  byteCapHit: boolean;
  /** The filter's time budget ran out: older lines were not searched. */
  filterCut: boolean;
  rangeHonoured: boolean;
  requests: number;
}

function parseContentRange(v: string | undefined): { start: number; end: number; size?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), size: m[3] === '*' ? undefined : Number(m[3]) };
}

/**
 * The kubelet serves files without tail or filters (options with a file get a 406), so tail locally:
 * ask for the last K bytes with a Range request and grow K (×4) until enough matching lines came back,
 * the start of the file was reached, or maxBytes was read.
 */
export async function readFileTail(
  kube: KubeClient,
  req: FileTailRequest,
): Promise<{ ok: true; result: FileTailResult } | { ok: true; result: undefined } | { ok: false; failure: LogFailure }> {
  let want = req.initialBytes;
  let requests = 0;
  for (;;) {
    const cap = Math.min(req.maxBytes, req.budget ? req.budget.remaining : Number.POSITIVE_INFINITY);
    if (cap <= 0)
      return { ok: true, result: { lines: [], linesScanned: 0, linesFilteredOut: 0, bytesRead: 0, reachedStart: false, byteCapHit: true, filterCut: false, rangeHonoured: true, requests } };
    want = Math.min(want, cap);
    requests++;
    const res = await kube.proxyGet(req.path, { range: `bytes=-${want}`, signal: req.signal, timeoutMs: req.timeoutMs });
    // A directory: the kubelet's file server redirects "dir" to "dir/" and lists "dir/" as HTML. Decided by
    // the redirect or a listing of a slash path, not the content type alone (a .html file is a file).
    if (res.status === 301 || (req.path.endsWith('/') && /text\/html/i.test(String(res.headers['content-type'] ?? '')))) {
      res.abort();
      return { ok: true, result: undefined };
    }
    const answer = await classifyLogAnswer(res, { node: req.node, isFile: true });
    if (!answer.ok) return answer;
    const range = answer.status === 206 ? parseContentRange(answer.contentRange) : undefined;
    let read: { buffer: Buffer; truncated: boolean };
    try {
      read = await readBounded(answer.body, cap, res.abort);
    } catch (err) {
      if (req.signal.aborted) throw new KubeError('aborted', 'The request was cancelled by the caller.');
      throw res.describeError ? res.describeError(err) : err;
    }
    const size = read.buffer.length;
    const cut = read.truncated;
    if (req.budget) req.budget.remaining -= size;
    const start = range?.start ?? 0;
    const fileSize = range?.size ?? (answer.status === 200 && !cut ? size : undefined);
    const text = read.buffer.toString('utf8');
    let all = text.split('\n');
    if (all.length && all[all.length - 1] === '') all.pop();
    // A range that starts mid-file starts mid-line: that first piece is not a line.
    if (start > 0 && all.length) all = all.slice(1);
    if (answer.status === 200 && cut) {
      // The node ignored Range and sent the file from the start: keep what was read, say so.
      const kept = await filterTail(all, req);
      return { ok: true, result: { ...kept, bytesRead: size, fileSize, reachedStart: true, byteCapHit: true, rangeHonoured: false, requests } };
    }
    const kept = await filterTail(all, req);
    const reachedStart = start === 0;
    const enough = kept.lines.length >= req.lines;
    const firstTime = req.sinceMs !== undefined && req.timeOf ? firstTimeOf(all, req.timeOf) : undefined;
    const pastWindowStart = req.sinceMs !== undefined && firstTime !== undefined && firstTime < req.sinceMs;
    if (reachedStart || enough || pastWindowStart || want >= cap || kept.filterCut) {
      return {
        ok: true,
        result: {
          ...kept,
          bytesRead: size,
          fileSize,
          reachedStart,
          byteCapHit: !reachedStart && !enough && !pastWindowStart && !kept.filterCut && want >= cap,
          rangeHonoured: answer.status === 206 || reachedStart,
          requests,
        },
      };
    }
    want = want * 4;
  }
}

async function filterTail(all: string[], req: FileTailRequest): Promise<{ lines: string[]; linesScanned: number; linesFilteredOut: number; filterCut: boolean }> {
  if (!req.filter) {
    return { lines: all.length > req.lines ? all.slice(all.length - req.lines) : all, linesScanned: all.length, linesFilteredOut: 0, filterCut: false };
  }
  const r = await req.filter(all, req.lines);
  return { lines: r.kept, linesScanned: all.length, linesFilteredOut: r.examined - r.kept.length, filterCut: r.cut };
}

function firstTimeOf(lines: string[], timeOf: (line: string) => number | undefined): number | undefined {
  for (let i = 0; i < Math.min(lines.length, 50); i++) {
    const t = timeOf(lines[i]!);
    if (t !== undefined) return t;
  }
  return undefined;
}

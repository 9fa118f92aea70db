/**
 * Rotated logs compressed by logrotate (`/syslog.2.gz`, `/kube-apiserver.log.3.gz`): the kubelet's
 * FileServer sends them as raw gzip, and a Range from the end of a gzip stream cannot be decoded. So
 * the file is read from the start, decompressed as it streams, and tailed here: at most maxBytes of
 * compressed input and maxBytes of text, the last N matching lines kept. Never shown as binary.
 */
import { createGunzip } from 'node:zlib';
import type { KubeClient } from '../kube/client.js';
import { classifyLogAnswer, type LogFailure } from '../kube/kubelet-answer.js';
import type { FileTailResult } from './read-file-tail.js';

export function isGzipName(file: string): boolean {
  return /\.gz$/i.test(file);
}

export async function readGzipTail(
  kube: KubeClient,
  req: { node: string; path: string; lines: number; maxBytes: number; makeFilter?: () => (line: string) => boolean; timeoutMs: number; signal: AbortSignal; budget?: { remaining: number } },
): Promise<{ ok: true; result: FileTailResult } | { ok: true; result: undefined } | { ok: false; failure: LogFailure | { kind: 'not-gzip'; status: number; message: string } }> {
  const res = await kube.proxyGet(req.path, { signal: req.signal, timeoutMs: req.timeoutMs });
  if (res.status === 301) {
    res.abort();
    return { ok: true, result: undefined };
  }
  const answer = await classifyLogAnswer(res, { node: req.node, isFile: true });
  if (!answer.ok) return answer;
  const cap = Math.min(req.maxBytes, req.budget ? req.budget.remaining : Number.POSITIVE_INFINITY);
  const filter = req.makeFilter?.();
  const kept: string[] = [];
  let compressed = 0;
  let text = 0;
  let scanned = 0;
  let filteredOut = 0;
  let capHit = false;
  let partial = '';
  const gunzip = createGunzip();
  const take = (line: string) => {
    scanned++;
    if (filter && !filter(line)) {
      filteredOut++;
      return;
    }
    kept.push(line);
    if (kept.length > req.lines) kept.shift();
  };
  const feed = (async () => {
    try {
      for await (const chunk of answer.body) {
        compressed += chunk.length;
        if (compressed > cap) {
          capHit = true;
          break;
        }
        if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once('drain', r));
      }
    } finally {
      gunzip.end();
      res.abort();
    }
  })();
  let bad = false;
  try {
    for await (const out of gunzip as AsyncIterable<Buffer>) {
      text += out.length;
      const parts = (partial + out.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const p of parts) take(p.replace(/\r$/, ''));
      if (text > cap) {
        capHit = true;
        gunzip.destroy();
        break;
      }
    }
  } catch {
    // A truncated stream (our own cap) ends the decoder early; anything else means it was not gzip.
    bad = !capHit;
  }
  await feed.catch(() => undefined);
  if (req.budget) req.budget.remaining -= Math.min(compressed, cap);
  if (bad && scanned === 0)
    return { ok: false, failure: { kind: 'not-gzip', status: 200, message: `${req.path.split('/proxy/logs')[1]} on ${req.node} is named .gz but is not a gzip file this server can read.` } };
  if (partial && !capHit) take(partial.replace(/\r$/, ''));
  return {
    ok: true,
    result: { lines: kept, linesScanned: scanned, linesFilteredOut: filteredOut, bytesRead: Math.min(compressed, cap), reachedStart: true, byteCapHit: capHit, filterCut: false, rangeHonoured: true, requests: 1 },
  };
}

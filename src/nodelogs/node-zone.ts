/**
 * A Linux node's UTC offset, as journalctl applies it to --since/--until (kubelet-node-log-query.md §3):
 * the kubelet passes the wall-clock digits of the time the client sent, and journalctl reads them in the
 * node's local zone. Nothing in the Node object says what that zone is, so it is measured once per node
 * and cached.
 *
 * The measurement uses only what every kubelet and journalctl version answers the same way: the newest
 * entry of a unit (its UTC time, from --utc output), then `sinceTime=T, tailLines=1, pattern=^`, which
 * prints that entry exactly when T read in the node's zone is not after it, i.e. when the offset is at
 * least T minus the entry's time. Offsets are whole quarter hours between -12:00 and +14:00, so a binary
 * search over T settles it in a few one-line requests (two for a UTC node).
 */
import type { KubeClient } from '../kube/client.js';
import { readBounded } from '../kube/transport.js';
import { parseLineTime } from '../logs/header.js';
import { logsPathPrefix } from '../query/plan.js';
import { formatUtcSeconds } from '../query/rfc3339.js';

const QUARTER_HOUR = 15 * 60_000;
const MIN_STEPS = -48; // -12:00
const MAX_STEPS = 56; // +14:00
const CACHE_MS = 30 * 60_000;
const PROBE_BYTES = 64 * 1024;

export interface NodeZone {
  /** local = UTC + offsetMs */
  offsetMs: number;
  /** false: could not be measured (no entries for the unit in the current boot); 0 was assumed. */
  known: boolean;
}

const caches = new WeakMap<KubeClient, Map<string, { zone: NodeZone; at: number }>>();

export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const m = Math.abs(ms) / 60_000;
  return `UTC${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The newest line time in a short journal answer, if there is one. */
async function newestLineTime(kube: KubeClient, path: string, signal: AbortSignal, timeoutMs: number): Promise<number | undefined> {
  const res = await kube.proxyGet(path, { signal, timeoutMs });
  try {
    if (res.status !== 200) return undefined;
    const { buffer } = await readBounded(res.body, PROBE_BYTES, res.abort);
    let newest: number | undefined;
    for (const line of buffer.toString('utf8').split('\n')) {
      const t = parseLineTime(line);
      if (t !== undefined && (newest === undefined || t > newest)) newest = t;
    }
    return newest;
  } finally {
    res.abort();
  }
}

/** Measures (or recalls) the node's UTC offset with the service the query is about. */
export async function nodeZone(kube: KubeClient, node: string, service: string, signal: AbortSignal, timeoutMs: number, now = Date.now()): Promise<NodeZone> {
  let cache = caches.get(kube);
  if (!cache) caches.set(kube, (cache = new Map()));
  const hit = cache.get(node);
  if (hit && now - hit.at < CACHE_MS) return hit.zone;

  const base = `${logsPathPrefix(node)}?query=${encodeURIComponent(service)}`;
  const newest = await newestLineTime(kube, `${base}&tailLines=1`, signal, timeoutMs);
  if (newest === undefined) return { offsetMs: 0, known: false };
  const anchor = Math.floor(newest / 1000) * 1000;
  // True when the node's offset is at least k quarter hours.
  const atLeast = async (k: number): Promise<boolean> => {
    const since = `${formatUtcSeconds((anchor + k * QUARTER_HOUR) / 1000)}Z`;
    return (await newestLineTime(kube, `${base}&pattern=%5E&sinceTime=${encodeURIComponent(since)}&tailLines=1`, signal, timeoutMs)) !== undefined;
  };
  let lo: number;
  let hi: number;
  if (await atLeast(0)) {
    if (!(await atLeast(1))) {
      lo = 0;
      hi = 1;
    } else {
      lo = 1;
      hi = MAX_STEPS + 1;
    }
  } else {
    lo = MIN_STEPS;
    hi = 0;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await atLeast(mid)) lo = mid;
    else hi = mid;
  }
  const zone = { offsetMs: lo * QUARTER_HOUR, known: true };
  cache.set(node, { zone, at: now });
  return zone;
}

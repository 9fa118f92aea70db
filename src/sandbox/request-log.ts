import type { KubeletRequestRecord } from './kubelet/types.js';
import type { RequestLog, RequestRecord } from './types.js';

export interface RequestStart {
  method: string;
  path: string;
  rawQuery: string;
  headers: RequestRecord['headers'];
}

/** Every key with all its values in order; lenient about bad escapes like the apiserver's parser. */
export function parseQuery(rawQuery: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) (out[k] ??= []).push(v);
  return out;
}

// A kubelet reports a request when its response ends, which can be a little after the apiserver has
// finished relaying it; past this grace the kubelet is assumed never to report (e.g. it crashed).
const KUBELET_REPORT_GRACE_MS = 1000;

/** The apiserver's request log: what crossed the wire, in order, plus concurrency high-water marks. */
export class SandboxRequestLog implements RequestLog {
  readonly entries: RequestRecord[] = [];
  maxConcurrent = 0;
  readonly maxConcurrentPerNode = new Map<string, number>();
  inFlight = 0;
  private readonly inFlightPerNode = new Map<string, number>();
  private readonly writeRecords: RequestRecord[] = [];
  private nextId = 1;
  /** Proxied requests whose kubelet record has not arrived yet, with the upstream path they used. */
  private readonly awaiting = new Map<RequestRecord, { upstreamPath: string; timer?: NodeJS.Timeout }>();
  private idleWaiters: Array<() => void> = [];
  private readonly proxied = new WeakSet<RequestRecord>();

  begin(start: RequestStart): RequestRecord {
    const rec: RequestRecord = {
      id: this.nextId++,
      start: Date.now(),
      method: start.method,
      path: start.path,
      query: parseQuery(start.rawQuery),
      rawQuery: start.rawQuery,
      headers: start.headers,
      status: 0,
      bytes: 0,
      durationMs: 0,
      aborted: false,
    };
    this.entries.push(rec);
    this.inFlight++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    return rec;
  }

  /** Marks a record as a node proxy request (counted per node from here on). */
  proxying(rec: RequestRecord, node: string, proxyPath: string): void {
    rec.node = node;
    rec.proxyPath = proxyPath;
    this.proxied.add(rec);
    const n = (this.inFlightPerNode.get(node) ?? 0) + 1;
    this.inFlightPerNode.set(node, n);
    this.maxConcurrentPerNode.set(node, Math.max(this.maxConcurrentPerNode.get(node) ?? 0, n));
  }

  /** The request went to a live kubelet, which will report it through kubeletReported(). */
  dispatched(rec: RequestRecord, upstreamPath: string): void {
    this.awaiting.set(rec, { upstreamPath });
  }

  /** The kubelet could not be reached after all: no record will come from it. */
  undispatched(rec: RequestRecord): void {
    this.settle(rec);
  }

  end(rec: RequestRecord, outcome: { status: number; bytes: number; aborted: boolean }, isWrite: boolean): void {
    rec.status = outcome.status;
    rec.bytes = outcome.bytes;
    rec.aborted = outcome.aborted;
    rec.durationMs = Date.now() - rec.start;
    if (isWrite) this.writeRecords.push(rec);
    if (rec.node !== undefined && this.proxied.has(rec)) this.inFlightPerNode.set(rec.node, (this.inFlightPerNode.get(rec.node) ?? 1) - 1);
    this.inFlight--;
    const pending = this.awaiting.get(rec);
    if (pending) {
      pending.timer = setTimeout(() => this.settle(rec), KUBELET_REPORT_GRACE_MS);
      pending.timer.unref();
    }
    this.notifyIfIdle();
  }

  /** Hook for KubeletOptions.onRequest: attaches the kubelet's record to the apiserver request it served. */
  kubeletReported(k: KubeletRequestRecord): void {
    // Oldest first: identical concurrent requests finish in any order, but their records are alike.
    // Requests made to a kubelet directly (not through the apiserver) match nothing and are ignored.
    let match: RequestRecord | undefined;
    for (const [rec, p] of this.awaiting) {
      const samePath = k.path === p.upstreamPath || k.path === safeDecode(p.upstreamPath);
      if (rec.node === k.node && samePath && k.rawQuery === rec.rawQuery && k.method === rec.method) {
        match = rec;
        break;
      }
    }
    if (!match) return;
    match.kubelet = k;
    if (k.journalArgs) match.journalArgs = [...k.journalArgs];
    this.settle(match);
  }

  writes(): RequestRecord[] {
    return [...this.writeRecords];
  }

  clear(): void {
    this.entries.length = 0;
    this.maxConcurrent = this.inFlight;
    this.maxConcurrentPerNode.clear();
    for (const [node, n] of this.inFlightPerNode) if (n > 0) this.maxConcurrentPerNode.set(node, n);
  }

  waitIdle(timeoutMs = 10_000): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        reject(new Error(`request log not idle after ${timeoutMs} ms (${this.inFlight} in flight, ${this.awaiting.size} awaiting kubelet)`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
    });
  }

  private settle(rec: RequestRecord): void {
    const p = this.awaiting.get(rec);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.awaiting.delete(rec);
    this.notifyIfIdle();
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.awaiting.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Highest number of the given requests open at once, from the apiserver's own start/end times. Ends sort
 * before starts on the same millisecond: a slot freed and reused within 1 ms is not an overlap.
 */
export function peakInFlight(records: readonly { start: number; durationMs: number }[]): number {
  const events: [number, number][] = [];
  for (const r of records) events.push([r.start, 1], [r.start + r.durationMs, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (now += d));
  return max;
}

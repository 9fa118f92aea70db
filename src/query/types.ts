/**
 * The KEP-2258 node log query model as the MCP tools see it. Option names are the
 * kubelet's own (`query`, `pattern`, `sinceTime`, `untilTime`, `tailLines`, `boot`).
 */
export interface NodeLogQueryInput {
  /** Services ("kubelet", "containerd") or one file relative to /var/log ("/kube-apiserver.log"). */
  query: string | string[];
  pattern?: string;
  sinceTime?: string;
  untilTime?: string;
  tailLines?: number;
  boot?: number;
}

export interface QueryLimits {
  /** Applied when the caller gives neither tailLines nor a time window (e.g. 2000). */
  defaultTailLines: number;
  /** …and sinceTime = now - this (e.g. 1 h). */
  defaultWindowMs: number;
  /** Server max (≤ 100000, e.g. 20000): larger values are clamped with a notice. */
  maxTailLines: number;
  /** Summary format: scanning deeper costs no more output (the byte cap still bounds the read), default 100000. */
  maxSummaryTailLines?: number;
  /** Max since→until span (e.g. 7 days): wider windows are clamped (since moved forward) with a notice. */
  maxWindowMs: number;
  /** First Range request size for file tails (e.g. 256 KiB). */
  fileTailBytes: number;
  /** Most bytes read from one file (e.g. 32 MiB). */
  maxFileBytes: number;
}

export type NodeOs = 'linux' | 'windows' | 'unknown';

/** `message` names the problem, `fix` says what to do about it. */
export interface ValidationIssue {
  field: string;
  message: string;
  fix: string;
}

export type LogRequestPlan =
  | {
      kind: 'journal';
      services: string[];
      /** Exact wire params, in wire order. */
      params: URLSearchParams;
      /** "/api/v1/nodes/<n>/proxy/logs/?..." (times as sent to a node in UTC; see journalPathFor). */
      path: string;
      wire: JournalWire;
      effective: EffectiveQuery;
      notices: string[];
    }
  | {
      kind: 'file';
      /** "/kube-apiserver.log" */
      file: string;
      /** "/api/v1/nodes/<n>/proxy/logs/<encoded file path>": no query parameters at all (see filePathFor). */
      path: string;
      tail: { lines: number; initialBytes: number; maxBytes: number };
      localFilter: LocalFilterSpec;
      effective: EffectiveQuery;
      notices: string[];
    };

/** How a journal answer is read back into what was asked (kubelet-node-log-query.md §3). */
export interface JournalWire {
  /** The instants behind sinceTime/untilTime on the wire (whole seconds; until rounded up), before any zone shift. */
  sinceMs?: number;
  untilMs?: number;
  /** The exact window asked for, cut locally on the UTC times journalctl prints (--utc). */
  window?: { sinceMs?: number; untilMs?: number };
  /** A pattern with tailLines: journalctl walks backwards and prints newest first. */
  newestFirst: boolean;
  /** tailLines applied here, after the local cut (the kubelet could not be given it). */
  localTail?: number;
}

export interface EffectiveQuery {
  services?: string[];
  file?: string;
  sinceTime?: string;
  untilTime?: string;
  tailLines?: number;
  pattern?: string;
  boot?: number;
  defaultsApplied: string[];
}

export interface LocalFilterSpec {
  pattern?: string;
  sinceMs?: number;
  untilMs?: number;
}

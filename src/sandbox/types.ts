import type { KubeletLogConfig, KubeletProfile, KubeletRequestRecord } from './kubelet/types.js';

/** One node of the sandbox cluster. */
export interface SandboxNodeSpec {
  name: string;
  profile: KubeletProfile;
  /** Defaults by profile: 'old' → v1.26.15, otherwise v1.36.1. */
  kubeletVersion?: string;
  /** Defaults: 'windows' profile → windows, else linux. */
  os?: 'linux' | 'windows';
  /** Extra labels (kubernetes.io/os, hostname and arch are always set). */
  labels?: Record<string, string>;
  /** e.g. ['control-plane'] → node-role.kubernetes.io/control-plane="" */
  roles?: string[];
  ready?: boolean;
  /** Overrides of the profile's kubelet config. */
  config?: Partial<KubeletLogConfig>;
  /** IANA time zone of the node (default UTC): journalctl's --since/--until and Windows event times use it. */
  timeZone?: string;
  /** A possible future kubelet that matches `<svc>.service` exactly (every released one tests a substring). */
  exactUnitMatch?: boolean;
  /** Linux journal: the kubelet crash-loops (systemd's Main process exited / restart counter lines). */
  kubeletCrashLoop?: boolean;
  /** Windows: the kubelet and containerd log to files under C:\var\log, not to an event-log provider. */
  windowsFileLoggers?: boolean;
  /** Seed for generated logs (default: derived from name). */
  seed?: number;
}

export interface SandboxOptions {
  /** Defaults to the standard demo cluster (see defaultNodes()). */
  nodes?: SandboxNodeSpec[];
  /** Adds N healthy linux workers named fleet-0000.. (share one journal to keep start-up cheap). */
  fleet?: number;
  /** Fixed per-request latency added by fleet kubelets before answering (fan-out benchmarks). */
  fleetLatencyMs?: number;
  /** Where to write kubeconfig, CA and /var/log trees; a fresh temp dir by default. */
  dir?: string;
  /** 'auto' uses real journalctl when journalctl and systemd-journal-remote exist. */
  journalBackend?: 'auto' | 'journalctl' | 'inprocess';
  /** Kubelet copy deadline (upstream 30 000 ms). */
  deadlineMs?: number;
  /** "Now" for generated logs (default: the real now, rounded to the minute). */
  now?: Date;
  /** Bytes the 'huge' profile streams (default 2 GiB). */
  hugeBytes?: number;
  /** Distinct rare kubelet errors planted once each in the 'huge' stream (up to 15; see PLANTED_ERRORS). */
  hugePlantedErrors?: number;
  /**
   * Real journals are built on a node's first journal query (~1 s each). true also builds them in the
   * background, one at a time, right after start-up (the CLI does; tests should not pay for it).
   */
  warmJournals?: boolean;
}

export interface RequestRecord {
  id: number;
  /** ms since epoch when the request arrived */
  start: number;
  method: string;
  /** URL path as received by the apiserver (percent-decoding not applied) */
  path: string;
  /** Parsed query: every key with all its values, in order */
  query: Record<string, string[]>;
  rawQuery: string;
  /** authenticated user name, or undefined when unauthenticated */
  user?: string;
  /** Who the request asked to act as (Impersonate-* headers), as the apiserver parsed them. */
  impersonated?: { user: string; uid?: string; groups: string[]; extra: Record<string, string[]> };
  /** node name when this is a /api/v1/nodes/{n}/proxy/... request */
  node?: string;
  /** proxied sub-path, e.g. "logs/" or "configz" */
  proxyPath?: string;
  headers: { range?: string; acceptEncoding?: string; accept?: string; userAgent?: string; contentType?: string };
  status: number;
  bytes: number;
  durationMs: number;
  /** the client went away before the response was complete */
  aborted: boolean;
  /** journalctl argv the kubelet ran for this request, when it ran one */
  journalArgs?: string[];
  /** The kubelet's own record of the proxied request (arrives when the kubelet finishes it). */
  kubelet?: KubeletRequestRecord;
}

export interface RequestLog {
  readonly entries: readonly RequestRecord[];
  /** Highest number of requests in flight at once, overall and per node (proxy requests). */
  readonly maxConcurrent: number;
  readonly maxConcurrentPerNode: ReadonlyMap<string, number>;
  readonly inFlight: number;
  /** Forget entries and reset the maxima. */
  clear(): void;
  /** Resolves when no request is in flight (or rejects after timeoutMs). */
  waitIdle(timeoutMs?: number): Promise<void>;
}

export interface Sandbox {
  apiserverUrl: string; // https://127.0.0.1:PORT
  kubeconfigPath: string; // contexts: "sandbox-admin" (current) and "sandbox-restricted"
  caPath: string;
  tokens: { admin: string; restricted: string };
  dir: string;
  /** Every node with its defaults filled in (seed, kubeletVersion, os, roles, ready). */
  nodes: SandboxNodeSpec[];
  requestLog: RequestLog;
  /** The "now" the node logs were generated for; with a node's (filled-in) seed it reproduces them. */
  now?: Date;
  /** Node name → http://127.0.0.1:PORT of its kubelet (reachable nodes only), for tests that bypass the apiserver. */
  kubeletUrls?: Readonly<Record<string, string>>;
  /** Write requests seen (anything but GET/HEAD, SelfSubjectAccessReview POSTs excluded). */
  writes(): RequestRecord[];
  /** Stop/start the apiserver's listener (for fault tests) without losing state. */
  close(): Promise<void>;
}

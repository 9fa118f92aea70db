import type { JournalBackend, WinEvent } from '../journal/types.js';

export type KubeletProfile =
  | 'healthy'
  | 'feature-off' // enableSystemLogQuery false: /logs/ is the plain /var/log file server
  | 'handler-disabled' // enableSystemLogHandler false: 405 "logs endpoint is disabled."
  | 'debugging-disabled' // enableDebuggingHandlers false: 405 "Debug endpoints are disabled."
  | 'old' // v1.26: no NodeLogQuery at all, plain file server
  | 'windows'
  | 'slow' // drips output until the deadline cuts it
  | 'unreachable' // no kubelet listening: the apiserver answers 503
  | 'huge' // streams a synthetic journal of configurable size
  | 'black-holed'; // accepts connections and never answers

/** The kubelet configuration fields that matter for node log query (v1beta1 names). */
export interface KubeletLogConfig {
  enableDebuggingHandlers: boolean;
  enableSystemLogHandler: boolean;
  enableSystemLogQuery: boolean;
  /** Only explicitly set gates, as /configz reports them. */
  featureGates: Record<string, boolean>;
}

export interface KubeletOptions {
  nodeName: string;
  os: 'linux' | 'windows';
  /** e.g. "v1.36.1" */
  kubeletVersion: string;
  config: KubeletLogConfig;
  /** Linux: the journal (absent = not a systemd host: every service is a file logger). */
  journal?: JournalBackend;
  /** Windows: the Application log. */
  winEvents?: WinEvent[];
  /** A real directory on disk that plays the node's /var/log (C:\var\log on Windows). */
  varLogDir: string;
  /** The kubelet's copy deadline; upstream is 30 s. Tests shorten it. */
  deadlineMs: number;
  /** 'slow': write one small chunk per interval; 'huge': serve this many bytes of synthetic journal. */
  behavior?: { dripIntervalMs?: number; hugeBytes?: number; blackHole?: boolean; hugePlantedErrors?: number };
  /**
   * Exact `<svc>.service` match in the native probe (closed PR #140947): a possible future kubelet only.
   * Every released kubelet uses a substring test, so `syslog` is "native" beside `rsyslog.service`.
   */
  exactUnitMatch?: boolean;
  /** IANA zone of the node (default UTC): journalctl reads --since/--until and Windows prints events in it. */
  timeZone?: string;
  /** Called once per request when its response ends (or the client goes away). */
  onRequest?: (record: KubeletRequestRecord) => void;
}

export interface KubeletRequestRecord {
  node: string;
  method: string;
  /** Path as the kubelet saw it, e.g. "/logs/" */
  path: string;
  rawQuery: string;
  status: number;
  bytes: number;
  durationMs: number;
  aborted: boolean;
  /** journalctl argv for a journal query (without the sandbox's --directory), if one ran. */
  journalArgs?: string[];
  /** PowerShell script for a Windows query, if one ran. */
  powershell?: string;
  /** Environment passed to PowerShell (kubelet_* variables), if one ran. */
  powershellEnv?: Record<string, string>;
}

export interface RunningKubelet {
  url: string; // http://127.0.0.1:PORT
  close(): Promise<void>;
}

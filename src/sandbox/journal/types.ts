import type { Readable } from 'node:stream';

/** One journald entry, with the fields journalctl's short-precise output and filters need. */
export interface JournalEntry {
  /** __REALTIME_TIMESTAMP: wall clock in microseconds since the Unix epoch (UTC). */
  realtimeUsec: bigint;
  /** __MONOTONIC_TIMESTAMP: microseconds since this entry's boot. */
  monotonicUsec: bigint;
  /** _BOOT_ID: 32 lowercase hex characters. */
  bootId: string;
  /** _SYSTEMD_UNIT, e.g. "kubelet.service"; undefined for kernel messages. */
  unit?: string;
  /** UNIT: which unit a PID-1 (systemd) message is about, e.g. "kubelet.service"; `--unit=` matches it too. */
  unitField?: string;
  /** SYSLOG_IDENTIFIER, e.g. "kubelet", "kernel". */
  identifier: string;
  /** _PID; undefined for kernel messages. */
  pid?: number;
  /** _HOSTNAME */
  hostname: string;
  /** PRIORITY 0 (emerg) .. 7 (debug). */
  priority: number;
  /** MESSAGE (single line; multi-line messages are split into separate entries by the generator). */
  message: string;
}

/**
 * Something that answers journalctl invocations. The kubelet emulation builds argv exactly as the
 * upstream kubelet does (e.g. ["--utc","--no-pager","--output=short-precise","--pager-end","--lines=5",
 * "--unit=kubelet"] or ["--field","_SYSTEMD_UNIT"]) and hands it here; the backend decides where the
 * journal lives (the real one adds --directory=DIR).
 */
export interface JournalBackend {
  readonly kind: 'journalctl' | 'inprocess';
  /** stdout and stderr merged, as the kubelet wires them; killing on abort ends the stream. */
  run(args: string[], signal: AbortSignal): { output: Readable; exited: Promise<number | null> };
  /**
   * Resolves once the journal exists. A real node's journal is there before any query; the sandbox may
   * build it on first use, and that must not eat into the kubelet's deadline.
   */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

/** A Windows Application-log event, for Windows kubelets. */
export interface WinEvent {
  timeCreated: Date;
  id: number;
  level: 'Information' | 'Warning' | 'Error' | 'Critical' | 'Verbose';
  provider: string;
  message: string;
}

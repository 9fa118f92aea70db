import type { JournalBackend, JournalEntry } from './types.js';
import { createRealJournalBackend, realJournalAvailable } from './real.js';
import { createInProcessJournalBackend } from './inprocess.js';

export type { JournalBackend, JournalEntry, WinEvent } from './types.js';
export { realJournalAvailable, installedSystemdVersion } from './real.js';
export { InProcessJournal } from './inprocess.js';

export interface CreateJournalBackendOptions {
  /** 'auto' uses real journalctl when installed and falls back to the in-process emulation. */
  prefer: 'auto' | 'journalctl' | 'inprocess';
  /** Where the journalctl backend caches converted journal directories. */
  workDir: string;
  /** systemd version whose journalctl the in-process backend imitates; default 252 (verified). */
  systemdVersion?: number;
  /** The node's IANA zone (default UTC): journalctl reads --since/--until in it. */
  timeZone?: string;
}

export async function createJournalBackend(entries: JournalEntry[], opts: CreateJournalBackendOptions): Promise<JournalBackend> {
  if (opts.prefer === 'inprocess') return createInProcessJournalBackend(entries, opts.systemdVersion, opts.timeZone);
  if (opts.prefer === 'journalctl') return createRealJournalBackend(entries, opts.workDir, opts.timeZone);
  if (await realJournalAvailable()) {
    try {
      return await createRealJournalBackend(entries, opts.workDir, opts.timeZone);
    } catch {
      // A broken journal-remote (e.g. in a restricted container) should not stop the sandbox.
    }
  }
  return createInProcessJournalBackend(entries, opts.systemdVersion, opts.timeZone);
}

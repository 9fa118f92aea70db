import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JournalBackend, JournalEntry } from './types.js';
import { exportChunks } from './export.js';

const execFileP = promisify(execFile);

const JOURNAL_REMOTE_CANDIDATES = [
  '/usr/lib/systemd/systemd-journal-remote',
  '/lib/systemd/systemd-journal-remote',
  '/usr/libexec/systemd/systemd-journal-remote',
];

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findJournalctl(): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
    if (dir && (await executable(join(dir, 'journalctl')))) return join(dir, 'journalctl');
  }
  return undefined;
}

async function findJournalRemote(): Promise<string | undefined> {
  for (const p of JOURNAL_REMOTE_CANDIDATES) if (await executable(p)) return p;
  return undefined;
}

/** True when both journalctl and systemd-journal-remote are installed, i.e. the real backend can run. */
export async function realJournalAvailable(): Promise<boolean> {
  return (await findJournalctl()) !== undefined && (await findJournalRemote()) !== undefined;
}

/** Environment for journalctl: UTC wall clock, English month names, no colors or pager. */
export const JOURNALCTL_ENV: NodeJS.ProcessEnv = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  TZ: 'UTC',
  LC_ALL: 'C.UTF-8',
  LANG: 'C.UTF-8',
  SYSTEMD_COLORS: '0',
  SYSTEMD_PAGER: 'cat',
  SYSTEMD_LOG_COLOR: '0',
};

/**
 * Converts the entries into a journal directory once per distinct content: repeated sandbox starts
 * with the same seed reuse the directory, so only the first start pays for journal-remote.
 */
async function buildJournalDir(entries: readonly JournalEntry[], workDir: string, remote: string): Promise<string> {
  const chunks = [...exportChunks(entries)];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const dir = join(workDir, 'journal-cache', hash.digest('hex').slice(0, 32));
  const done = join(dir, '.complete');
  try {
    await access(done);
    return dir;
  } catch {
    /* not built yet */
  }
  await mkdir(join(workDir, 'journal-cache'), { recursive: true });
  const tmp = await mkdtemp(join(workDir, 'journal-cache', 'tmp-'));
  try {
    const exportFile = join(tmp, 'entries.export');
    await writeFile(exportFile, Buffer.concat(chunks));
    const out = join(tmp, 'journal');
    await mkdir(out);
    await execFileP(remote, [`--output=${join(out, 'system.journal')}`, exportFile], { env: JOURNALCTL_ENV, maxBuffer: 1 << 20 });
    await rm(exportFile);
    await writeFile(join(out, '.complete'), '');
    try {
      await rename(out, dir);
    } catch (err) {
      // Another sandbox built the same content concurrently; theirs is as good as ours.
      if (!(await access(done).then(() => true, () => false))) throw err;
    }
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function createRealJournalBackend(entries: readonly JournalEntry[], workDir: string, timeZone = 'UTC'): Promise<JournalBackend> {
  const journalctl = await findJournalctl();
  const remote = await findJournalRemote();
  if (!journalctl || !remote) throw new Error('journalctl and systemd-journal-remote are required for the journalctl backend');
  const dir = await buildJournalDir(entries, workDir, remote);
  const children = new Set<ReturnType<typeof spawn>>();
  return {
    kind: 'journalctl',
    run(args, signal) {
      // One pipe for both fds, as the kubelet's exec wiring does, so stderr lines interleave in order.
      const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', journalctl, `--directory=${dir}`, ...args], {
        env: { ...JOURNALCTL_ENV, TZ: timeZone },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.add(child);
      const kill = (): void => {
        child.kill('SIGKILL');
      };
      if (signal.aborted) kill();
      else signal.addEventListener('abort', kill, { once: true });
      const exited = new Promise<number | null>((resolve) => {
        child.once('close', (code) => {
          children.delete(child);
          signal.removeEventListener('abort', kill);
          resolve(code);
        });
        child.once('error', () => resolve(null));
      });
      return { output: child.stdout!, exited };
    },
    async close() {
      for (const c of children) c.kill('SIGKILL');
      children.clear();
    },
  };
}

/** The installed journalctl's systemd version (e.g. 252), or undefined when it is not installed. */
export async function installedSystemdVersion(): Promise<number | undefined> {
  const journalctl = await findJournalctl();
  if (!journalctl) return undefined;
  try {
    const { stdout } = await execFileP(journalctl, ['--version'], { env: JOURNALCTL_ENV });
    const m = /^systemd (\d+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

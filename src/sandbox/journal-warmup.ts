import { PassThrough, pipeline } from 'node:stream';
import type { JournalBackend } from './journal/types.js';

/**
 * Building a real journal (systemd-journal-remote) costs most of a second per node, which would make
 * the default cluster take many seconds to start on two cores. Backends are therefore built on first
 * use and, when asked (start()), in the background one at a time; a query that arrives first jumps the queue.
 */
export class JournalWarmup {
  private readonly pending: Array<() => Promise<unknown>> = [];
  private readonly all: Array<Promise<JournalBackend>> = [];
  private running = false;
  private closed = false;

  lazy(kind: JournalBackend['kind'], build: () => Promise<JournalBackend>): JournalBackend {
    let made: Promise<JournalBackend> | undefined;
    const get = () => {
      if (!made) {
        made = build();
        this.all.push(made);
      }
      return made;
    };
    this.pending.push(get);
    return {
      kind,
      run: (args, signal) => {
        const output = new PassThrough();
        const exited = get().then(
          (backend) => {
            if (signal.aborted) {
              output.end();
              return null;
            }
            const r = backend.run(args, signal);
            pipeline(r.output, output, () => undefined);
            return r.exited;
          },
          (err: unknown) => {
            output.destroy(err as Error);
            return null;
          },
        );
        return { output, exited };
      },
      ready: async () => {
        await get().catch(() => undefined); // a failed build shows up in run(), as before
      },
      close: async () => {
        if (made) await (await made.catch(() => undefined))?.close();
      },
    };
  }

  /** Builds the remaining backends one after another so start-up queries do not compete for both cores. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const next = (): void => {
      const job = this.closed ? undefined : this.pending.shift();
      if (!job) {
        this.running = false;
        return;
      }
      job().then(next, next);
    };
    next();
  }

  /** Stops warming; waits for builds in flight so their temp files can be removed. */
  async stop(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.all);
  }
}

/**
 * The journal server's writer: optional gzip (BestSpeed), byte counting, backpressure, and a clean stop
 * once the client is gone. Writes after the client left are dropped, like writes to a dead connection.
 */
import type { ServerResponse } from 'node:http';
import zlib from 'node:zlib';

export class ResponseSink {
  private readonly gzip?: zlib.Gzip;
  private closed = false;

  constructor(private readonly res: ServerResponse, gzip: boolean) {
    res.once('close', () => { this.closed = true; });
    if (gzip) {
      this.gzip = zlib.createGzip({ level: zlib.constants.Z_BEST_SPEED });
      this.gzip.pipe(res);
    }
  }

  get gone(): boolean {
    return this.closed || this.res.destroyed;
  }

  /** Resolves once the chunk is accepted (after 'drain' when buffers are full); false if the client is gone. */
  async write(chunk: Buffer | string): Promise<boolean> {
    if (this.gone) return false;
    if (typeof chunk === 'string') chunk = Buffer.from(chunk, 'utf8');
    if (chunk.length === 0) return true;
    const target = this.gzip ?? this.res;
    if (target.write(chunk)) return !this.gone;
    await new Promise<void>((resolve) => {
      const done = () => { target.off('drain', done); this.res.off('close', done); resolve(); };
      target.once('drain', done);
      this.res.once('close', done);
    });
    return !this.gone;
  }

  /** Ends the body (the gzip trailer included) and waits until it is flushed or the client left. */
  async end(): Promise<void> {
    if (this.gone) return;
    await new Promise<void>((resolve) => {
      this.res.once('close', resolve);
      this.res.once('finish', resolve);
      if (this.gzip) this.gzip.end();
      else this.res.end();
    });
  }
}

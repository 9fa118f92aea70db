/**
 * The emulated kubelet HTTP server: /logs/ (gating, query mode, FileServer), /configz, /healthz.
 * Plain HTTP on 127.0.0.1; the sandbox apiserver proxies /api/v1/nodes/{n}/proxy/... here.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { configzBody } from './configz.js';
import { serveFileServer } from './fileServer.js';
import { cleanPath, escapePath, parseQuery, unescapePath } from './goUrl.js';
import { httpError, httpRedirect } from './httpUtil.js';
import { copyNodeLogQuery, HandlerPanic, type CopyContext } from './journalCopy.js';
import { aggregateString, parseNodeLogQuery, validateNodeLogQuery, type NodeLogQuery } from './nodeLogQuery.js';
import { ResponseSink } from './responseSink.js';
import type { KubeletOptions, KubeletRequestRecord, RunningKubelet } from './types.js';
import { nodeLogQueryGateOn, parseKubeletVersion, type KubeletVersion } from './version.js';

export type { KubeletOptions, KubeletRequestRecord, RunningKubelet } from './types.js';

const LOGS_PREFIX = '/logs/';

interface RequestState {
  record: Partial<KubeletRequestRecord>;
  /** Fires when the client goes away before the response ended (or the server shuts down). */
  clientGone: AbortController;
}

class Kubelet {
  readonly version: KubeletVersion;
  readonly queryMode: boolean;
  readonly inflight = new Set<AbortController>();

  constructor(readonly opts: KubeletOptions) {
    this.version = parseKubeletVersion(opts.kubeletVersion);
    this.queryMode = this.version.major >= 1 && opts.config.enableSystemLogQuery && nodeLogQueryGateOn(this.version, opts.config.featureGates);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    // A black-holed node: the connection is accepted and the request read, and nothing ever comes back.
    if (this.opts.behavior?.blackHole) return;
    const started = performance.now();
    const method = req.method ?? 'GET';
    const rawUrl = (req.url ?? '/').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
    const qi = rawUrl.indexOf('?');
    const rawPath = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
    const rawQuery = qi < 0 ? '' : rawUrl.slice(qi + 1);
    const state: RequestState = {
      record: { node: this.opts.nodeName, method, path: rawPath, rawQuery },
      clientGone: new AbortController(),
    };
    this.inflight.add(state.clientGone);
    let bytes = 0;
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    const size = (chunk: unknown) => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk instanceof Uint8Array ? chunk.length : 0);
    res.write = ((chunk: unknown, ...rest: unknown[]) => { bytes += size(chunk); return write(chunk, ...rest); }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && typeof chunk !== 'function') bytes += size(chunk);
      return end(chunk, ...rest);
    }) as typeof res.end;
    res.once('close', () => {
      const aborted = !res.writableFinished;
      if (aborted) state.clientGone.abort();
      this.inflight.delete(state.clientGone);
      this.opts.onRequest?.({
        ...(state.record as KubeletRequestRecord),
        status: res.statusCode,
        bytes,
        durationMs: performance.now() - started,
        aborted,
      });
    });
    this.route(req, res, state, method, rawPath, rawQuery).catch((err: unknown) => {
      if (err instanceof HandlerPanic || res.headersSent) res.destroy();
      else httpError(res, '500 Internal Server Error', 500);
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, state: RequestState, method: string, rawPath: string, rawQuery: string): Promise<void> {
    const decoded = rawPath.startsWith('/') ? unescapePath(rawPath) : null;
    if (decoded === null) {
      // net/http rejects the request line before any handler runs.
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Connection', 'close');
      res.statusCode = 400;
      res.end('400 Bad Request');
      return;
    }
    const clean = cleanPath(decoded);
    if (clean !== decoded && method !== 'CONNECT') {
      httpRedirect(res, method, escapePath(clean) + (rawQuery ? `?${rawQuery}` : ''));
      return;
    }
    if (decoded === '/healthz') {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('ok');
      return;
    }
    if (decoded === '/configz' && !this.opts.config.enableDebuggingHandlers) {
      // /configz is installed with the debugging handlers only.
      httpError(res, '404 page not found', 404);
      return;
    }
    if (decoded === '/configz') {
      res.setHeader('Content-Type', 'application/json');
      res.end(configzBody(this.opts));
      return;
    }
    if (decoded === '/logs') {
      httpRedirect(res, method, LOGS_PREFIX + (rawQuery ? `?${rawQuery}` : ''));
      return;
    }
    if (!decoded.startsWith(LOGS_PREFIX)) {
      httpError(res, '404 page not found', 404);
      return;
    }
    // go-restful's router answers any method but GET (HEAD included) before any filter, in every version.
    if (method !== 'GET') {
      // go-restful's WriteErrorString: no trailing newline.
      res.setHeader('Allow', 'GET');
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.statusCode = 405;
      res.end('405: Method Not Allowed');
      return;
    }
    const cfg = this.opts.config;
    if (!cfg.enableDebuggingHandlers) return httpError(res, 'Debug endpoints are disabled.', 405);
    if (!cfg.enableSystemLogHandler) return httpError(res, 'logs endpoint is disabled.', 405);
    // http.StripPrefix checks the escaped path too: "/log%73/x" is not under "/logs/".
    if (!rawPath.startsWith(LOGS_PREFIX)) return httpError(res, '404 page not found', 404);
    const stripped = decoded.slice(LOGS_PREFIX.length);
    const windows = this.opts.os === 'windows';
    const fileReq = { method, urlPath: stripped, rawQuery, headers: req.headers };
    if (!this.queryMode) return serveFileServer(res, this.opts.varLogDir, windows, fileReq);

    const parsed = parseNodeLogQuery(parseQuery(rawQuery));
    if ('errors' in parsed) return httpError(res, aggregateString(parsed.errors), 400);
    const nlq = parsed.query;
    if (nlq) {
      if (stripped !== '/' && stripped !== '') return httpError(res, 'path not allowed in query mode', 406);
      const errs = await validateNodeLogQuery(nlq, { os: this.opts.os, varLogDir: this.opts.varLogDir });
      if (errs.length) return httpError(res, aggregateString(errs), 406);
      if (nlq.services.length > 0) return this.serveJournal(req, res, state, method, nlq);
      // filepath.ToSlash only rewrites backslashes where they are the separator.
      if (nlq.files.length === 1) fileReq.urlPath = windows ? nlq.files[0]!.replace(/\\/g, '/') : nlq.files[0]!;
    }
    return serveFileServer(res, this.opts.varLogDir, windows, fileReq);
  }

  /** journalServer.ServeHTTP. */
  private async serveJournal(req: IncomingMessage, res: ServerResponse, state: RequestState, method: string, q: NodeLogQuery): Promise<void> {
    if (method !== 'GET' && method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      return httpError(res, 'Method Not Allowed', 405);
    }
    res.setHeader('Content-Type', 'text/plain;charset=UTF-8');
    const gzip = req.headers['accept-encoding'] === 'gzip';
    if (gzip) res.setHeader('Content-Encoding', 'gzip');
    res.statusCode = 200;
    const sink = new ResponseSink(res, gzip);
    // The sandbox may build a node's journal on first use; a real kubelet's clock starts with a journal in place.
    await this.opts.journal?.ready?.();
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.opts.deadlineMs);
    const ctx: CopyContext = {
      opts: this.opts,
      version: this.version,
      sink,
      deadline: deadline.signal,
      stop: AbortSignal.any([deadline.signal, state.clientGone.signal]),
      record: state.record,
    };
    try {
      await copyNodeLogQuery(ctx, q);
    } finally {
      clearTimeout(timer);
    }
    await sink.end();
  }

  async shutdown(): Promise<void> {
    for (const c of this.inflight) c.abort();
  }
}

export async function startKubelet(opts: KubeletOptions): Promise<RunningKubelet> {
  const kubelet = new Kubelet(opts);
  // Go's default header limit is 1 MiB; Node's 16 KiB would turn long query strings into 431s.
  const server = http.createServer({ maxHeaderSize: 1 << 20, keepAliveTimeout: 1000 }, (req, res) => kubelet.handle(req, res));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await kubelet.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

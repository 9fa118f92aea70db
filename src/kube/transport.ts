import http from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError, describeBody, excerpt, fromNetworkError, kindForStatus, parseStatusMessage } from './errors.js';

export interface KubeRequest {
  method?: 'GET' | 'POST';
  /** Absolute API path with query string, e.g. "/api/v1/nodes?limit=500". */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Covers the whole exchange, body included: the response stream errors when it fires. */
  timeoutMs: number;
}

export interface KubeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  /** Cancels the request (and the body stream) now. */
  abort(): void;
  /**
   * What a failure while reading the body means: the caller's abort, the request timeout, or the network
   * (a reset, a short body). Body streams only say "aborted", which tells a model nothing.
   */
  describeError?(err: unknown): KubeError;
}

const USER_AGENT = 'kube-node-logs-mcp/0.1';
const MAX_RETRIES_429 = 2;
const MAX_RETRY_WAIT_MS = 5000;

/**
 * One HTTP(S) path to the apiserver for every call. client-node supplies the credentials (tokens, client
 * certs, exec plugins) per request; the connection pool is ours and kept alive, so a fan-out over many
 * nodes does not pay a TLS handshake per request (client-node's typed calls build a new agent each time).
 */
export class KubeTransport {
  readonly server: string;
  private readonly url: URL;
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeError('connection', 'The kubeconfig has no current cluster.');
    this.server = cluster.server.replace(/\/+$/, '');
    this.url = new URL(this.server);
  }

  private agentFor(opts: https.RequestOptions): http.Agent {
    const isHttps = this.url.protocol === 'https:';
    const key = createHash('sha256')
      .update(String(isHttps))
      .update(String(opts.ca ?? ''))
      .update(String(opts.cert ?? ''))
      .update(String(opts.key ?? ''))
      .update(String(opts.rejectUnauthorized))
      .update(String(opts.servername ?? ''))
      .digest('hex');
    let agent = this.agents.get(key);
    if (!agent) {
      // Credentials may rotate (exec plugins issuing client certs): keep the pool small and bounded.
      if (this.agents.size >= 4) {
        for (const a of this.agents.values()) a.destroy();
        this.agents.clear();
      }
      agent = isHttps
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 64,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            rejectUnauthorized: opts.rejectUnauthorized,
            servername: opts.servername,
          })
        : new http.Agent({ keepAlive: true, maxSockets: 64 });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Resolves when the response headers arrive. The caller must consume or abort the body. */
  async request(req: KubeRequest): Promise<KubeResponse> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.requestOnce(req);
      const method = req.method ?? 'GET';
      if (res.status === 429 && method === 'GET' && attempt < MAX_RETRIES_429) {
        const wait = Math.min(retryAfterMs(res.headers['retry-after']) ?? 1000, MAX_RETRY_WAIT_MS);
        res.abort();
        await sleep(wait, req.signal);
        continue;
      }
      return res;
    }
  }

  private async requestOnce(req: KubeRequest): Promise<KubeResponse> {
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    if (signal.aborted) throw abortError(req.signal, req.timeoutMs);
    const opts: https.RequestOptions = { headers: {} };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (err) {
      throw credentialError(err, this.kc, this.server);
    }
    const headers: Record<string, string> = {
      'User-Agent': USER_AGENT,
      ...(opts.headers as Record<string, string>),
      ...req.headers,
    };
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    if (req.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(req.body));
    }
    const target = new URL(this.url.pathname.replace(/\/+$/, '') + req.path, this.url);
    const lib = this.url.protocol === 'https:' ? https : http;
    return new Promise<KubeResponse>((resolve, reject) => {
      const clientReq = lib.request(target, {
        method: req.method ?? 'GET',
        headers,
        agent: this.agentFor(opts),
        signal,
      });
      const onAbort = () => {
        clientReq.destroy();
      };
      clientReq.on('response', (res) => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: res,
          abort: () => {
            clientReq.destroy();
            res.destroy();
          },
          describeError: (err) => {
            if (signal.aborted) return abortError(req.signal, req.timeoutMs);
            const code = String((err as NodeJS.ErrnoException)?.code ?? '');
            if (code.startsWith('Z_'))
              return new KubeError('protocol', `The answer was sent gzip-compressed but could not be decompressed (${code}); a proxy in between may have mangled it. Try again, or query through a path without that proxy.`);
            const e = fromNetworkError(err, this.server);
            // IncomingMessage reports a peer that hung up early as a bare "aborted".
            if (e.kind === 'aborted' || /^aborted$/i.test((err as Error)?.message ?? ''))
              return new KubeError('connection', `The connection to ${this.server} was closed before the answer was complete (reset, or a body shorter than announced). The answer is incomplete; try again.`);
            return e;
          },
        });
      });
      clientReq.on('error', (err) => {
        if (signal.aborted) reject(abortError(req.signal, req.timeoutMs));
        else reject(fromNetworkError(err, this.server));
      });
      signal.addEventListener('abort', onAbort, { once: true });
      clientReq.on('close', () => signal.removeEventListener('abort', onAbort));
      clientReq.end(req.body);
    });
  }

  /** A whole (small) response body as text, never more than maxBytes. */
  async requestText(req: KubeRequest, maxBytes: number): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; truncated: boolean }> {
    const res = await this.request(req);
    let read: { buffer: Buffer; truncated: boolean };
    try {
      read = await readBounded(res.body, maxBytes, res.abort);
    } catch (err) {
      if (req.signal?.aborted) throw abortError(req.signal, req.timeoutMs);
      if (err instanceof Error && (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR'))
        throw abortError(req.signal, req.timeoutMs);
      throw res.describeError ? res.describeError(err) : fromNetworkError(err, this.server);
    }
    return { status: res.status, headers: res.headers, text: read.buffer.toString('utf8'), truncated: read.truncated };
  }

  /** GET/POST JSON; any non-2xx answer becomes a KubeError carrying the Status message. */
  async json<T>(req: KubeRequest, maxBytes = 64 * 1024 * 1024): Promise<T> {
    const res = await this.requestText({ ...req, headers: { Accept: 'application/json', ...req.headers } }, maxBytes);
    if (res.status < 200 || res.status > 299) throw statusError(res.status, res.text, res.headers['retry-after'], res.headers['content-type']);
    if (res.truncated) throw new KubeError('protocol', `The API server's answer to ${req.path.split('?')[0]} was larger than ${maxBytes} bytes; narrow the request (e.g. a labelSelector or a smaller limit).`);
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new KubeError('protocol', `The API server answered ${req.path.split('?')[0]} with something that is not JSON: ${describeBody(res.text, res.headers['content-type'], 120)}`);
    }
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

export function statusError(status: number, body: string, retryAfter?: string | string[], contentType?: string): KubeError {
  const message = parseStatusMessage(body);
  const kind = kindForStatus(status);
  return new KubeError(kind, message ? excerpt(message, 400) : `HTTP ${status}: ${describeBody(body, contentType, 200) || 'no body'}`, status, message ? excerpt(message, 400) : undefined, retryAfterMs(retryAfter));
}

/**
 * applyToHTTPSOptions fails only while getting credentials. An exec plugin that exits non-zero is
 * reported by client-node as a bare Error(stderr), which says nothing about where it came from.
 */
function credentialError(err: unknown, kc: KubeConfig, server: string): KubeError {
  const exec = kc.getCurrentUser()?.exec as { command?: string } | undefined;
  const e = err as NodeJS.ErrnoException;
  if (!exec?.command || (e?.code === 'ENOENT' && /spawn/i.test(e.message ?? ''))) return fromNetworkError(err, server);
  const command = exec.command.split(/[\\/]/).pop() ?? exec.command;
  const said = excerpt(e?.message ?? String(err), 300);
  const parse = err instanceof SyntaxError;
  return new KubeError(
    'auth-plugin',
    parse
      ? `The kubeconfig's credential plugin "${command}" printed something that is not an ExecCredential (${said}). Check users[].user.exec in the kubeconfig and that the plugin's version matches its apiVersion.`
      : `Getting credentials from the kubeconfig's credential plugin "${command}" failed${said ? `: ${said}` : ' (it exited with an error and printed nothing)'}. Run the plugin by hand to see why (often a login that expired: log in again), or fix users[].user.exec in the kubeconfig.`,
  );
}

function abortError(callerSignal: AbortSignal | undefined, timeoutMs: number): KubeError {
  if (callerSignal?.aborted) return new KubeError('aborted', 'The request was cancelled by the caller.');
  return new KubeError('timeout', `No complete answer within ${Math.round(timeoutMs / 100) / 10} s.`);
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new KubeError('aborted', 'The request was cancelled by the caller.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new KubeError('aborted', 'The request was cancelled by the caller.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Reads a body into memory, never more than maxBytes: past it, the rest is not read and the request is aborted. */
export async function readBounded(body: AsyncIterable<Buffer>, maxBytes: number, abort: () => void): Promise<{ buffer: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      abort();
      return { buffer: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { buffer: Buffer.concat(chunks), truncated: false };
}

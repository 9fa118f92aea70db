import http from 'node:http';
import https from 'node:https';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { deadlineSignal } from '../limits/deadline.js';
import type { ClusterAccess } from './kubeconfig.js';
import { KubeConfigError } from './kubeconfig-error.js';
import { Credentials, type RequestCredentials } from './credentials.js';
import { routeFor, type Route } from './proxy-route.js';
import { checkRequestPath } from './node-name.js';
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
 * One HTTP(S) path to the apiserver for every call, chosen as kubectl chooses it: straight, or through the
 * cluster's proxy-url or the environment's proxy (see routeFor). Credentials come per request (Credentials:
 * tokens, token files, exec plugins, client certs); the connection pool is ours and kept alive, so a fan-out
 * over many nodes does not pay a TLS handshake (or a proxy CONNECT) per request.
 */
export class KubeTransport {
  readonly server: string;
  /** Which way requests go, for answers and check_node_log_support evidence. */
  readonly route: Route;
  private readonly url: URL;
  private readonly agents = new Map<string, http.Agent>();
  private readonly credentials: Credentials;

  /** `env`: where proxy settings (HTTPS_PROXY, NO_PROXY, …) are read from. */
  constructor(
    private readonly access: ClusterAccess,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.server = access.cluster.server.replace(/\/+$/, '');
    this.url = new URL(this.server);
    try {
      this.route = routeFor(this.url, access.cluster.proxyUrl, env);
    } catch (err) {
      // A proxy setting that cannot work is a configuration error: refuse to start, as for a bad kubeconfig.
      throw new KubeConfigError(`Cannot use the proxy for ${this.server}: ${(err as Error).message}. Fix it (http://, https://, socks5:// or socks5h://HOST:PORT) or unset it.`);
    }
    this.credentials = new Credentials(access);
  }

  /** Why requests carry no credentials at all, when they do not (a 401 then needs this advice, not "refresh your token"). */
  private anonymousRemedy(): string | undefined {
    if (this.url.protocol === 'http:')
      return `Credentials are never sent to a plain http:// server (kubectl does not send them either): use the cluster's https:// address, or point the server at a kubectl proxy, which adds them.`;
    if (!this.access.user)
      return `The kubeconfig's context ${JSON.stringify(this.access.context)} has no user, so requests went out anonymous. Give it one (kubectl config set-context ${this.access.context} --user=NAME) with a token, client certificate or exec plugin.`;
    return undefined;
  }

  private agentFor(tls: RequestCredentials['tls']): http.Agent {
    const isHttps = this.url.protocol === 'https:';
    const key = createHash('sha256')
      .update(String(isHttps))
      .update(String(tls.ca ?? ''))
      .update(String(tls.cert ?? ''))
      .update(String(tls.key ?? ''))
      .update(String(tls.rejectUnauthorized))
      .update(String(tls.servername ?? ''))
      .digest('hex');
    let agent = this.agents.get(key);
    if (!agent) {
      // Credentials may rotate (exec plugins issuing client certs): keep the pool small and bounded.
      if (this.agents.size >= 4) {
        for (const a of this.agents.values()) a.destroy();
        this.agents.clear();
      }
      agent = makeAgent(isHttps, this.route.proxy, { keepAlive: true, maxSockets: 64, ...(isHttps ? tls : {}) });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Resolves when the response headers arrive. The caller must consume or abort the body. */
  async request(req: KubeRequest): Promise<KubeResponse> {
    checkRequestPath(req.path);
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const { res, creds } = await this.requestOnce(req);
      const method = req.method ?? 'GET';
      if (res.status === 429 && method === 'GET' && attempt < MAX_RETRIES_429) {
        const wait = Math.min(retryAfterMs(res.headers['retry-after']) ?? 1000, MAX_RETRY_WAIT_MS);
        res.abort();
        await sleep(wait, req.signal);
        continue;
      }
      // A cached plugin credential the server no longer takes: client-go drops it and asks the plugin again.
      if (res.status === 401 && this.credentials.rejected(creds) && !refreshed && method === 'GET') {
        refreshed = true;
        res.abort();
        continue;
      }
      return res;
    }
  }

  private async requestOnce(req: KubeRequest): Promise<{ res: KubeResponse; creds: RequestCredentials }> {
    const signal = deadlineSignal(req.timeoutMs, req.signal);
    if (signal.aborted) throw abortError(req.signal, req.timeoutMs);
    // Bounded by the request's deadline: a credential plugin that never answers cannot hold the call.
    let creds: RequestCredentials;
    try {
      creds = await this.credentials.get(signal, req.timeoutMs, req.signal);
    } catch (err) {
      if (err instanceof KubeError) throw err;
      throw new KubeError('auth-plugin', `Getting credentials for user ${JSON.stringify(this.access.user?.name ?? '')} failed: ${excerpt((err as Error)?.message ?? String(err), 300)}. Check users[].user in the kubeconfig (${this.access.source}).`);
    }
    if (signal.aborted) throw abortError(req.signal, req.timeoutMs);
    const headers: Record<string, string | string[]> = {
      'User-Agent': USER_AGENT,
      ...creds.headers,
      ...req.headers,
    };
    if (req.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(req.body));
    }
    const target = new URL(this.url.pathname.replace(/\/+$/, '') + req.path, this.url);
    const lib = this.url.protocol === 'https:' ? https : http;
    const res = await new Promise<KubeResponse>((resolve, reject) => {
      const clientReq = lib.request(target, {
        method: req.method ?? 'GET',
        headers,
        agent: this.agentFor(creds.tls),
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
            const e = fromNetworkError(err, this.server, this.route);
            // IncomingMessage reports a peer that hung up early as a bare "aborted".
            if (e.kind === 'aborted' || /^aborted$/i.test((err as Error)?.message ?? ''))
              return new KubeError('connection', `The connection to ${this.server} was closed before the answer was complete (reset, or a body shorter than announced). The answer is incomplete; try again.`);
            return e;
          },
        });
      });
      clientReq.on('error', (err) => {
        if (signal.aborted) reject(abortError(req.signal, req.timeoutMs));
        else reject(fromNetworkError(err, this.server, this.route));
      });
      signal.addEventListener('abort', onAbort, { once: true });
      clientReq.on('close', () => signal.removeEventListener('abort', onAbort));
      clientReq.end(req.body);
    });
    return { res, creds };
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
      throw res.describeError ? res.describeError(err) : fromNetworkError(err, this.server, this.route);
    }
    return { status: res.status, headers: res.headers, text: read.buffer.toString('utf8'), truncated: read.truncated };
  }

  /** GET/POST JSON; any non-2xx answer becomes a KubeError carrying the Status message. */
  async json<T>(req: KubeRequest, maxBytes = 64 * 1024 * 1024): Promise<T> {
    const res = await this.requestText({ ...req, headers: { Accept: 'application/json', ...req.headers } }, maxBytes);
    if (res.status < 200 || res.status > 299) {
      const err = statusError(res.status, res.text, res.headers['retry-after'], res.headers['content-type']);
      const remedy = res.status === 401 ? this.anonymousRemedy() : undefined;
      throw remedy ? new KubeError(err.kind, err.message, err.status, err.statusMessage, err.retryAfterMs, remedy) : err;
    }
    if (res.truncated) throw new KubeError('protocol', `The API server's answer to ${req.path.split('?')[0]} was larger than ${maxBytes} bytes; narrow the request (e.g. a labelSelector or a smaller limit).`);
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new KubeError('protocol', `The API server answered ${req.path.split('?')[0]} with something that is not JSON: ${describeBody(res.text, res.headers['content-type'], 120)}`);
    }
  }

  close(): void {
    this.credentials.plugin?.close();
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
 * A pooled, kept-alive agent for the route: direct, an HTTP(S) proxy tunnelling with CONNECT (hpagent), or a
 * SOCKS5 proxy that resolves the server's name itself (socks5h, as kubectl does). TLS to the API server is
 * end to end in every case: the proxy sees only the tunnel.
 */
function makeAgent(isHttps: boolean, proxy: URL | undefined, opts: https.AgentOptions): http.Agent {
  if (!proxy) return isHttps ? new https.Agent(opts) : new http.Agent(opts);
  if (proxy.protocol.startsWith('socks')) return new SocksProxyAgent(proxy, opts);
  // Go's transport (kubectl) verifies an https:// proxy with the same TLS settings as the API server: its CA
  // and insecure-skip-tls-verify. The client certificate is kept for the API server alone.
  const ca = opts.ca === undefined ? undefined : (Array.isArray(opts.ca) ? opts.ca : [opts.ca]).map(String);
  const proxyRequestOptions = proxy.protocol === 'https:' ? { ca, rejectUnauthorized: opts.rejectUnauthorized } : undefined;
  const agent = isHttps ? new HttpsProxyAgent({ ...opts, proxy, proxyRequestOptions }) : new HttpProxyAgent({ ...opts, proxy, proxyRequestOptions });
  return proxy.protocol === 'https:' && isIP(proxy.hostname.replace(/^\[|\]$/g, '')) ? withoutIpServername(agent) : agent;
}

/**
 * hpagent sends the proxy's host name as the TLS server name of an https:// proxy, also when it is an IP
 * address, which Node 26 refuses ("Setting the TLS ServerName to an IP address is not permitted"); an IP is
 * never a valid SNI name. Its CONNECT request is made synchronously inside createConnection, so for that one
 * call the server name is set to '' there: no SNI, and the certificate is still checked against the proxy's address (an undefined name would make Node take it from the CONNECT Host header, the API server's name).
 */
function withoutIpServername<A extends http.Agent>(agent: A): A {
  const create = agent.createConnection.bind(agent) as (...args: unknown[]) => ReturnType<http.Agent['createConnection']>;
  agent.createConnection = ((...args: unknown[]) => {
    const request = https.request;
    https.request = ((o: https.RequestOptions, ...rest: never[]) => request({ ...o, servername: '' }, ...rest)) as typeof https.request;
    try {
      return create(...args);
    } finally {
      https.request = request;
    }
  }) as http.Agent['createConnection'];
  return agent;
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

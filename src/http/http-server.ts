import http from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Metrics } from '../metrics.js';
import { DEFAULT_SESSION_POLICY, SessionTable } from './sessions.js';
import { GENERATE_TOKEN_HINT, weakTokenProblem } from './auth-token.js';
import type { ClusterSessions } from './cluster-sessions.js';
import { clusterMcpHandler, isCancelled } from './cluster-transport.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Required whenever host is not loopback. */
  authToken?: string;
  /** Extra Host header values to accept (e.g. the in-cluster Service name), "name" or "name:port". */
  allowedHosts?: string[];
  /** A fresh MCP server per session; tools share limits through what the factory closes over. */
  makeServer: () => McpServer;
  metrics?: Metrics;
  maxBodyBytes?: number;
  maxSessions?: number;
  maxSessionsPerClient?: number;
  sessionIdleMs?: number;
  /** At the session cap, a session idle this long may be evicted for a new one (default 60 s). */
  sessionEvictIdleMs?: number;
  /** Request headers must arrive within this (default 15 s). */
  headersTimeoutMs?: number;
  /** A request body must arrive within this after the headers (default 30 s). */
  bodyTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Cluster mode (several replicas behind one Service, no affinity): a fresh stateless transport per
   * POST, sessions and cancellations shared through Redis.
   */
  cluster?: { sessions: ClusterSessions; maxInflight?: number };
  /** /readyz: undefined when ready, else why not. */
  notReady?: () => string | undefined;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time: compare fixed-length digests so neither length nor content leaks through timing. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
}

/** RFC 7235: the scheme is case-insensitive ("bearer", "BEARER"); one or more spaces before the token. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^bearer +(\S+) *$/i.exec(header ?? '');
  return m?.[1];
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function rpcError(res: http.ServerResponse, status: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code: -32000, message }, id: null }, headers);
}

/** Past the cap, the rest of an oversized body is read and dropped up to this much, then the socket is cut. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

type BodyResult = { ok: true; body: unknown } | { ok: false; status: number; message: string };

/**
 * Reads a JSON body of at most `max` bytes, keeping no more than that in memory. An oversized body is
 * drained before the 413 goes out: Node closes a connection whose request was not fully read, and a
 * client still sending then sees a reset instead of the 413.
 */
function readBody(req: http.IncomingMessage, max: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    // A body sent a byte at a time must not hold a connection (and its socket) open for ever.
    const timer = setTimeout(() => {
      resolve({ ok: false, status: 408, message: `Request body not received within ${timeoutMs / 1000} s; send the whole body at once.` });
      req.removeAllListeners('data');
    }, timeoutMs);
    req.once('close', () => clearTimeout(timer));
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(req.headers['content-length']);
    let over = Number.isFinite(declared) && declared > max;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (!over && size > max) {
        over = true;
        chunks.length = 0;
      }
      if (!over) chunks.push(chunk);
      else if (size > max + DISCARD_LIMIT) req.destroy(new Error(`request body over ${max + DISCARD_LIMIT} bytes: connection cut`));
    });
    req.on('end', () => {
      clearTimeout(timer);
      if (over) return resolve({ ok: false, status: 413, message: `Request body larger than ${max} bytes.` });
      try {
        resolve({ ok: true, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        resolve({ ok: false, status: 400, message: 'Request body is not valid JSON.' });
      }
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * Streamable HTTP for chat-ops. Stateful sessions, so that a client's notifications/cancelled reaches the
 * request it cancels (with `cluster`: stateless per request, sessions and cancels shared through Redis). Guards: Host/Origin checks against DNS rebinding, a bearer token whenever the
 * listener is reachable from other machines, a body cap, a session cap with idle expiry.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const loopback = isLoopbackHost(opts.host);
  if (!loopback && !opts.authToken)
    throw new Error(
      `Refusing to serve HTTP on ${opts.host} without a bearer token: set KUBE_NODE_LOGS_AUTH_TOKEN or --auth-token-file (only loopback addresses may run without one).`,
    );
  const weak = !loopback && opts.authToken ? weakTokenProblem(opts.authToken) : undefined;
  if (weak) throw new Error(`Refusing to serve HTTP on ${opts.host}: ${weak}. ${GENERATE_TOKEN_HINT}`);
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 30_000;
  const metrics = opts.metrics;
  const sessions = new SessionTable<Session>(
    {
      maxSessions: opts.maxSessions ?? DEFAULT_SESSION_POLICY.maxSessions,
      maxPerClient: opts.maxSessionsPerClient ?? DEFAULT_SESSION_POLICY.maxPerClient,
      idleMs: opts.sessionIdleMs ?? DEFAULT_SESSION_POLICY.idleMs,
      evictIdleMs: opts.sessionEvictIdleMs ?? DEFAULT_SESSION_POLICY.evictIdleMs,
    },
    (_id, s) => void closeTransport(s),
    (event) => {
      metrics?.httpSessionEvents.inc({ event });
      metrics?.httpSessionsOpen.set(sessions.size);
    },
  );
  const idleMs = sessions.policy.idleMs;
  let port = opts.port;

  const allowedHost = (hostHeader: string | undefined): boolean => {
    if (!hostHeader) return false;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
    if (!m) return false;
    const name = m[1]!.replace(/^\[|\]$/g, '');
    // An allowed-hosts entry with its own port ("svc:80", a Service port in front of ours) matches exactly;
    // every other name must come with our own port (or none).
    if (m[2] !== undefined && (opts.allowedHosts ?? []).some((h) => h.trim().toLowerCase() === `${name}:${m[2]}`)) return true;
    if (m[2] !== undefined && Number(m[2]) !== port) return false;
    if (isLoopbackHost(name)) return true;
    if (name === opts.host.toLowerCase()) return true;
    return (opts.allowedHosts ?? []).some((h) => h.trim().toLowerCase() === name);
  };
  const allowedOrigin = (origin: string | undefined): boolean => {
    if (origin === undefined) return true; // not a browser
    try {
      return allowedHost(new URL(origin).host);
    } catch {
      return false;
    }
  };

  const closeTransport = async (s: Session) => {
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  };
  const closeSession = async (id: string) => {
    const s = sessions.delete(id);
    if (s) await closeTransport(s);
  };

  const refuseBody = (req: http.IncomingMessage, res: http.ServerResponse, refused: { status: number; message: string }): void => {
    if (refused.status !== 408) return rpcError(res, refused.status, refused.message);
    // The rest of a slow body is not read: the connection cannot carry another request.
    metrics?.httpRequestTimeouts.inc({ phase: 'body' });
    res.setHeader('Connection', 'close');
    rpcError(res, 408, refused.message);
    res.once('finish', () => req.socket.destroy());
  };

  const sweeper = setInterval(() => {
    const now = Date.now();
    sessions.sweep(now);
  }, Math.min(idleMs, 60_000));
  sweeper.unref();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    // Kubelet probes and Prometheus address the pod by its IP, which no Host allow-list can know. Neither
    // route needs the Host check: /healthz tells nothing, and /metrics is behind the token whenever the
    // listener is reachable from other machines.
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      return res.end('ok\n');
    }
    if (url.pathname === '/readyz') {
      const why = opts.notReady?.();
      res.writeHead(why ? 503 : 200, { 'Content-Type': 'text/plain' });
      return res.end(why ? `not ready: ${why}\n` : 'ready\n');
    }
    const hostExempt = url.pathname === '/metrics' && opts.authToken !== undefined;
    if (!hostExempt && !allowedHost(req.headers.host)) return rpcError(res, 403, 'Invalid Host header.');
    if (!allowedOrigin(req.headers.origin as string | undefined)) return rpcError(res, 403, 'Invalid Origin header.');
    if (opts.authToken) {
      if (!tokenMatches(bearerToken(req.headers.authorization), opts.authToken)) return rpcError(res, 401, 'Missing or invalid bearer token.', { 'WWW-Authenticate': 'Bearer' });
    }
    if (url.pathname === '/metrics') {
      if (!opts.metrics) return rpcError(res, 404, 'Metrics are not enabled.');
      const text = await opts.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': opts.metrics.registry.contentType });
      return res.end(text);
    }
    if (url.pathname !== '/mcp') return rpcError(res, 404, 'Not found: the MCP endpoint is /mcp.');
    if (cluster) return cluster.handle(req, res);

    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    if (req.method === 'POST') {
      const parsed = await readBody(req, maxBody, bodyTimeoutMs);
      if (!parsed.ok) return refuseBody(req, res, parsed);
      if (sessionId) {
        const s = sessions.touch(sessionId);
        if (!s) return rpcError(res, 404, 'Unknown or expired session: start a new one with initialize.');
        await s.transport.handleRequest(req, res, parsed.body);
        // The SDK aborts a cancelled request but sends nothing more for it, so its POST stream would stay
        // open until the client goes away: one socket per cancel. Close it.
        for (const m of Array.isArray(parsed.body) ? parsed.body : [parsed.body]) if (isCancelled(m)) s.transport.closeSSEStream(m.params.requestId);
        return;
      }
      if (!isInitializeRequest(parsed.body)) return rpcError(res, 400, 'No session: the first request must be initialize.');
      const client = req.socket.remoteAddress ?? 'unknown';
      const admitted = sessions.admit(client);
      if (!admitted.ok) return rpcError(res, 503, admitted.message, { 'Retry-After': String(admitted.retryAfterSeconds) });
      const server = opts.makeServer();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.add(id, client, { transport, server });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await server.connect(transport);
      return transport.handleRequest(req, res, parsed.body);
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      const s = sessionId ? sessions.touch(sessionId) : undefined;
      if (!s) return rpcError(res, sessionId ? 404 : 400, sessionId ? 'Unknown or expired session.' : 'Missing Mcp-Session-Id header.');
      await s.transport.handleRequest(req, res);
      if (req.method === 'DELETE') await closeSession(sessionId!);
      return;
    }
    return rpcError(res, 405, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });
  };

  const cluster = opts.cluster && clusterMcpHandler({ ...opts.cluster, makeServer: opts.makeServer, readBody: (req) => readBody(req, maxBody, bodyTimeoutMs), refuseBody, rpcError });

  // connectionsCheckingInterval: how often Node enforces headersTimeout/requestTimeout (default 30 s).
  const server = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log?.(`http: ${(err as Error)?.message ?? String(err)}`);
      rpcError(res, 500, 'Internal error.');
    });
  });
  // Slow senders: headers must arrive within headersTimeoutMs; the body within bodyTimeoutMs (readBody); and
  // requestTimeout backs both (it covers receiving the request only, not the streamed answer).
  server.headersTimeout = opts.headersTimeoutMs ?? 15_000;
  server.requestTimeout = server.headersTimeout + bodyTimeoutMs + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${hostForUrl}:${port}/mcp`,
    port,
    async close() {
      clearInterval(sweeper);
      server.close();
      await Promise.all(sessions.ids().map(closeSession));
      await cluster?.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 5000);
        t.unref();
        server.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

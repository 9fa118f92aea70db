import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxRequestLog } from '../request-log.js';
import type { RequestRecord } from '../types.js';
import { KUBELET_PORT } from '../nodes.js';
import type { NodeRecord } from './node-store.js';
import { serviceUnavailable } from './status.js';
import { sendStatus } from './respond.js';

// Request headers a browser-like client may send that matter to the kubelet; Authorization never goes on.
const FORWARD_REQUEST = ['accept', 'accept-encoding', 'range', 'if-range', 'if-modified-since', 'if-none-match', 'user-agent', 'content-type', 'content-length'];

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'date']);

export interface ProxyContext {
  node: NodeRecord;
  /** Raw (still percent-encoded) path for the kubelet, starting with '/'. */
  upstreamPath: string;
  rawQuery: string;
  rec: RequestRecord;
  log: SandboxRequestLog;
  agent: http.Agent;
  latencyMs: number;
}

function refused(node: NodeRecord) {
  return serviceUnavailable(`error trying to reach service: dial tcp ${node.internalIP}:${KUBELET_PORT}: connect: connection refused`);
}

/** Redirects the kubelet issues point at its own paths; through the proxy they must stay under it. */
export function rewriteLocation(location: string, node: NodeRecord): string {
  const prefix = `/api/v1/nodes/${encodeURIComponent(node.name)}/proxy`;
  if (location.startsWith('/') && !location.startsWith('//')) return prefix + location;
  if (node.kubeletUrl && location.startsWith(node.kubeletUrl + '/')) return prefix + location.slice(node.kubeletUrl.length);
  return location;
}

function clientGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}

/** Relays one request to the node's kubelet, streaming both ways without buffering. */
export async function proxyToKubelet(req: IncomingMessage, res: ServerResponse, ctx: ProxyContext): Promise<void> {
  const { node } = ctx;
  if (!node.kubeletUrl) {
    sendStatus(res, refused(node));
    return;
  }
  if (node.fleet && ctx.latencyMs > 0) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ctx.latencyMs);
      res.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
    if (clientGone(res)) return;
  }
  const target = new URL(node.kubeletUrl);
  const headers: Record<string, string | string[]> = {};
  for (const h of FORWARD_REQUEST) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  const upstream = http.request({
    host: target.hostname,
    port: target.port,
    method: req.method,
    path: ctx.upstreamPath + (ctx.rawQuery ? `?${ctx.rawQuery}` : ''),
    headers,
    agent: ctx.agent,
  });
  ctx.log.dispatched(ctx.rec, ctx.upstreamPath);

  // The client leaving must reach the kubelet at once (it stops journalctl), so the socket is destroyed.
  res.once('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });

  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (!res.headersSent) {
      // Refused: the kubelet never saw the request. Anything else (e.g. our own abort) it did, and reports.
      if (err.code === 'ECONNREFUSED') ctx.log.undispatched(ctx.rec);
      if (!clientGone(res)) {
        sendStatus(res, err.code === 'ECONNREFUSED' ? refused(node) : serviceUnavailable(`error trying to reach service: ${err.message}`));
      }
    } else {
      res.destroy(err);
    }
  });

  upstream.on('response', (ur) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(ur.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      out[k] = k === 'location' && typeof v === 'string' ? rewriteLocation(v, node) : v;
    }
    res.writeHead(ur.statusCode ?? 502, ur.statusMessage, out);
    // A kubelet that resets mid-stream must not look like a complete response to the client.
    ur.on('aborted', () => res.destroy(new Error('upstream aborted')));
    ur.on('error', (e) => res.destroy(e));
    ur.pipe(res);
  });

  if (req.method === 'GET' || req.method === 'HEAD') {
    upstream.end();
  } else {
    req.pipe(upstream);
  }
}

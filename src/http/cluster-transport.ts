import type http from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ClusterSessions } from './cluster-sessions.js';

type CancelledNotification = { method: 'notifications/cancelled'; params: { requestId: string | number; reason?: string } };

export function isCancelled(m: unknown): m is CancelledNotification {
  const n = m as { method?: unknown; id?: unknown; params?: { requestId?: unknown } };
  return n?.method === 'notifications/cancelled' && n.id === undefined && (typeof n.params?.requestId === 'string' || typeof n.params?.requestId === 'number');
}

export interface ClusterMcpDeps {
  sessions: ClusterSessions;
  /** A fresh MCP server; tools share the limits through what the factory closes over. */
  makeServer: () => McpServer;
  /** Requests in flight on this replica before new ones get 503. */
  maxInflight?: number;
  readBody: (req: http.IncomingMessage) => Promise<{ ok: true; body: unknown } | { ok: false; status: number; message: string }>;
  /** Answers a body readBody refused (a 408 also closes the connection), as in single-replica mode. */
  refuseBody: (req: http.IncomingMessage, res: http.ServerResponse, refused: { status: number; message: string }) => void;
  rpcError: (res: http.ServerResponse, status: number, message: string, headers?: Record<string, string>) => void;
}

/**
 * /mcp for several replicas behind one Service without affinity: every POST gets a fresh stateless
 * transport and server (~1 ms), so any replica serves any request. Session ids are ours, kept in Redis;
 * a cancel or a DELETE reaching any replica is routed to the one running the request (ClusterSessions).
 * No GET stream: the server sends nothing that is not an answer or a notification about a request.
 * Host/Origin and token checks happen before this, as in single-replica mode.
 */
export function clusterMcpHandler(deps: ClusterMcpDeps): { handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>; close(): Promise<void> } {
  /** Per-request transports still open (closed at shutdown, which aborts their calls). */
  const perRequest = new Set<{ transport: StreamableHTTPServerTransport; server: McpServer }>();
  const maxInflight = deps.maxInflight ?? 256;
  const { sessions, rpcError } = deps;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const presented = req.headers['mcp-session-id'] as string | undefined;
    // Ours are UUIDs: anything else is unknown without asking Redis (and never becomes part of a key).
    const sessionId = presented === undefined || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(presented) ? presented : 'unknown';
    if (req.method === 'GET')
      return rpcError(res, 405, 'No GET stream here: every answer and notification comes on the POST that asked for it.', { Allow: 'POST, DELETE' });
    if (req.method === 'DELETE') {
      if (!sessionId) return rpcError(res, 400, 'Missing Mcp-Session-Id header.');
      if (sessionId === 'unknown') return rpcError(res, 404, 'Unknown or expired session.');
      const r = await sessions.end(sessionId);
      if (r === 'unknown') return rpcError(res, 404, 'Unknown or expired session.');
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'POST') return rpcError(res, 405, 'Method not allowed.', { Allow: 'POST, DELETE' });
    const parsed = await deps.readBody(req);
    if (!parsed.ok) return deps.refuseBody(req, res, parsed);
    const client = req.socket.remoteAddress ?? 'unknown';
    const batch = Array.isArray(parsed.body);
    const messages = (batch ? parsed.body : [parsed.body]) as JSONRPCMessage[];
    let sid: string;
    if (messages.some((m) => isInitializeRequest(m))) {
      if (messages.length !== 1) return rpcError(res, 400, 'initialize must be sent alone.');
      const params = (messages[0] as { params?: { protocolVersion?: string; clientInfo?: { name?: string } } }).params;
      const created = await sessions.create({ protocolVersion: params?.protocolVersion, clientName: params?.clientInfo?.name }, client);
      if (!created.ok) return rpcError(res, 503, created.message, { 'Retry-After': String(created.retryAfterSeconds) });
      sid = created.sid;
      res.setHeader('Mcp-Session-Id', sid);
    } else {
      if (!sessionId) return rpcError(res, 400, 'Missing Mcp-Session-Id header: the first request must be initialize.');
      if (sessionId === 'unknown' || (await sessions.touch(sessionId, client)) === 'unknown') return rpcError(res, 404, 'Unknown or expired session: start a new one with initialize.');
      sid = sessionId;
    }
    // A cancel can land on any replica: it goes to whichever one runs the request.
    const rest = messages.filter((m) => !isCancelled(m));
    for (const m of messages) if (isCancelled(m)) await sessions.cancel(sid, m.params.requestId, m.params.reason);
    if (rest.length === 0) {
      res.writeHead(202).end();
      return;
    }
    if (perRequest.size >= maxInflight)
      return rpcError(res, 503, `This replica is already serving ${maxInflight} requests; retry shortly.`, { 'Retry-After': '5' });
    const server = deps.makeServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const entry = { transport, server };
    perRequest.add(entry);
    const forget = rest.filter(isJSONRPCRequest).map((m) =>
      sessions.register(sid, m.id, {
        cancel: (reason) => {
          // Exactly what a local cancel does (the handler's signal aborts: queued work is skipped, the
          // kubelet request is aborted), then the stream the SDK would leave open is closed.
          transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: m.id, reason } });
          transport.closeSSEStream(m.id);
        },
      }),
    );
    // A response closed early (the client went away) aborts the call too: nothing could deliver its answer.
    res.on('close', () => {
      perRequest.delete(entry);
      for (const f of forget) f();
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, batch ? rest : rest[0]);
  };

  return {
    handle,
    async close() {
      await Promise.all(
        [...perRequest].map(async (e) => {
          await e.transport.close().catch(() => undefined);
          await e.server.close().catch(() => undefined);
        }),
      );
    },
  };
}

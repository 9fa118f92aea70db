import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  target: number;
  method: string;
  /** JSON-RPC method(s) of a POST body, for telling which replica served what. */
  rpc: string[];
  done: boolean;
}

/**
 * A load balancer without affinity: every HTTP request goes to the next replica in turn (not every
 * connection: keep-alive does not pin a client). A replica that refuses the connection is skipped, as a
 * balancer with passive health checks would. Streams (SSE) are piped through as they come. With
 * `keepClientAddress`, the replica sees the client's own address (as behind a Kubernetes Service, whose
 * kube-proxy rewrites only the destination): clients on 127.0.0.2, 127.0.0.3… are told apart.
 * Bodies are read whole before forwarding (to retry a refused connection), so a slow body never reaches a replica slowly.
 */
export class RoundRobinProxy {
  constructor(private readonly opts: { keepClientAddress?: boolean } = {}) {}

  readonly log: ProxiedRequest[] = [];
  targets: (number | undefined)[] = [];
  private next = 0;
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${this.port}/mcp`);
  }

  /** Requests whose response has not ended: a stream a replica left open shows here. */
  get open(): number {
    return this.log.filter((r) => !r.done).length;
  }

  private async forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let rpc: string[] = [];
    try {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      rpc = (Array.isArray(parsed) ? parsed : [parsed]).map((m: { method?: string; id?: unknown }) => m.method ?? 'response');
    } catch {
      /* not JSON */
    }
    for (let attempt = 0; attempt < this.targets.length; attempt++) {
      const index = this.next++ % this.targets.length;
      const port = this.targets[index];
      if (port === undefined) continue;
      const entry: ProxiedRequest = { target: index, method: req.method ?? '', rpc, done: false };
      const ok = await new Promise<boolean>((resolve) => {
        const localAddress = this.opts.keepClientAddress ? req.socket.remoteAddress : undefined;
        const up = http.request({ host: '127.0.0.1', port, localAddress, method: req.method, path: req.url, headers: req.headers, agent: false }, (upRes) => {
          this.log.push(entry);
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
          upRes.on('close', () => {
            entry.done = true;
            res.destroy();
          });
          resolve(true);
        });
        up.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED' && !res.headersSent) return resolve(false);
          entry.done = true;
          res.destroy();
          resolve(true);
        });
        // The client went away: so does the upstream request (as with any proxy).
        res.on('close', () => up.destroy());
        up.end(body);
      });
      if (ok) return;
    }
    res.writeHead(502).end('no replica reachable');
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

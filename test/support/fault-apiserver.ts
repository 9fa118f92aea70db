/**
 * A stand-in apiserver on 127.0.0.1 whose node proxy answers with canned faults, one node per fault.
 * The sandbox plays a well-behaved cluster; this plays the broken network, proxy and kubelet in between,
 * which the sandbox's own files are not meant to do. Every request is recorded, aborts included.
 */
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import type net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateServingCerts, type ServingCerts } from '../../src/sandbox/certs.js';
import { buildNodeObject, resolveNode } from '../../src/sandbox/nodes.js';

export interface FaultContext {
  node: string;
  /** Proxied sub-path after /proxy/, e.g. "logs/" or "logs/big.log". */
  sub: string;
  query: URLSearchParams;
  record: FaultRecord;
}

/** Answers one proxied request to a node. */
export type FaultHandler = (req: http.IncomingMessage, res: http.ServerResponse, ctx: FaultContext) => void | Promise<void>;

export interface FaultRecord {
  id: number;
  method: string;
  path: string;
  rawQuery: string;
  node?: string;
  sub?: string;
  range?: string;
  status?: number;
  start: number;
  end?: number;
  /** The client went away before the answer was complete. */
  aborted: boolean;
  /** Whether the request carried an Authorization header. */
  sentAuthorization?: boolean;
  /** CN of a verified TLS client certificate. */
  clientCertCN?: string;
}

export interface FaultApiserverOptions {
  /** Node name → how its proxy answers. Every node is a healthy-looking linux v1.36 node object. */
  nodes: Record<string, FaultHandler>;
  /** Labels per node (for labelSelector fan-out): exact "k=v" and bare "k" selectors are understood. */
  labels?: Record<string, Record<string, string>>;
  certs?: ServingCerts;
  /** Plain HTTP instead of HTTPS. */
  http?: boolean;
  /** Serve without checking the bearer token (as a kubectl proxy in front of a cluster does). */
  anonymous?: boolean;
  /** Also accept a TLS client certificate with CN=fault-admin signed by this CA (PEM), as kube-apiserver's --client-ca-file. */
  clientCaPem?: string;
  /** Changes a node object before it is served (e.g. hostile status fields a compromised kubelet wrote). */
  patchNode?: (name: string, node: Record<string, any>) => void;
  /** Runs before routing; return true when it answered (e.g. a 500 on the node list). */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse, record: FaultRecord) => boolean;
}

export interface KubeconfigVariant {
  token?: string;
  /** PEM of the CA to trust instead of the server's own. */
  caPem?: string;
  tlsServerName?: string;
  exec?: { command: string; args?: string[] };
  /** Server URL override (e.g. a port nobody listens on). */
  server?: string;
}

export interface FaultApiserver {
  url: string;
  port: number;
  certs: ServingCerts;
  token: string;
  records: FaultRecord[];
  /** Anything but GET/HEAD, SelfSubjectAccessReview POSTs excluded. */
  writes(): FaultRecord[];
  inFlight(): number;
  waitIdle(timeoutMs?: number): Promise<void>;
  /** Writes a kubeconfig for this server (or a variant of it) and returns its path. */
  kubeconfig(variant?: KubeconfigVariant): Promise<string>;
  /** Stops listening and cuts every open connection, as an apiserver going down does. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export const FAULT_TOKEN = 'fault-admin-token';

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return v === undefined ? k! in labels : labels[k!] === v;
  });
}

export async function startFaultApiserver(opts: FaultApiserverOptions): Promise<FaultApiserver> {
  const certs = opts.certs ?? (await generateServingCerts());
  const now = new Date();
  const names = Object.keys(opts.nodes);
  const nodeObjects = new Map(
    names.map((name, i) => {
      const resolved = resolveNode({ name, profile: 'healthy', labels: opts.labels?.[name] }, i);
      const obj = { apiVersion: 'v1', kind: 'Node', ...buildNodeObject(resolved, now, String(100 + i)) } as unknown as Record<string, unknown> & { metadata: { labels: Record<string, string> } };
      obj.metadata.labels = { ...obj.metadata.labels, ...opts.labels?.[name] };
      opts.patchNode?.(name, obj);
      return [name, obj] as const;
    }),
  );
  const records: FaultRecord[] = [];
  const sockets = new Set<net.Socket>();
  let open = 0;
  let idleWaiters: (() => void)[] = [];
  let nextId = 1;
  const dir = await mkdtemp(path.join(tmpdir(), 'fault-apiserver-'));

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const record: FaultRecord = { id: nextId++, method: req.method ?? 'GET', path: url.pathname, rawQuery: url.search.slice(1), range: req.headers.range, start: Date.now(), aborted: false, sentAuthorization: req.headers.authorization !== undefined };
    records.push(record);
    open++;
    res.on('close', () => {
      record.end = Date.now();
      record.status = res.statusCode;
      record.aborted = !res.writableFinished;
      open--;
      if (open === 0) {
        const w = idleWaiters;
        idleWaiters = [];
        for (const f of w) f();
      }
    });
    // Drain request bodies so POSTs complete.
    req.resume();
    const json = (code: number, body: string) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(body);
    };
    if (opts.intercept?.(req, res, record)) return;
    const tlsSocket = req.socket as tls.TLSSocket;
    if (opts.clientCaPem && tlsSocket.authorized) record.clientCertCN = String(tlsSocket.getPeerCertificate().subject?.CN ?? '');
    const byCert = record.clientCertCN === 'fault-admin';
    if (!opts.anonymous && !byCert && req.headers.authorization !== `Bearer ${FAULT_TOKEN}`) return json(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (url.pathname === '/api/v1/nodes') {
      const selector = url.searchParams.get('labelSelector');
      const items = [...nodeObjects.values()].filter((n) => matchesSelector(n.metadata.labels, selector));
      return json(200, JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '1000' }, items }));
    }
    if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      return json(201, JSON.stringify({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', status: { allowed: true } }));
    const m = /^\/api\/v1\/nodes\/([^/]+)(?:\/proxy\/(.*))?$/.exec(url.pathname);
    const node = m ? decodeURIComponent(m[1]!) : undefined;
    if (!m || !node || !nodeObjects.has(node)) return json(404, status(404, 'NotFound', `nodes "${node ?? ''}" not found`));
    if (m[2] === undefined) return json(200, JSON.stringify(nodeObjects.get(node)));
    record.node = node;
    record.sub = m[2];
    if (m[2] === 'configz')
      return json(200, JSON.stringify({ kubeletconfig: { enableDebuggingHandlers: true, enableSystemLogHandler: true, enableSystemLogQuery: true, featureGates: {} } }));
    try {
      await opts.nodes[node]!(req, res, { node, sub: m[2], query: url.searchParams, record });
    } catch (err) {
      res.destroy(err as Error);
    }
  };

  const server = opts.http ? http.createServer(handler) : https.createServer({ cert: certs.certPem, key: certs.keyPem, ...(opts.clientCaPem ? { ca: opts.clientCaPem, requestCert: true, rejectUnauthorized: false } : {}) }, handler);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // TLS handshakes that fail on purpose (wrong CA tests) must not surface as errors here.
  server.on('tlsClientError', () => undefined);
  server.on('clientError', (_e, s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = `${opts.http ? 'http' : 'https'}://127.0.0.1:${port}`;

  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };

  return {
    url,
    port,
    certs,
    token: FAULT_TOKEN,
    records,
    writes: () => records.filter((r) => r.method !== 'GET' && r.method !== 'HEAD' && !r.path.endsWith('/selfsubjectaccessreviews')),
    inFlight: () => open,
    waitIdle: (timeoutMs = 10_000) =>
      open === 0
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`fault apiserver not idle: ${open} open`)), timeoutMs);
            idleWaiters.push(() => {
              clearTimeout(t);
              resolve();
            });
          }),
    async kubeconfig(v: KubeconfigVariant = {}) {
      const q = JSON.stringify;
      const caFile = path.join(dir, `ca-${nextId}-${Math.random().toString(36).slice(2)}.crt`);
      await writeFile(caFile, v.caPem ?? certs.caPem);
      const user = v.exec
        ? `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${q(v.exec.command)}\n      args: ${q(v.exec.args ?? [])}\n      interactiveMode: Never\n`
        : `    token: ${q(v.token ?? FAULT_TOKEN)}\n`;
      const text =
        `apiVersion: v1\nkind: Config\nclusters:\n- name: fault\n  cluster:\n    server: ${q(v.server ?? url)}\n` +
        (opts.http ? '' : `    certificate-authority: ${q(caFile)}\n`) +
        (v.tlsServerName ? `    tls-server-name: ${q(v.tlsServerName)}\n` : '') +
        `users:\n- name: fault-user\n  user:\n${user}contexts:\n- name: fault\n  context:\n    cluster: fault\n    user: fault-user\ncurrent-context: fault\n`;
      const file = path.join(dir, `kubeconfig-${records.length}-${Math.random().toString(36).slice(2)}`);
      await writeFile(file, text, { mode: 0o600 });
      return file;
    },
    down: stop,
    up: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    }),
    async close() {
      if (server.listening) await stop();
      else for (const s of sockets) s.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A log answer: journal queries get the text, file paths honour a suffix Range like the kubelet's file server. */
export function serveLog(text: string | Buffer, opts: { contentType?: string } = {}): FaultHandler {
  const body = typeof text === 'string' ? Buffer.from(text) : text;
  return (req, res, ctx) => {
    const type = opts.contentType ?? 'text/plain; charset=utf-8';
    const range = /^bytes=-(\d+)$/.exec(req.headers.range ?? '');
    if (ctx.sub !== 'logs/' && range) {
      const n = Math.min(Number(range[1]), body.length);
      const start = body.length - n;
      res.writeHead(206, { 'Content-Type': type, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Content-Length': n });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
    res.end(body);
  };
}

/** A handler that keeps writing `chunk` every `everyMs` until the client leaves or `forMs` passed. */
export function drip(chunk: string, everyMs: number, forMs = Infinity, after?: (res: http.ServerResponse) => void): FaultHandler {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.flushHeaders();
    const started = Date.now();
    const t = setInterval(() => {
      if (Date.now() - started >= forMs) {
        clearInterval(t);
        if (after) after(res);
        else res.end();
        return;
      }
      res.write(chunk);
    }, everyMs);
    res.on('close', () => clearInterval(t));
  };
}

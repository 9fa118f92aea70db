import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ServingCerts } from '../certs.js';
import type { SandboxRequestLog } from '../request-log.js';
import type { RequestRecord } from '../types.js';
import { authenticate, authorize, impersonate, verbFor, type Attributes, type Tokens, type User } from './auth.js';
import { aggregated, apiGroupList, apiVersions, authzGroupDoc, authzV1Resources, AUTHZ_GROUP, coreV1Resources, wantsAggregated, wantsTable } from './discovery.js';
import { ListError, nodeTable, type NodeStore } from './node-store.js';
import { proxyToKubelet } from './proxy.js';
import { countBytes, sendJson, sendStatus, sendText } from './respond.js';
import { reviewSelfAccess } from './ssar.js';
import { badRequest, forbidden, internalError, methodNotAllowed, nodeNotFound, notFoundGeneric, status, unauthorized } from './status.js';

export interface ApiserverOptions {
  certs: ServingCerts;
  tokens: Tokens;
  store: NodeStore;
  log: SandboxRequestLog;
  /** Delay before relaying to fleet kubelets. */
  fleetLatencyMs?: number;
  port?: number;
}

export interface RunningApiserver {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const GIT_VERSION = 'v1.36.1';
const MAX_BODY = 3 * 1024 * 1024;

/** What kube-apiserver's RequestInfoFactory makes of a path. */
type RequestInfo =
  | { resource: false; path: string }
  | {
      resource: true;
      group: string;
      version: string;
      namespace?: string;
      resourceName: string;
      name?: string;
      subresource?: string;
      /** Raw path after /proxy for node proxy requests, without the leading slash. */
      proxyRest?: string;
      watch: boolean;
    };

class BadPath extends Error {}

function decodeSeg(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BadPath(`invalid URL escape ${JSON.stringify(s.slice(0, 64))}`);
  }
}

function requestInfo(rawPath: string, query: URLSearchParams): RequestInfo {
  const rawSegs = rawPath.split('/').slice(1);
  const segs = rawSegs.filter((s) => s !== '').map(decodeSeg);
  let rest: string[];
  let group = '';
  let version: string;
  let restRawStart: number;
  if (segs[0] === 'api' && segs.length >= 3) {
    version = segs[1]!;
    rest = segs.slice(2);
    restRawStart = 2;
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
    restRawStart = 3;
  } else {
    return { resource: false, path: segs.length ? '/' + segs.join('/') : '/' };
  }
  let watch = query.get('watch') === 'true' || query.get('watch') === '1';
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
    restRawStart++;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
    restRawStart += 2;
  }
  const info: RequestInfo = { resource: true, group, version, namespace, resourceName: rest[0]!, name: rest[1], subresource: rest[2], watch };
  if (rest[2] === 'proxy') {
    // Keep the tail exactly as sent (escapes and trailing slash matter to the kubelet's file server).
    info.proxyRest = rawSegs.slice(restRawStart + 3).join('/');
  }
  return info;
}

function attributesFor(method: string, info: RequestInfo): Attributes {
  if (!info.resource) return { kind: 'nonResource', verb: verbFor(method), path: info.path };
  const sub = info.subresource;
  return {
    kind: 'resource',
    verb: verbFor(method, { collection: info.name === undefined, watch: info.watch }),
    group: info.group,
    resource: info.resourceName,
    subresource: sub,
    name: info.name,
    namespace: info.namespace,
  };
}

function forbiddenFor(user: User, a: Attributes) {
  if (a.kind === 'nonResource') return status(403, 'Forbidden', `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"`, {});
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const s = forbidden(user.name, a.verb, resource, a.name);
  if (a.group !== '' || a.namespace) {
    const subject = a.name === undefined ? a.resource : `${a.resource}${a.group ? '.' + a.group : ''} "${a.name}"`;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    s.message = `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
    s.details = { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource };
  }
  return s;
}

const NON_RESOURCE_GET = new Set(['/version', '/healthz', '/livez', '/readyz', '/api', '/apis', `/apis/${AUTHZ_GROUP}`, `/apis/${AUTHZ_GROUP}/v1`, '/api/v1']);

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function extractHeaders(req: IncomingMessage): RequestRecord['headers'] {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
  const h: RequestRecord['headers'] = {};
  const set = (k: keyof RequestRecord['headers'], v: string | undefined) => {
    if (v !== undefined) h[k] = v;
  };
  set('range', one(req.headers.range));
  set('acceptEncoding', one(req.headers['accept-encoding']));
  set('accept', one(req.headers.accept));
  set('userAgent', one(req.headers['user-agent']));
  set('contentType', one(req.headers['content-type']));
  return h;
}

export async function startApiserver(o: ApiserverOptions): Promise<RunningApiserver> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let serverAddress = '127.0.0.1:0';

  async function handle(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, rawPath: string, rawQuery: string): Promise<void> {
    const method = req.method ?? 'GET';
    let user = authenticate(req.headers.authorization, o.tokens);
    if (user) rec.user = user.name;
    const query = new URLSearchParams(rawQuery);
    let info: RequestInfo;
    try {
      info = requestInfo(rawPath, query);
    } catch (e) {
      if (e instanceof BadPath) return sendStatus(res, badRequest(e.message));
      throw e;
    }
    if (!user) return sendStatus(res, unauthorized());
    const imp = impersonate(user, req.headers);
    if (imp.asked) rec.impersonated = imp.asked;
    if (imp.error) return sendStatus(res, status(imp.error.code, imp.error.code === 400 ? 'BadRequest' : 'Forbidden', imp.error.message));
    if (imp.as) user = imp.as;

    if (info.resource && info.group === '' && info.version === 'v1' && info.resourceName === 'nodes' && info.subresource === 'proxy' && info.name) {
      rec.node = info.name;
      rec.proxyPath = info.proxyRest ?? '';
    }
    const attrs = attributesFor(method, info);
    const decision = authorize(user, attrs);
    if (!decision.allowed) return sendStatus(res, forbiddenFor(user, attrs));

    const isRead = method === 'GET' || method === 'HEAD';
    if (!info.resource) {
      if (!NON_RESOURCE_GET.has(info.path)) return sendStatus(res, notFoundGeneric());
      if (!isRead) return sendStatus(res, methodNotAllowed());
      return serveNonResource(req, res, info.path);
    }
    const { group, version, resourceName, name, subresource, namespace } = info;
    if (group === AUTHZ_GROUP && version === 'v1' && resourceName === 'selfsubjectaccessreviews' && !name && !namespace) {
      if (method !== 'POST') return sendStatus(res, methodNotAllowed());
      const body = await readBody(req);
      if (body === undefined) return sendStatus(res, status(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      const r = reviewSelfAccess(user, body, req.headers['content-type']);
      return sendJson(res, r.code, r.body);
    }
    if (group !== '' || version !== 'v1' || resourceName !== 'nodes' || namespace) return sendStatus(res, notFoundGeneric());
    if (name === undefined) {
      if (!isRead) return sendStatus(res, methodNotAllowed());
      return info.watch ? watchNodes(req, res, query) : listNodes(req, res, query);
    }
    const node = o.store.get(name);
    if (subresource === 'proxy') {
      if (!node) return sendStatus(res, nodeNotFound(name));
      o.log.proxying(rec, name, info.proxyRest ?? '');
      return proxyToKubelet(req, res, {
        node,
        upstreamPath: '/' + (info.proxyRest ?? ''),
        rawQuery,
        rec,
        log: o.log,
        agent,
        latencyMs: o.fleetLatencyMs ?? 0,
      });
    }
    if (subresource !== undefined && subresource !== 'status') return sendStatus(res, notFoundGeneric());
    if (!isRead) return sendStatus(res, methodNotAllowed());
    if (!node) return sendStatus(res, nodeNotFound(name));
    const tableVersion = wantsTable(req.headers.accept);
    if (tableVersion) {
      const t = nodeTable([node.object], { resourceVersion: node.object.metadata.resourceVersion }, tableVersion, query.get('includeObject') ?? undefined);
      return sendJson(res, 200, t, `application/json;as=Table;v=${tableVersion};g=meta.k8s.io`);
    }
    return sendJson(res, 200, { kind: 'Node', apiVersion: 'v1', ...node.object });
  }

  function serveNonResource(req: IncomingMessage, res: ServerResponse, path: string): void {
    const agg = wantsAggregated(req.headers.accept);
    const aggType = (v: string) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
    switch (path) {
      case '/version':
        return sendJson(res, 200, {
          major: '1',
          minor: '36',
          emulationMajor: '1',
          emulationMinor: '36',
          minCompatibilityMajor: '1',
          minCompatibilityMinor: '35',
          gitVersion: GIT_VERSION,
          gitCommit: '5b3b1c0a9e4f0d1d6c9a4c2b8e7f6a5d4c3b2a19',
          gitTreeState: 'clean',
          buildDate: '2026-10-14T09:12:47Z',
          goVersion: 'go1.26.2',
          compiler: 'gc',
          platform: 'linux/amd64',
        });
      case '/healthz':
      case '/livez':
      case '/readyz':
        return sendText(res, 200, 'ok');
      case '/api':
        return agg ? sendJson(res, 200, aggregated(true, agg), aggType(agg)) : sendJson(res, 200, apiVersions(serverAddress));
      case '/apis':
        return agg ? sendJson(res, 200, aggregated(false, agg), aggType(agg)) : sendJson(res, 200, apiGroupList());
      case '/api/v1':
        return sendJson(res, 200, coreV1Resources());
      case `/apis/${AUTHZ_GROUP}`:
        return sendJson(res, 200, authzGroupDoc());
      case `/apis/${AUTHZ_GROUP}/v1`:
        return sendJson(res, 200, authzV1Resources());
    }
  }

  function listNodes(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    let result;
    try {
      result = o.store.list({
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        limit: query.get('limit') ?? undefined,
        continue: query.get('continue') ?? undefined,
      });
    } catch (e) {
      if (e instanceof ListError) return sendStatus(res, badRequest(e.message));
      throw e;
    }
    const metadata = {
      resourceVersion: String(o.store.resourceVersion),
      ...(result.continue ? { continue: result.continue, remainingItemCount: result.remainingItemCount } : {}),
    };
    const tableVersion = wantsTable(req.headers.accept);
    if (tableVersion) {
      const t = nodeTable(result.items, metadata, tableVersion, query.get('includeObject') ?? undefined);
      return sendJson(res, 200, t, `application/json;as=Table;v=${tableVersion};g=meta.k8s.io`);
    }
    sendJson(res, 200, { kind: 'NodeList', apiVersion: 'v1', metadata, items: result.items });
  }

  /** Nodes never change in the sandbox: a watch sends ADDED for each match, then idles until timeout or hang-up. */
  function watchNodes(_req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    let result;
    try {
      result = o.store.list({ labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined });
    } catch (e) {
      if (e instanceof ListError) return sendStatus(res, badRequest(e.message));
      throw e;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    for (const item of result.items) res.write(JSON.stringify({ type: 'ADDED', object: { kind: 'Node', apiVersion: 'v1', ...item } }) + '\n');
    const seconds = Number(query.get('timeoutSeconds') ?? '');
    if (seconds > 0) {
      const t = setTimeout(() => res.end(), seconds * 1000);
      res.once('close', () => clearTimeout(t));
    }
  }

  const server = https.createServer({ key: o.certs.keyPem, cert: o.certs.certPem, maxHeaderSize: 1 << 20 }, (req, res) => {
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    const rec = o.log.begin({ method: req.method ?? 'GET', path: rawPath, rawQuery, headers: extractHeaders(req) });
    const bytes = countBytes(res);
    const method = req.method ?? 'GET';
    res.once('close', () => {
      const isWrite = method !== 'GET' && method !== 'HEAD' && !/\/selfsubjectaccessreviews\/?$/.test(rawPath);
      o.log.end(rec, { status: res.statusCode, bytes: bytes(), aborted: !res.writableFinished }, isWrite);
    });
    req.on('error', () => res.destroy());
    handle(req, res, rec, rawPath, rawQuery).catch((e: unknown) => {
      if (!res.headersSent) sendStatus(res, internalError((e as Error)?.message ?? String(e)));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;

  // Malformed requests never reach the handler; still answer them with a Status, as the rest of the API does.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const s = tooLarge
      ? status(431, 'RequestHeaderFieldsTooLarge', 'Request Header Fields Too Large')
      : badRequest(`malformed HTTP request: ${err.code ?? err.message}`);
    const body = JSON.stringify(s) + '\n';
    socket.end(
      `HTTP/1.1 ${s.code} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  serverAddress = `127.0.0.1:${port}`;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

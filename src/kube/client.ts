import type { V1Node, V1NodeList } from '@kubernetes/client-node';
import { KubeError } from './errors.js';
import { KubeTransport, type KubeResponse } from './transport.js';
import type { Route } from './proxy-route.js';
import { nodeApiPath } from './node-name.js';
import type { Semaphore } from '../limits/semaphore.js';

export interface KubeClientOptions {
  /** Timeout of ordinary API calls. */
  apiTimeoutMs: number;
  /** Bound on ordinary API calls in flight and waiting (node log requests have their own scheduler). */
  apiLimiter?: Semaphore;
}

export interface AccessReview {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** The kubelet configuration fields node log query depends on, as /configz reports them. */
export interface KubeletLogConfigz {
  enableDebuggingHandlers?: boolean;
  enableSystemLogHandler?: boolean;
  enableSystemLogQuery?: boolean;
  featureGates?: Record<string, boolean>;
}

/**
 * The only way the rest of the server talks to a cluster: a few typed calls and a raw streaming GET
 * for the node proxy. Read-only apart from SelfSubjectAccessReview (which creates nothing persistent).
 */
export class KubeClient {
  constructor(
    readonly transport: KubeTransport,
    private readonly opts: KubeClientOptions,
  ) {}

  private api<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.opts.apiLimiter ? this.opts.apiLimiter.run(fn, signal) : fn();
  }

  get server(): string {
    return this.transport.server;
  }

  /** Direct or through which proxy, as kubectl would route it. */
  get route(): Route {
    return this.transport.route;
  }

  async listNodes(q: { labelSelector?: string; limit?: number; continueToken?: string }, signal?: AbortSignal): Promise<V1NodeList> {
    const params = new URLSearchParams();
    if (q.labelSelector) params.set('labelSelector', q.labelSelector);
    if (q.limit) params.set('limit', String(q.limit));
    if (q.continueToken) params.set('continue', q.continueToken);
    const qs = params.toString();
    const list = await this.api(() => this.transport.json<V1NodeList>({ path: `/api/v1/nodes${qs ? `?${qs}` : ''}`, signal, timeoutMs: this.opts.apiTimeoutMs }), signal);
    // The wire JSON says "continue"; client-node's model type calls it _continue. Callers use the model name.
    const meta = list.metadata as (V1NodeList['metadata'] & { continue?: string }) | undefined;
    if (meta && meta.continue !== undefined && meta._continue === undefined) meta._continue = meta.continue;
    return list;
  }

  async readNode(name: string, signal?: AbortSignal): Promise<V1Node> {
    return this.api(() => this.transport.json<V1Node>({ path: nodeApiPath(name), signal, timeoutMs: this.opts.apiTimeoutMs }), signal);
  }

  /** Can the current user `get nodes/proxy` (optionally for one node)? */
  async reviewNodeProxyAccess(node: string | undefined, signal?: AbortSignal): Promise<AccessReview> {
    if (node !== undefined) nodeApiPath(node); // the name goes into the review: refuse a bad one here too
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'proxy', ...(node ? { name: node } : {}) } },
    };
    const res = await this.api(
      () =>
        this.transport.json<{ status?: AccessReview }>({
          method: 'POST',
          path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          body: JSON.stringify(body),
          signal,
          timeoutMs: this.opts.apiTimeoutMs,
        }),
      signal,
    );
    return { allowed: Boolean(res.status?.allowed), denied: res.status?.denied, reason: res.status?.reason, evaluationError: res.status?.evaluationError };
  }

  async getKubeletConfigz(node: string, signal?: AbortSignal): Promise<KubeletLogConfigz> {
    const res = await this.api(
      () =>
        this.transport.json<{ kubeletconfig?: KubeletLogConfigz }>(
          { path: nodeApiPath(node, '/proxy/configz'), signal, timeoutMs: this.opts.apiTimeoutMs },
          4 * 1024 * 1024,
        ),
      signal,
    );
    if (!res || typeof res.kubeletconfig !== 'object' || res.kubeletconfig === null)
      throw new KubeError('protocol', `The kubelet on ${node} answered /configz without a kubeletconfig object.`);
    return res.kubeletconfig;
  }

  /**
   * GET through the node proxy, streaming. `path` is the full API path (from the query planner), e.g.
   * "/api/v1/nodes/n/proxy/logs/?query=kubelet&tailLines=10". The status is returned, not thrown: log
   * answers need their body read to tell the kubelet's cases apart.
   */
  async proxyGet(path: string, opts: { range?: string; signal?: AbortSignal; timeoutMs: number }): Promise<KubeResponse> {
    const headers: Record<string, string> = { Accept: 'text/plain, */*' };
    if (opts.range) headers.Range = opts.range;
    return this.transport.request({ path, headers, signal: opts.signal, timeoutMs: opts.timeoutMs });
  }

  close(): void {
    this.transport.close();
  }
}

import type { KubeClient } from './client.js';

/** The KubeClient methods the tools call; all are async, so a call can wait for the client to exist. */
const ASYNC_METHODS = ['listNodes', 'readNode', 'reviewNodeProxyAccess', 'getKubeletConfigz', 'proxyGet'] as const;

export interface LazyKube {
  kube: KubeClient;
  /** The client if it was ever built, without building it. */
  loaded(): KubeClient | undefined;
  /** Builds the client if needed (a failure is thrown, and retried by the next call). */
  ready(): Promise<KubeClient>;
}

/**
 * A KubeClient whose construction (importing the cluster access modules, reading the kubeconfig, and for
 * --demo starting the sandbox) waits for the first call that needs the cluster, so
 * that initialize and tools/list are answered without it. A failed build (a bad kubeconfig) is retried on
 * the next call: the user may fix the file without restarting the assistant.
 */
export function lazyKube(build: () => Promise<KubeClient>): LazyKube {
  let client: KubeClient | undefined;
  let pending: Promise<KubeClient> | undefined;
  const ready = (): Promise<KubeClient> => {
    if (client) return Promise.resolve(client);
    pending ??= build().then(
      (c) => (client = c),
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
  const target: Record<string, unknown> = {};
  for (const name of ASYNC_METHODS)
    target[name] = async (...args: unknown[]) => {
      const c = await ready();
      return (c[name] as (...a: unknown[]) => unknown).apply(c, args);
    };
  const kube = new Proxy(target, {
    get(t, prop) {
      if (client) {
        const v = (client as unknown as Record<PropertyKey, unknown>)[prop];
        return typeof v === 'function' ? v.bind(client) : v;
      }
      if (typeof prop === 'symbol' || prop === 'then') return undefined; // not a thenable; inspection
      if (prop in t) return t[prop];
      // A synchronous member (server, transport, close) before the client exists would silently be
      // undefined: say so, so whoever adds such a call knows to await a method instead.
      throw new Error(`KubeClient.${String(prop)} used before the cluster client was loaded: only ${ASYNC_METHODS.join(', ')} load it.`);
    },
  }) as unknown as KubeClient;
  return { kube, loaded: () => client, ready };
}

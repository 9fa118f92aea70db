import type { ServerConfig } from '../config.js';
import { KubeClient } from './client.js';
import { loadClusterAccess } from './kubeconfig.js';
import { KubeTransport } from './transport.js';
import { Semaphore } from '../limits/semaphore.js';

/** Builds the cluster client from the server configuration (kubeconfig, context) and the environment (proxies). */
export function connectKube(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): KubeClient {
  const access = loadClusterAccess({ kubeconfig: config.kubeconfig, context: config.context, env });
  return new KubeClient(new KubeTransport(access, env), {
    apiTimeoutMs: config.apiTimeoutMs,
    apiLimiter: new Semaphore(config.maxConcurrency, config.maxQueue),
  });
}

import type { ServerConfig } from '../config.js';
import { KubeClient } from './client.js';
import { loadKubeConfig } from './kubeconfig.js';
import { KubeTransport } from './transport.js';
import { Semaphore } from '../limits/semaphore.js';

/** Builds the cluster client from the server configuration (kubeconfig, context). */
export function connectKube(config: ServerConfig, env: NodeJS.ProcessEnv = process.env): KubeClient {
  const kc = loadKubeConfig({ kubeconfig: config.kubeconfig, context: config.context, env });
  return new KubeClient(new KubeTransport(kc), {
    apiTimeoutMs: config.apiTimeoutMs,
    apiLimiter: new Semaphore(config.maxConcurrency, config.maxQueue),
  });
}

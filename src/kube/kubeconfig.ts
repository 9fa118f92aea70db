import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { isUnsetPlaceholder } from '../config.js';

export class KubeConfigError extends Error {}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * Loads cluster access the way kubectl users expect: --kubeconfig, else KUBECONFIG (several paths),
 * else ~/.kube/config, else the in-cluster service account. Every failure names what was tried and the fix,
 * because "No active cluster!" from deep inside the client tells a model nothing.
 */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv }): KubeConfig {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  const explicit = isUnsetPlaceholder(opts.kubeconfig) ? undefined : opts.kubeconfig;
  const tried: string[] = [];
  try {
    if (explicit) {
      const files = explicit.split(path.delimiter).filter(Boolean).map(expandHome);
      const existing = files.filter((f) => fs.existsSync(f));
      if (existing.length === 0)
        throw new KubeConfigError(
          `kubeconfig ${files.join(path.delimiter)} does not exist. Pass --kubeconfig with the path of a kubeconfig file (or set KUBECONFIG).`,
        );
      kc.loadFromFile(existing[0]!);
      // kubectl's merge rule: the first file that defines a name wins (client-node's mergeConfig throws instead).
      for (const f of existing.slice(1)) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        for (const c of more.clusters) if (!kc.getCluster(c.name)) kc.addCluster(c);
        for (const u of more.users) if (!kc.getUser(u.name)) kc.addUser(u);
        for (const c of more.contexts) if (!kc.getContextObject(c.name)) kc.addContext(c);
        if (!kc.getCurrentContext()) kc.setCurrentContext(more.getCurrentContext());
      }
      tried.push(existing.join(path.delimiter));
    } else {
      const home = path.join(os.homedir(), '.kube', 'config');
      const saToken = '/var/run/secrets/kubernetes.io/serviceaccount/token';
      if (fs.existsSync(home)) {
        kc.loadFromFile(home);
        tried.push(home);
      } else if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(saToken)) {
        kc.loadFromCluster();
        tried.push('in-cluster service account');
      } else {
        throw new KubeConfigError(
          'No cluster is configured: no --kubeconfig, no KUBECONFIG, no ~/.kube/config and not running in a pod. ' +
            'Point the server at a kubeconfig with --kubeconfig /path/to/kubeconfig (or KUBECONFIG), or try it without a cluster with --demo.',
        );
      }
    }
  } catch (err) {
    if (err instanceof KubeConfigError) throw err;
    throw new KubeConfigError(`Could not read kubeconfig ${tried.join(', ') || explicit || ''}: ${(err as Error).message}`);
  }
  const context = isUnsetPlaceholder(opts.context) ? undefined : opts.context;
  if (context) {
    if (!kc.getContextObject(context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new KubeConfigError(
        `Context ${JSON.stringify(context)} is not in the kubeconfig (${tried.join(', ')}). Available contexts: ${names.join(', ') || 'none'}.`,
      );
    }
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new KubeConfigError(
      `The kubeconfig (${tried.join(', ')}) has no usable current context${kc.getCurrentContext() ? ` (${JSON.stringify(kc.getCurrentContext())} names no cluster)` : ''}. Pass --context NAME; contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'}.`,
    );
  }
  return kc;
}

export function describeKubeConfig(kc: KubeConfig): { context: string; server: string; user: string } {
  return {
    context: kc.getCurrentContext(),
    server: kc.getCurrentCluster()?.server ?? '',
    user: kc.getCurrentUser()?.name ?? '',
  };
}

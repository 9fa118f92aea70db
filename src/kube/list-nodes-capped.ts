import type { V1Node } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';

/**
 * The first `cap` nodes (apiserver order: by name) and how many match in all, paging with limit/continue.
 * Past the cap, the apiserver's remainingItemCount gives the rest for free; without it (real apiservers
 * omit it when a label selector is given) paging goes on only to count, up to `countUpTo` nodes, and the
 * total is a lower bound beyond that.
 */
export async function listNodesCapped(
  kube: KubeClient,
  q: { labelSelector?: string; cap: number; pageSize: number; countUpTo: number },
  signal: AbortSignal,
): Promise<{ nodes: V1Node[]; total: number; totalAtLeast: boolean }> {
  const nodes: V1Node[] = [];
  let total = 0;
  let continueToken: string | undefined;
  do {
    const page = await kube.listNodes({ labelSelector: q.labelSelector, limit: q.pageSize, continueToken }, signal);
    for (const n of page.items ?? []) {
      if (nodes.length < q.cap) nodes.push(n);
      total++;
    }
    continueToken = page.metadata?._continue || undefined;
    if (continueToken && nodes.length >= q.cap) {
      const remaining = page.metadata?.remainingItemCount;
      if (typeof remaining === 'number') return { nodes, total: total + remaining, totalAtLeast: false };
      if (total >= q.countUpTo) return { nodes, total, totalAtLeast: true };
    }
  } while (continueToken);
  return { nodes, total, totalAtLeast: false };
}

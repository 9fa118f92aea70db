import { KubeError } from './errors.js';

/** A KubeError (or anything thrown) from an ordinary API call, as cause + remedy for the model. */
export function describeKubeFailure(err: unknown, doing: string): string {
  if (err instanceof KubeError) {
    switch (err.kind) {
      case 'unauthorized':
        return `The API server rejected the credentials while ${doing} (401${err.statusMessage ? `: ${err.statusMessage}` : ''}). ${err.remedy ?? "The kubeconfig's token or certificate is missing, invalid or expired: refresh it (log in again) and retry."}`;
      case 'forbidden':
        return `Access denied while ${doing}: ${err.message}. This server needs RBAC "get" and "list" on "nodes" and "get" on "nodes/proxy" (a ClusterRole rule {apiGroups: [""], resources: ["nodes"], verbs: ["get","list"]} and {apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"]}).`;
      case 'not-found':
        return `Not found while ${doing}: ${err.message}. Use list_nodes to see the node names.`;
      case 'bad-request':
        return `The API server rejected the request while ${doing}: ${err.message}. Check the arguments (e.g. the labelSelector syntax: "key=value", "key in (a,b)", "!key").`;
      case 'rate-limited':
        return `The API server is rate-limiting (429) while ${doing}. Wait a few seconds and retry.`;
      case 'timeout':
        return `Timed out while ${doing}: ${err.message} The API server is slow or unreachable; retry later.`;
      case 'aborted':
        return `Cancelled while ${doing}.`;
      default:
        return `Failed while ${doing}: ${err.message}`;
    }
  }
  const e = err as Error;
  if (e?.name === 'TimeoutError') return `Timed out while ${doing} (the per-call deadline, --call-timeout).`;
  if (e?.name === 'AbortError') return `Cancelled while ${doing}.`;
  return `Failed while ${doing}: ${e?.message ?? String(err)}`;
}

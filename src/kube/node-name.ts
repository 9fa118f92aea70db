/**
 * Node names, checked where every request path is built. A node name is a DNS-1123 subdomain (the
 * apiserver's ValidateNodeName); anything else — ".", "..", "a/proxy/pods", "%2F", uppercase — would
 * change which API path is requested (the URL parser resolves dot segments), so it is refused before
 * any request is sent, whichever tool or code path it came from.
 */
import { KubeError } from './errors.js';

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const MAX_NODE_NAME_LENGTH = 253;

export const NODE_NAME_FIX = 'Use a name exactly as list_nodes reports it, e.g. "worker-1".';

/** Why `name` is not a node name, or undefined when it is one. */
export function nodeNameProblem(name: unknown): string | undefined {
  if (typeof name === 'string' && name.length <= MAX_NODE_NAME_LENGTH && NODE_NAME.test(name)) return undefined;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 100)) : typeof name;
  return `node ${shown} is not a valid node name (a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, at most ${MAX_NODE_NAME_LENGTH} characters).`;
}

function refuse(problem: string): KubeError {
  return new KubeError('bad-request', `${problem[0]!.toUpperCase()}${problem.slice(1)} Nothing was sent to the cluster. ${NODE_NAME_FIX}`);
}

/** "/api/v1/nodes/<name><rest>", or a KubeError (bad-request) when the name is not a node name. */
export function nodeApiPath(name: string, rest = ''): string {
  const problem = nodeNameProblem(name);
  if (problem) throw refuse(problem);
  return `/api/v1/nodes/${name}${rest}`;
}

const NODES_PREFIX = '/api/v1/nodes/';

/**
 * The last gate, in the transport: a request path may not hold dot segments (the URL parser would resolve
 * them into another API path), and a path under /api/v1/nodes/ must name a valid node. Throws KubeError.
 */
export function checkRequestPath(path: string): void {
  const pathname = path.split('?', 1)[0]!;
  const segments = pathname.split('/');
  if (segments.some((s) => s === '.' || s === '..' || /^(?:%2e|\.){1,2}$/i.test(s)))
    throw new KubeError('bad-request', `Refusing to request ${JSON.stringify(pathname.slice(0, 200))}: it holds "." or ".." segments. Nothing was sent to the cluster.`);
  if (pathname.startsWith(NODES_PREFIX)) {
    const problem = nodeNameProblem(decodeURIComponentSafe(segments[4] ?? ''));
    if (problem) throw refuse(problem);
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

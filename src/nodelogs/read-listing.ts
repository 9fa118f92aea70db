/**
 * /var/log directories as the kubelet's FileServer lists them (`/logs/pods/` → an HTML <pre> of links):
 * names only, sanitised, so a model can pick a file (container logs live under pods/ and containers/).
 */
import type { KubeClient } from '../kube/client.js';
import { listingNames, looksLikeHtmlListing } from '../kube/kubelet-answer.js';
import { readBounded } from '../kube/transport.js';
import { logsPathPrefix } from '../query/plan.js';

const LISTING_BYTES = 1024 * 1024;
export const MAX_LISTED = 200;

/** "/pods/x/" → ["pods", "x"] */
export function dirSegments(dir: string): string[] {
  return dir.replace(/\\/g, '/').split('/').filter(Boolean);
}

/** The parent directory of a file path relative to /var/log ("/pods/a/b.log" → "/pods/a/"). */
export function parentDir(file: string): string {
  const segs = dirSegments(file);
  segs.pop();
  return segs.length ? `/${segs.join('/')}/` : '/';
}

/**
 * The entries of one /var/log directory, or undefined when the kubelet did not answer with a listing
 * (not a directory, missing, or an error). Decided by the listing itself (HTML with links), not the path.
 */
export async function listDirectory(
  kube: KubeClient,
  node: string,
  dir: string,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ names: string[]; more: boolean } | undefined> {
  const segs = dirSegments(dir).map(encodeURIComponent);
  const path = `${logsPathPrefix(node)}${segs.length ? `${segs.join('/')}/` : ''}`;
  const res = await kube.proxyGet(path, { signal, timeoutMs });
  try {
    if (res.status !== 200) return undefined;
    const { buffer } = await readBounded(res.body, LISTING_BYTES, res.abort);
    const html = buffer.toString('utf8');
    if (!looksLikeHtmlListing(String(res.headers['content-type'] ?? ''), html.slice(0, 512)) || !/<pre>/i.test(html)) return undefined;
    const names = listingNames(html, MAX_LISTED + 1);
    return { names: names.slice(0, MAX_LISTED), more: names.length > MAX_LISTED };
  } finally {
    res.abort();
  }
}

export function describeListing(dir: string, listing: { names: string[]; more: boolean }): string {
  if (listing.names.length === 0) return `/var/log${dir} is empty.`;
  return `/var/log${dir} holds: ${listing.names.map((n) => JSON.stringify(n)).join(', ')}${listing.more ? ` (first ${MAX_LISTED} shown)` : ''}.`;
}

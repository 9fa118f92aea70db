import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { KubeResponse } from './transport.js';
import { describeBody, parseStatusMessage, type KubeError } from './errors.js';

/**
 * How the kubelet (through the apiserver proxy) really answers a log request, turned into cases the tools
 * can explain. See shared/docs/kubelet-node-log-query.md: most failures are NOT status codes — the feature
 * being off is a 200 with an HTML listing, an unknown service is a 200 with "log not found for x".
 */
export type LogFailureKind =
  | 'query-mode-off'
  | 'handler-disabled'
  | 'debugging-disabled'
  | 'forbidden'
  | 'kubelet-forbidden'
  | 'unauthorized'
  | 'node-not-found'
  | 'file-not-found'
  | 'kubelet-unreachable'
  | 'kubelet-rejected'
  | 'rate-limited'
  | 'server-error'
  | 'unexpected';

export interface LogFailure {
  kind: LogFailureKind;
  status: number;
  /** Cause and remedy, for the model. Never raw HTML or raw log text. */
  message: string;
  /** For query-mode-off: the names the /var/log listing showed (sanitized), a hint of what files exist. */
  listing?: string[];
}

export type LogAnswer =
  | { ok: true; status: number; contentRange?: string; body: AsyncIterable<Buffer> }
  | { ok: false; failure: LogFailure };

const ERROR_BODY_LIMIT = 64 * 1024;

async function readSome(stream: AsyncIterable<Buffer>, limit: number): Promise<{ head: Buffer; rest: AsyncIterator<Buffer> | undefined }> {
  const it = stream[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < limit) {
    const { value, done } = await it.next();
    if (done) return { head: Buffer.concat(chunks), rest: undefined };
    chunks.push(value);
    size += value.length;
  }
  return { head: Buffer.concat(chunks), rest: it };
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer> | undefined): AsyncIterable<Buffer> {
  if (head.length) yield head;
  if (!rest) return;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return;
    yield value;
  }
}

/** Body read errors as KubeErrors that say what happened (reset, timeout, cancel), not a bare "aborted". */
async function* classified(body: AsyncIterable<Buffer>, describe: ((err: unknown) => KubeError) | undefined): AsyncIterable<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw describe ? describe(err) : err;
  }
}

const LISTING_NAME = /<a href="[^"]*">([^<]{1,200})<\/a>/g;

/** Entry names of a Go FileServer directory listing, plain names only (node-controlled text), at most `max`. */
export function listingNames(html: string, max = 30): string[] {
  const names: string[] = [];
  for (const m of html.matchAll(LISTING_NAME)) {
    const name = m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#39;/g, "'").replace(/&#34;|&quot;/g, '"');
    // File names are node-controlled text: keep only plain ones.
    if (/^[\w.@:+-]+\/?$/.test(name)) names.push(name);
    if (names.length >= max) break;
  }
  return names;
}

export function looksLikeHtmlListing(contentType: string | undefined, head: string): boolean {
  return /text\/html/i.test(contentType ?? '') || /^\s*(<!doctype html>|<pre>|<html)/i.test(head);
}

/**
 * Reads just enough of a log answer to classify it. On success, the body stream is returned with the bytes
 * already read put back in front (and gunzipped when the kubelet compressed it).
 */
export async function classifyLogAnswer(res: KubeResponse, ctx: { node: string; isFile: boolean }): Promise<LogAnswer> {
  const { status } = res;
  const contentType = String(res.headers['content-type'] ?? '');
  // pipeline, not pipe: a reset under a gzip body must fail the decoder too, or the read never ends.
  const raw: AsyncIterable<Buffer> = /gzip/i.test(String(res.headers['content-encoding'] ?? '')) ? pipeline(res.body, createGunzip(), () => undefined) : res.body;
  const body = classified(raw, res.describeError?.bind(res));

  if (status === 200 || status === 206) {
    const { head, rest } = await readSome(body, 512);
    const headText = head.toString('utf8');
    if (!ctx.isFile && looksLikeHtmlListing(contentType, headText)) {
      const more = await readSome(prepend(head, rest), ERROR_BODY_LIMIT);
      res.abort();
      const names = listingNames(more.head.toString('utf8'));
      return {
        ok: false,
        failure: {
          kind: 'query-mode-off',
          status,
          listing: names,
          message:
            `Node log query is not enabled on the kubelet of ${ctx.node}: it answered with the plain /var/log directory listing, which is what a kubelet does when query mode is off (the query parameters were ignored). ` +
            `To turn it on, set in the kubelet configuration: enableSystemLogHandler: true and enableSystemLogQuery: true, plus featureGates: {NodeLogQuery: true} on kubelets v1.27–v1.35 (the gate is locked on from v1.36), then restart the kubelet. ` +
            `Files under /var/log can still be read meanwhile with query set to a file path such as "/syslog".`,
        },
      };
    }
    return { ok: true, status, contentRange: res.headers['content-range'] as string | undefined, body: prepend(head, rest) };
  }

  const { head } = await readSome(body, ERROR_BODY_LIMIT).catch(() => ({ head: Buffer.alloc(0) }));
  res.abort();
  const text = head.toString('utf8');
  const statusMessage = parseStatusMessage(text);
  const said = statusMessage !== undefined ? describeBody(statusMessage, undefined, 300) : describeBody(text, contentType, 300);
  const fail = (kind: LogFailureKind, message: string): LogAnswer => ({ ok: false, failure: { kind, status, message } });

  switch (status) {
    case 405:
      if (/Debug endpoints are disabled/i.test(text))
        return fail('debugging-disabled', `The kubelet of ${ctx.node} has its debugging handlers turned off ("Debug endpoints are disabled."), which also removes /logs/. Set enableDebuggingHandlers: true in the kubelet configuration and restart the kubelet.`);
      return fail('handler-disabled', `The kubelet of ${ctx.node} has its log handler turned off ("${said}"). Set enableSystemLogHandler: true and enableSystemLogQuery: true in the kubelet configuration (plus the NodeLogQuery feature gate before v1.36) and restart the kubelet.`);
    case 403:
      if (statusMessage)
        return fail('forbidden', `Access denied: ${said}. Node logs need the RBAC permission "get" on "nodes/proxy". Grant it with a ClusterRole rule {apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"]} bound to this user or service account (plus "get", "list" on "nodes" for list_nodes).`);
      return fail('kubelet-forbidden', `The kubelet of ${ctx.node} refused the apiserver's request (${said}). The apiserver's kubelet client credentials need "get" on "nodes/log" (and nodes/proxy) in the kubelet's authorization; this is a cluster set-up issue, not this user's RBAC.`);
    case 401:
      return fail('unauthorized', `The API server rejected the credentials (401 ${said || 'Unauthorized'}). The token or client certificate in the kubeconfig is missing, invalid or expired: refresh the kubeconfig (e.g. log in again) and retry.`);
    case 404:
      if (statusMessage && /not found/i.test(statusMessage) && /^nodes? /i.test(statusMessage))
        return fail('node-not-found', `Node ${JSON.stringify(ctx.node)} does not exist (${said}). Use list_nodes to see the node names.`);
      if (ctx.isFile)
        return fail('file-not-found', `The file does not exist under /var/log on ${ctx.node} (the kubelet answered 404). Paths are relative to /var/log, e.g. "/syslog" or "/kube-apiserver.log"; ask for a service name (e.g. "kubelet") for journald logs.`);
      return fail('unexpected', `The node proxy answered 404 (${said}). The kubelet of ${ctx.node} may not serve /logs/ at all; run check_node_log_support for details.`);
    case 400:
    case 406:
      if (ctx.isFile && /no such file or directory/i.test(text))
        return fail('file-not-found', `The file does not exist under /var/log on ${ctx.node} (kubelet: ${said}). Paths are relative to /var/log, e.g. "/syslog".`);
      return fail('kubelet-rejected', `The kubelet of ${ctx.node} rejected the query (HTTP ${status}): ${said}`);
    case 429:
      return fail('rate-limited', `The API server is rate-limiting requests (429 Too Many Requests). Wait a little and retry with fewer nodes at once.`);
    case 502:
    case 503:
    case 504:
      return fail('kubelet-unreachable', `The API server could not reach the kubelet of ${ctx.node} (HTTP ${status}: ${said || 'no details'}). The node may be down, NotReady or partitioned; check its Ready condition with list_nodes.`);
    default:
      if (status >= 500) return fail('server-error', `The API server failed with HTTP ${status}: ${said || 'no details'}. Retry later.`);
      return fail('unexpected', `Unexpected answer HTTP ${status} from the node proxy of ${ctx.node}: ${said || 'no body'}`);
  }
}

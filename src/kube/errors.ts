import { escapeBlockLine } from '../logs/block-tag.js';
import { createRedactor } from '../logs/redact.js';
import { redactProxy, type Route } from './proxy-route.js';

/**
 * Failures talking to the cluster, classified so the tools can say what went wrong and what fixes it.
 * Messages never carry raw response bodies beyond a short, sanitized excerpt: bodies can hold log text.
 */

export type KubeErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'unavailable'
  | 'rate-limited'
  | 'server-error'
  | 'bad-request'
  | 'timeout'
  | 'aborted'
  | 'tls'
  | 'connection'
  | 'auth-plugin'
  | 'protocol';

export class KubeError extends Error {
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    readonly status?: number,
    /** Message of a Kubernetes Status body, when there was one. */
    readonly statusMessage?: string,
    readonly retryAfterMs?: number,
    /** What to do, when the transport knows better than the generic advice for this kind (e.g. a 401 sent anonymous). */
    readonly remedy?: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

/**
 * A short, single-line, printable excerpt of an untrusted text, for error messages. Error bodies can
 * carry log text, so secrets are redacted here too: error messages are an output path like any other.
 */
export function excerpt(text: string, max = 200): string {
  // Redact before cutting, so a cut cannot split a secret out of a rule's reach.
  const window = text.length > max * 4 + 4096 ? text.slice(0, max * 4 + 4096) : text;
  // eslint-disable-next-line no-control-regex
  const clean = createRedactor().redactLine(window.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\u2066-\u2069\ufeff\u001b]+/g, ' ')).replace(/\s+/g, ' ').trim();
  if (clean.length <= max) return clean;
  // Do not leave a half-cut redaction marker or a lone surrogate behind.
  let cut = clean.slice(0, max);
  const open = cut.lastIndexOf('[REDACTED');
  if (open !== -1 && cut.indexOf(']', open) === -1) cut = cut.slice(0, open);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/**
 * An excerpt of node-written text shown outside the untrusted block (node status fields, kubelet in-band
 * messages): redacted and clipped like every excerpt, and stripped of look-alikes of the block's tags.
 */
export function untrustedExcerpt(text: string, max: number): string {
  return escapeBlockLine(excerpt(text, max), '');
}

const HTML_HEAD = /^\s*(?:<!doctype html|<html|<head|<body|<\?xml|<!--)/i;

/** Whether an error body is an HTML page (a proxy's, a load balancer's, an SSO login), not an API answer. */
export function isHtmlBody(text: string, contentType?: string | string[]): boolean {
  return /html/i.test(String(contentType ?? '')) || HTML_HEAD.test(text);
}

/**
 * An error body as a model may see it: an HTML page is never shown raw (its markup and scripts are
 * noise at best, an injection at worst): only its title or first heading, as plain text, is named.
 */
export function describeBody(text: string, contentType: string | string[] | undefined, max = 200): string {
  if (!isHtmlBody(text, contentType)) return excerpt(text, max);
  const pick = /<title[^>]*>([\s\S]{0,400}?)<\/title>/i.exec(text)?.[1] ?? /<h1[^>]*>([\s\S]{0,400}?)<\/h1>/i.exec(text)?.[1] ?? '';
  const title = excerpt(pick.replace(/<[^>]*>/g, ' ').replace(/&[#\w]+;/g, ' ').replace(/[<>"`]/g, ' '), 80);
  return `an HTML page${title ? ` titled "${title}"` : ''}, i.e. a proxy or load balancer between this server and the API server answered, not Kubernetes`;
}

export function parseStatusMessage(body: string): string | undefined {
  try {
    const obj = JSON.parse(body) as { kind?: string; message?: unknown };
    if (obj && obj.kind === 'Status' && typeof obj.message === 'string') return obj.message;
  } catch {
    /* not JSON */
  }
  return undefined;
}

export function kindForStatus(status: number): KubeErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 429) return 'rate-limited';
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  if (status >= 500) return 'server-error';
  return 'bad-request';
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_NOT_YET_VALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Turns a low-level request failure into a KubeError that says what to check (and blames the proxy when one is in the way). */
export function fromNetworkError(err: unknown, server: string, route?: Route): KubeError {
  if (err instanceof KubeError) return err;
  const e = err as NodeJS.ErrnoException & { reason?: string };
  const code = e?.code ?? '';
  const msg = e?.message ?? String(err);
  if (e?.name === 'AbortError' || code === 'ABORT_ERR') return new KubeError('aborted', 'The request was cancelled.');
  const proxy = route?.proxy;
  if (proxy) {
    const p = `${redactProxy(proxy)} (${route!.source})`;
    const bad = /^Bad response: (\d+)/.exec(msg);
    if (bad)
      return new KubeError(
        'connection',
        `The proxy ${p} refused to open a tunnel to ${server} (HTTP ${bad[1]} to CONNECT${bad[1] === '407' ? ': it wants credentials; put them in the proxy URL as http://user:password@host:port' : bad[1] === '403' ? ': its access rules forbid this destination' : ': it could not reach or resolve the API server'}). Check the proxy's rules and logs, or the server URL.`,
      );
    if (/socks/i.test(msg) || e?.name === 'SocksClientError')
      return new KubeError('connection', `The SOCKS5 proxy ${p} could not connect to ${server}: ${excerpt(msg)}. Check that the proxy can resolve and reach the API server, and its access rules.`);
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT' || /Proxy timeout/.test(msg))
      return new KubeError(
        'connection',
        `Cannot reach the proxy ${p} on the way to ${server} (${code || excerpt(msg, 60)}). Is the proxy running and its address right? To go direct, remove proxy-url from the cluster or add the host to NO_PROXY.`,
      );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new KubeError('tls', `TLS failure talking to ${server}: the server certificate does not match the server name (${excerpt(msg)}). Check the cluster's server URL or set tls-server-name in the kubeconfig.`);
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(msg))
    return new KubeError(
      'tls',
      `TLS failure talking to ${server}${proxy?.protocol === 'https:' ? ` or to its HTTPS proxy ${redactProxy(proxy)}` : ''}: ${excerpt(msg)} (${code || 'TLS'}). Check certificate-authority / certificate-authority-data in the kubeconfig for this cluster${proxy?.protocol === 'https:' ? ' (like kubectl, the server checks an https:// proxy against that CA too: it must hold the proxy certificate\'s issuer)' : ''}.`,
    );
  if (code === 'ECONNREFUSED')
    return new KubeError('connection', `Cannot reach the Kubernetes API server at ${server}: connection refused. Is the cluster running and the kubeconfig's server URL right?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new KubeError(
      'connection',
      `Cannot resolve the Kubernetes API server host of ${server} (${code}). Check the kubeconfig's server URL${route && !route.proxy ? `; if the cluster is only reachable through a proxy, set proxy-url on the cluster or HTTPS_PROXY in the environment the MCP client gives this server (route now: ${route.describe})` : ''}.`,
    );
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE')
    return new KubeError('connection', `The connection to ${server} was reset (${code}). The answer may be incomplete; try again.`);
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return new KubeError('timeout', `Connecting to ${server} timed out (${code}).`);
  return new KubeError('connection', `Request to ${server} failed: ${excerpt(msg)}${code ? ` (${code})` : ''}.`);
}

import net from 'node:net';

/** How requests reach the API server: straight, or through a proxy (and why). */
export interface Route {
  /** The proxy to use, normalised (socks5 → socks5h, a bare host:port → http://). Undefined: direct. */
  proxy?: URL;
  /** Where the choice came from, e.g. "proxy-url in the kubeconfig", "HTTPS_PROXY", "NO_PROXY entry .corp". */
  source: string;
  /** For answers and evidence, e.g. "via HTTP CONNECT proxy http://127.0.0.1:3128 (HTTPS_PROXY)". Credentials never shown. */
  describe: string;
}

/** A proxy URL without its user:password, for messages. */
export function redactProxy(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

function kindOf(u: URL): string {
  return u.protocol.startsWith('socks') ? 'SOCKS5 proxy' : u.protocol === 'https:' ? 'HTTPS proxy' : 'HTTP proxy';
}

function via(proxy: URL, source: string): Route {
  return { proxy, source, describe: `via ${kindOf(proxy)} ${redactProxy(proxy)} (${source})` };
}

function parseProxy(value: string): URL | undefined {
  // Go's ProxyFromEnvironment accepts "host:port" and reads it as http://host:port.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  try {
    const u = new URL(withScheme);
    return ['http:', 'https:', 'socks5:', 'socks5h:'].includes(u.protocol) ? u : undefined;
  } catch {
    return undefined;
  }
}

/**
 * kubectl resolves the API server's name on a SOCKS5 proxy for socks5:// too (Go's SOCKS dialer sends the
 * name). socks-proxy-agent resolves locally for socks5://, which fails for names only the proxy knows.
 */
function normaliseSocks(u: URL): URL {
  if (u.protocol !== 'socks5:') return u;
  return new URL(u.href.replace(/^socks5:/i, 'socks5h:'));
}

function envAny(env: NodeJS.ProcessEnv, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * Go's NO_PROXY rules (golang.org/x/net/http/httpproxy), which kubectl uses: comma-separated entries; "*"
 * matches everything; an IP or CIDR matches IP hosts; "example.com" matches it and its subdomains,
 * ".example.com" only subdomains; an entry may carry a port, and then only that port matches.
 */
export function noProxyMatch(noProxy: string, host: string, port: string): string | undefined {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return entry;
    if (entry.includes('/')) {
      if (net.isIP(h) && cidrContains(entry, h)) return entry;
      continue;
    }
    let name = entry;
    let entryPort: string | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (m) {
      name = m[1]!;
      entryPort = m[2];
    }
    name = name.replace(/^\[|\]$/g, '');
    if (entryPort && entryPort !== port) continue;
    if (net.isIP(name)) {
      if (net.isIP(h) && sameIp(name, h)) return entry;
      continue;
    }
    if (name.startsWith('*.')) name = name.slice(1);
    if (name.startsWith('.')) {
      if (h.endsWith(name)) return entry;
    } else if (h === name || h.endsWith(`.${name}`)) return entry;
  }
  return undefined;
}

function sameIp(a: string, b: string): boolean {
  const family = net.isIP(a) === 6 ? 'ipv6' : 'ipv4';
  if (net.isIP(a) !== net.isIP(b)) return false;
  const list = new net.BlockList();
  list.addAddress(a, family);
  return list.check(b, family);
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const family = net.isIP(base ?? '');
  if (!family || !Number.isInteger(bits) || family !== net.isIP(ip)) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base!, bits, family === 6 ? 'ipv6' : 'ipv4');
  } catch {
    return false;
  }
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  // Go exempts exactly "localhost" (not *.localhost) and loopback IP literals.
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * The route kubectl would take to `server`: the cluster's proxy-url when set (for every host, loopback
 * included), else HTTPS_PROXY/https_proxy (https servers) or HTTP_PROXY/http_proxy (http servers) unless
 * NO_PROXY/no_proxy matches or the host is loopback, as Go's ProxyFromEnvironment decides.
 */
export function routeFor(server: URL, proxyUrl: string | undefined, env: NodeJS.ProcessEnv): Route {
  if (proxyUrl) {
    const u = parseProxy(proxyUrl);
    if (!u) throw new Error(`proxy-url ${JSON.stringify(proxyUrl)} is not an http, https, socks5 or socks5h URL`);
    return via(normaliseSocks(u), 'proxy-url in the kubeconfig');
  }
  const isHttps = server.protocol === 'https:';
  const found = isHttps ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : env.REQUEST_METHOD ? undefined : envAny(env, 'HTTP_PROXY', 'http_proxy');
  if (!found) return { source: 'no proxy configured', describe: 'direct (no proxy-url in the kubeconfig and no proxy in the environment)' };
  const port = server.port || (isHttps ? '443' : '80');
  if (isLoopback(server.hostname))
    return { source: 'loopback', describe: `direct (${found.name} is set, but loopback hosts never go through an environment proxy)` };
  const noProxy = envAny(env, 'NO_PROXY', 'no_proxy');
  const hit = noProxy ? noProxyMatch(noProxy.value, server.hostname, port) : undefined;
  if (hit) return { source: `${noProxy!.name} entry ${hit}`, describe: `direct (${noProxy!.name} entry ${JSON.stringify(hit)} matches ${server.hostname})` };
  const u = parseProxy(found.value);
  if (!u) throw new Error(`${found.name}=${JSON.stringify(found.value)} is not an http, https, socks5 or socks5h URL`);
  return via(normaliseSocks(u), found.name);
}

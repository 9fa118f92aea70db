import { open } from 'node:fs/promises';
import type https from 'node:https';
import { clientNodeConfig, type ClusterAccess } from './kubeconfig.js';
import { ExecPlugin, type ExecCredential } from './exec-plugin.js';
import { KubeError, excerpt } from './errors.js';

/** What one request carries: auth and impersonation headers, and the TLS material of its connection. */
export interface RequestCredentials {
  headers: Record<string, string | string[]>;
  tls: Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** The exec credential used, so a 401 can drop exactly it. */
  exec?: ExecCredential;
}

/** client-go re-reads a tokenFile about once a minute (cachingTokenSource): rotated tokens are picked up. */
const FILE_TTL_MS = 60_000;
const MAX_FILE_BYTES = 1024 * 1024;

async function readBoundedFile(file: string): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > MAX_FILE_BYTES) throw Object.assign(new Error(`larger than ${MAX_FILE_BYTES} bytes`), { code: 'EFBIG' });
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/**
 * Credentials for the chosen context, computed per request the way client-go does: TLS from the cluster
 * and user entries, a bearer token from token, tokenFile (re-read every minute) or an exec plugin (run by
 * us, see ExecPlugin), basic auth, client-node's auth-provider plugins, and every impersonation field.
 */
export class Credentials {
  private readonly files = new Map<string, { value: Buffer; at: number }>();
  readonly plugin?: ExecPlugin;
  /** client-node's configuration, built the first time an auth-provider user needs it. */
  private clientNode?: Promise<import('@kubernetes/client-node').KubeConfig>;

  /** `pluginEnv`: what a credential plugin inherits (this process's environment, as under kubectl). */
  constructor(
    private readonly access: ClusterAccess,
    pluginEnv: NodeJS.ProcessEnv = process.env,
  ) {
    if (access.user?.exec) this.plugin = new ExecPlugin(access.user.exec, access.cluster, pluginEnv);
  }

  private async file(p: string, what: string, fix: string): Promise<Buffer> {
    const hit = this.files.get(p);
    if (hit && Date.now() - hit.at < FILE_TTL_MS) return hit.value;
    try {
      const value = await readBoundedFile(p);
      this.files.set(p, { value, at: Date.now() });
      return value;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new KubeError('connection', `Cannot read ${what} ${p} (${code ?? excerpt((err as Error).message, 80)}). ${fix}`);
    }
  }

  /** Drops what a 401 rejected; true when the next attempt would use fresh credentials (worth a retry). */
  rejected(used: RequestCredentials): boolean {
    if (used.exec && this.plugin) {
      this.plugin.invalidate(used.exec);
      return true;
    }
    const tf = this.access.user?.tokenFile;
    if (tf && this.files.has(tf)) {
      this.files.delete(tf);
      return false;
    }
    return false;
  }

  async get(signal: AbortSignal, timeoutMs: number, callerSignal?: AbortSignal): Promise<RequestCredentials> {
    const { cluster, user } = this.access;
    const headers: Record<string, string | string[]> = {};
    const tls: RequestCredentials['tls'] = { rejectUnauthorized: !cluster.skipTLSVerify, servername: cluster.tlsServerName };
    const isHttps = cluster.server.startsWith('https:');
    if (isHttps) {
      if (cluster.caFile) tls.ca = await this.file(cluster.caFile, `certificate-authority of cluster ${JSON.stringify(cluster.name)}`, 'Fix certificate-authority in the kubeconfig (a relative path is relative to the kubeconfig file).');
      else if (cluster.caData) tls.ca = Buffer.from(cluster.caData, 'base64');
    }
    let used: ExecCredential | undefined;
    // kubectl (clientcmd) applies a user's credentials and impersonation only over TLS: nothing secret
    // travels in clear text to an http:// server (a kubectl proxy adds its own).
    if (user && isHttps) {
      const who = `user ${JSON.stringify(user.name)}`;
      if (user.certFile) tls.cert = await this.file(user.certFile, `client-certificate of ${who}`, 'Fix client-certificate in the kubeconfig.');
      else if (user.certData) tls.cert = Buffer.from(user.certData, 'base64');
      if (user.keyFile) tls.key = await this.file(user.keyFile, `client-key of ${who}`, 'Fix client-key in the kubeconfig.');
      else if (user.keyData) tls.key = Buffer.from(user.keyData, 'base64');
      if (user.tokenFile) {
        const token = (await this.file(user.tokenFile, `tokenFile of ${who}`, 'Fix tokenFile in the kubeconfig (a relative path is relative to the kubeconfig file), or refresh the token.')).toString('utf8').trim();
        if (!token) throw new KubeError('unauthorized', `The tokenFile of ${who} (${user.tokenFile}) is empty. Write the token into it, or fix tokenFile in the kubeconfig.`);
        headers.Authorization = `Bearer ${token}`;
      } else if (user.token) headers.Authorization = `Bearer ${user.token}`;
      else if (user.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      if (this.plugin && !headers.Authorization) {
        used = await this.plugin.get(signal, timeoutMs, callerSignal);
        if (used.token) headers.Authorization = `Bearer ${used.token}`;
        if (used.cert && used.key) {
          tls.cert = used.cert;
          tls.key = used.key;
        }
      }
      if (user.authProvider && !headers.Authorization) {
        // Legacy auth-provider plugins (oidc, azure, gcp) stay client-node's: it refreshes their tokens.
        const opts: https.RequestOptions = { headers: {} };
        this.clientNode ??= clientNodeConfig(this.access);
        await ((await this.clientNode) as unknown as { applyAuthorizationHeader(o: https.RequestOptions): Promise<void> }).applyAuthorizationHeader(opts);
        Object.assign(headers, opts.headers);
      }
      const imp = user.impersonate;
      if (imp.user) headers['Impersonate-User'] = imp.user;
      if (imp.uid) headers['Impersonate-Uid'] = imp.uid;
      if (imp.groups.length) headers['Impersonate-Group'] = imp.groups;
      // Header names are case-insensitive, so a key is percent-encoded as client-go does for non-token characters.
      for (const [k, v] of Object.entries(imp.extra)) if (v.length) headers[`Impersonate-Extra-${encodeExtraKey(k)}`] = v;
    }
    return { headers, tls, exec: used };
  }
}

/** client-go escapes extra keys (they may hold '/' and other characters invalid in a header name). */
function encodeExtraKey(key: string): string {
  return key.replace(/[^A-Za-z0-9!#$&'*+\-.^_`|~]/g, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import type { Cluster, Context, KubeConfig, User } from '@kubernetes/client-node';
import { isUnsetPlaceholder } from '../config.js';
import { KubeConfigError } from './kubeconfig-error.js';

// Its own module, so that the request path can throw it without loading @kubernetes/client-node (start-up).
export { KubeConfigError };

/** An exec credential plugin as the kubeconfig declares it (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  apiVersion?: string;
  /** Absolute when the kubeconfig gave a path with a separator (resolved against that file's directory). */
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  installHint?: string;
  provideClusterInfo: boolean;
  interactiveMode?: string;
}

export interface ClusterEntry {
  name: string;
  server: string;
  caFile?: string;
  caData?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  /** The `client.authentication.k8s.io/exec` extension, handed to exec plugins with provideClusterInfo. */
  execExtension?: unknown;
}

export interface UserEntry {
  name: string;
  token?: string;
  /** Absolute path; re-read about every minute, as client-go does (rotating service-account tokens). */
  tokenFile?: string;
  username?: string;
  password?: string;
  certFile?: string;
  certData?: string;
  keyFile?: string;
  keyData?: string;
  exec?: ExecConfig;
  authProvider?: { name: string; config?: Record<string, string> };
  impersonate: { user?: string; uid?: string; groups: string[]; extra: Record<string, string[]> };
}

/** Everything needed to talk to the cluster of the chosen context, as kubectl would. */
export interface ClusterAccess {
  context: string;
  cluster: ClusterEntry;
  /** Undefined for a context without a user: requests go out anonymous, like kubectl's. */
  user?: UserEntry;
  /** Where it came from, for messages: the kubeconfig files, or "in-cluster service account". */
  source: string;
  /** Every context of the merged kubeconfig (clientNodeConfig lists them). */
  contexts: Context[];
}

type Raw = Record<string, unknown>;
interface NamedRaw {
  name: string;
  body: Raw;
  dir: string;
  file: string;
  index: number;
}
interface Merged {
  clusters: Map<string, NamedRaw>;
  users: Map<string, NamedRaw>;
  contexts: Map<string, NamedRaw>;
  currentContext?: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') || p.startsWith('~\\') ? path.join(os.homedir(), p.slice(1)) : p;
}

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads one file into the merge the way client-go does: an empty file contributes nothing, and for every
 * cluster, user and context name (and current-context) the first file that sets it wins. Entries are only
 * collected here, not validated: a broken entry that the chosen context does not use must not block startup.
 */
function mergeFile(file: string, into: Merged): void {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.trim()) return;
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new KubeConfigError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}. Fix the file or remove it from --kubeconfig/KUBECONFIG.`);
  }
  if (doc === null || doc === undefined) return;
  if (!isObject(doc)) throw new KubeConfigError(`kubeconfig ${file} is not a kubeconfig (a YAML mapping with clusters, users and contexts).`);
  const dir = path.dirname(path.resolve(file));
  const collect = (key: 'clusters' | 'users' | 'contexts', body: string, map: Map<string, NamedRaw>) => {
    const list = doc[key];
    if (!Array.isArray(list)) return;
    list.forEach((elt, index) => {
      if (!isObject(elt) || typeof elt.name !== 'string' || !elt.name || map.has(elt.name)) return;
      map.set(elt.name, { name: elt.name, body: isObject(elt[body]) ? elt[body] : {}, dir, file, index });
    });
  };
  collect('clusters', 'cluster', into.clusters);
  collect('users', 'user', into.users);
  collect('contexts', 'context', into.contexts);
  const cur = doc['current-context'];
  if (!into.currentContext && typeof cur === 'string' && cur) into.currentContext = cur;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** client-go resolves file references against the directory of the kubeconfig file that holds them. */
function resolveFile(dir: string, p: string | undefined): string | undefined {
  return p === undefined ? undefined : path.isAbsolute(p) ? p : path.join(dir, p);
}

function where(e: NamedRaw, kind: string): string {
  return `${kind} ${JSON.stringify(e.name)} (${e.file})`;
}

function toCluster(e: NamedRaw): ClusterEntry {
  const b = e.body;
  const server = str(b.server);
  if (!server)
    throw new KubeConfigError(`${where(e, 'cluster')} has no server. Set it, e.g. kubectl config set-cluster ${e.name} --server=https://HOST:6443.`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(`${where(e, 'cluster')} has server ${JSON.stringify(server)}, which is not a URL. Use https://HOST:PORT (or http:// for a kubectl proxy).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new KubeConfigError(`${where(e, 'cluster')} has server ${JSON.stringify(server)}: only https:// and http:// servers are supported.`);
  const proxyUrl = str(b['proxy-url']);
  if (proxyUrl) {
    let p: URL | undefined;
    try {
      p = new URL(proxyUrl);
    } catch {
      p = undefined;
    }
    if (!p || !['http:', 'https:', 'socks5:', 'socks5h:'].includes(p.protocol))
      throw new KubeConfigError(`${where(e, 'cluster')} has proxy-url ${JSON.stringify(proxyUrl)}; kubectl supports http://, https://, socks5:// and socks5h:// proxy URLs.`);
  }
  const extensions = Array.isArray(b.extensions) ? b.extensions : [];
  const execExt = extensions.find((x): x is Raw => isObject(x) && x.name === 'client.authentication.k8s.io/exec');
  return {
    name: e.name,
    server: server.replace(/\/+$/, ''),
    caFile: resolveFile(e.dir, str(b['certificate-authority'])),
    caData: str(b['certificate-authority-data']),
    skipTLSVerify: b['insecure-skip-tls-verify'] === true,
    tlsServerName: str(b['tls-server-name']),
    proxyUrl,
    execExtension: execExt?.extension,
  };
}

function toUser(e: NamedRaw): UserEntry {
  const b = e.body;
  const groups = b['as-groups'];
  const extra = b['as-user-extra'];
  const impersonate = {
    user: str(b.as),
    uid: str(b['as-uid']),
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
    extra: {} as Record<string, string[]>,
  };
  if (isObject(extra))
    for (const [k, v] of Object.entries(extra)) impersonate.extra[k] = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
  let exec: ExecConfig | undefined;
  if (isObject(b.exec)) {
    const x = b.exec;
    const command = str(x.command);
    if (!command) throw new KubeConfigError(`${where(e, 'user')} has an exec plugin without a command. Set users[].user.exec.command.`);
    const env = Array.isArray(x.env) ? x.env.filter(isObject).map((v) => ({ name: String(v.name ?? ''), value: String(v.value ?? '') })).filter((v) => v.name) : [];
    exec = {
      apiVersion: str(x.apiVersion),
      // client-go: a command with a path separator is relative to the kubeconfig, a bare name is looked up on PATH.
      command: /[\\/]/.test(command) ? (resolveFile(e.dir, command) ?? command) : command,
      args: Array.isArray(x.args) ? x.args.map(String) : [],
      env,
      installHint: str(x.installHint),
      provideClusterInfo: x.provideClusterInfo === true,
      interactiveMode: str(x.interactiveMode),
    };
  }
  const ap = b['auth-provider'];
  return {
    name: e.name,
    token: str(b.token),
    // kubectl's field is tokenFile; client-node's own spelling token-file is honoured too.
    tokenFile: resolveFile(e.dir, str(b.tokenFile) ?? str(b['token-file'])),
    username: str(b.username),
    password: typeof b.password === 'string' ? b.password : undefined,
    certFile: resolveFile(e.dir, str(b['client-certificate'])),
    certData: str(b['client-certificate-data']),
    keyFile: resolveFile(e.dir, str(b['client-key'])),
    keyData: str(b['client-key-data']),
    exec,
    authProvider: isObject(ap) && typeof ap.name === 'string' ? { name: ap.name, config: isObject(ap.config) ? (ap.config as Record<string, string>) : undefined } : undefined,
    impersonate,
  };
}

/**
 * client-node's view of the same entries, for its auth-provider plugins and context listings. Imported
 * when asked for: loading @kubernetes/client-node costs ≈0.4 s and ≈60 MB, and no other request path needs it.
 */
export async function clientNodeConfig(access: ClusterAccess): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const c = access.cluster;
  const cluster: Cluster = { name: c.name, server: c.server, caFile: c.caFile, caData: c.caData, skipTLSVerify: c.skipTLSVerify, tlsServerName: c.tlsServerName, proxyUrl: c.proxyUrl };
  const u = access.user;
  const users: User[] = u
    ? [{ name: u.name, token: u.token, username: u.username, password: u.password, certFile: u.certFile, certData: u.certData, keyFile: u.keyFile, keyData: u.keyData, authProvider: u.authProvider, impersonateUser: u.impersonate.user }]
    : [];
  kc.loadFromOptions({ clusters: [cluster], users, contexts: access.contexts, currentContext: access.context });
  return kc;
}

/**
 * Loads cluster access the way kubectl does: --kubeconfig, else KUBECONFIG (several paths), else
 * ~/.kube/config, else the in-cluster service account. Files merge with kubectl's rules (first file to
 * define a name wins; empty files are skipped) and only the chosen context, its cluster and its user are
 * validated. Every failure names what was tried and the fix.
 */
export function loadClusterAccess(opts: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv }): ClusterAccess {
  const env = opts.env ?? process.env;
  const explicit = isUnsetPlaceholder(opts.kubeconfig) ? undefined : opts.kubeconfig;
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  let files: string[];
  if (explicit) {
    const listed = explicit.split(path.delimiter).filter(Boolean).map(expandHome);
    files = listed.filter((f) => fs.existsSync(f));
    if (files.length === 0)
      throw new KubeConfigError(`kubeconfig ${listed.join(path.delimiter)} does not exist. Pass --kubeconfig with the path of a kubeconfig file (or set KUBECONFIG).`);
  } else {
    const home = path.join(os.homedir(), '.kube', 'config');
    if (fs.existsSync(home)) files = [home];
    else if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(path.join(SA_DIR, 'token'))) return inCluster(env);
    else
      throw new KubeConfigError(
        'No cluster is configured: no --kubeconfig, no KUBECONFIG, no ~/.kube/config and not running in a pod. ' +
          'Point the server at a kubeconfig with --kubeconfig /path/to/kubeconfig (or KUBECONFIG), or try it without a cluster with --demo.',
      );
  }
  for (const f of files) {
    try {
      mergeFile(f, merged);
    } catch (err) {
      if (err instanceof KubeConfigError) throw err;
      throw new KubeConfigError(`Could not read kubeconfig ${f}: ${(err as Error).message}`);
    }
  }
  const source = files.join(path.delimiter);
  const contextNames = [...merged.contexts.keys()];
  const wanted = isUnsetPlaceholder(opts.context) ? undefined : opts.context;
  if (wanted && !merged.contexts.has(wanted))
    throw new KubeConfigError(`Context ${JSON.stringify(wanted)} is not in the kubeconfig (${source}). Available contexts: ${contextNames.join(', ') || 'none'}.`);
  const name = wanted ?? merged.currentContext;
  const ctx = name ? merged.contexts.get(name) : undefined;
  if (!name || !ctx)
    throw new KubeConfigError(
      `The kubeconfig (${source}) has no usable current context${name ? ` (current-context ${JSON.stringify(name)} is not defined)` : ''}. Pass --context NAME; contexts: ${contextNames.join(', ') || 'none'}.`,
    );
  const clusterName = str(ctx.body.cluster);
  if (!clusterName) throw new KubeConfigError(`${where(ctx, 'context')} names no cluster. Set one: kubectl config set-context ${name} --cluster=NAME.`);
  const clusterRaw = merged.clusters.get(clusterName);
  if (!clusterRaw)
    throw new KubeConfigError(`${where(ctx, 'context')} names cluster ${JSON.stringify(clusterName)}, which is not in the kubeconfig. Clusters: ${[...merged.clusters.keys()].join(', ') || 'none'}.`);
  const userName = str(ctx.body.user);
  let user: UserEntry | undefined;
  if (userName) {
    const userRaw = merged.users.get(userName);
    if (!userRaw)
      throw new KubeConfigError(
        `${where(ctx, 'context')} names user ${JSON.stringify(userName)}, which is not in the kubeconfig. Users: ${[...merged.users.keys()].join(', ') || 'none'}. Add the user or fix the context's user.`,
      );
    user = toUser(userRaw);
  }
  const contexts: Context[] = [...merged.contexts.values()].map((c) => ({ name: c.name, cluster: str(c.body.cluster) ?? '', user: str(c.body.user) ?? '', namespace: str(c.body.namespace) }));
  return { context: name, cluster: toCluster(clusterRaw), user, source, contexts };
}

function inCluster(env: NodeJS.ProcessEnv): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    context: 'inCluster',
    cluster: { name: 'inCluster', server, caFile: path.join(SA_DIR, 'ca.crt'), skipTLSVerify: false },
    // The projected token rotates (about hourly): read it from the file, not once at startup.
    user: { name: 'inCluster', tokenFile: path.join(SA_DIR, 'token'), impersonate: { groups: [], extra: {} } },
    source: 'in-cluster service account',
    contexts: [{ name: 'inCluster', cluster: 'inCluster', user: 'inCluster' }],
  };
}

/** The chosen configuration as client-node's KubeConfig (context listing, tests). */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv }): Promise<KubeConfig> {
  return clientNodeConfig(loadClusterAccess(opts));
}

export function describeKubeConfig(kc: KubeConfig): { context: string; server: string; user: string } {
  return {
    context: kc.getCurrentContext(),
    server: kc.getCurrentCluster()?.server ?? '',
    user: kc.getCurrentUser()?.name ?? '',
  };
}

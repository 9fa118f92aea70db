import { randomBytes } from 'node:crypto';

export interface User {
  name: string;
  groups: string[];
}

export const ADMIN_USER: User = { name: 'sandbox-admin', groups: ['system:masters', 'system:authenticated'] };
export const RESTRICTED_USER: User = { name: 'sandbox-restricted', groups: ['system:authenticated'] };

export interface Tokens {
  admin: string;
  restricted: string;
}

export function newTokens(): Tokens {
  return { admin: randomBytes(24).toString('hex'), restricted: randomBytes(24).toString('hex') };
}

/** Bearer-token authentication; undefined means 401. */
export function authenticate(authorization: string | undefined, tokens: Tokens): User | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  if (m[1] === tokens.admin) return ADMIN_USER;
  if (m[1] === tokens.restricted) return RESTRICTED_USER;
  return undefined;
}

/** What a request asked to act as (kube-apiserver's impersonation headers). */
export interface Impersonation {
  user: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/**
 * kube-apiserver's impersonation filter: Impersonate-User, -Group (repeated), -Uid and -Extra-<key>
 * (percent-encoded key). Groups, uid or extra without a user is a 400; only a user allowed to impersonate
 * (here: system:masters) may; the result is the impersonated identity, authenticated.
 */
export function impersonate(user: User, headers: Record<string, string | string[] | undefined>): { as?: User; asked?: Impersonation; error?: { code: 400 | 403; message: string } } {
  const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
  const name = all(headers['impersonate-user'])[0];
  const groups = all(headers['impersonate-group']);
  const uid = all(headers['impersonate-uid'])[0];
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!k.startsWith('impersonate-extra-')) continue;
    extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = all(v);
  }
  if (!name) {
    if (groups.length || uid || Object.keys(extra).length)
      return { error: { code: 400, message: `requested [${[...groups.map((g) => `{Group ${g}}`), ...(uid ? [`{UID ${uid}}`] : [])].join(' ')}] without impersonating a user` } };
    return {};
  }
  const asked: Impersonation = { user: name, uid, groups, extra };
  if (!user.groups.includes('system:masters'))
    return { asked, error: { code: 403, message: `users "${name}" is forbidden: User "${user.name}" cannot impersonate resource "users" in API group "" at the cluster scope` } };
  return { asked, as: { name, groups: [...new Set([...groups, 'system:authenticated'])] } };
}

/** The authorizer's view of a request, as in SubjectAccessReview spec.resourceAttributes / nonResourceAttributes. */
export type Attributes =
  | { kind: 'resource'; verb: string; group: string; resource: string; subresource?: string; name?: string; namespace?: string }
  | { kind: 'nonResource'; verb: string; path: string };

export interface Decision {
  allowed: boolean;
  reason: string;
}

const binding = (name: string, subject: string) =>
  `RBAC: allowed by ClusterRoleBinding "${name}" of ClusterRole "${name}" to ${subject}`;

// The default ClusterRoles every authenticated user gets (system:discovery, system:public-info-viewer).
const PUBLIC_PATHS = [/^\/api(\/.*)?$/, /^\/apis(\/.*)?$/, /^\/version\/?$/, /^\/(healthz|livez|readyz)(\/.*)?$/, /^\/openapi(\/.*)?$/];

/** RBAC as configured in the sandbox: the admin may do anything; the restricted user may only read nodes. */
export function authorize(user: User, a: Attributes): Decision {
  if (user.groups.includes('system:masters')) return { allowed: true, reason: binding('cluster-admin', 'Group "system:masters"') };
  if (a.kind === 'nonResource') {
    if (a.verb === 'get' && PUBLIC_PATHS.some((re) => re.test(a.path))) {
      return { allowed: true, reason: binding(a.path.startsWith('/api') ? 'system:discovery' : 'system:public-info-viewer', 'Group "system:authenticated"') };
    }
    return { allowed: false, reason: '' };
  }
  if (user.name === RESTRICTED_USER.name) {
    if (a.group === '' && a.resource === 'nodes' && !a.subresource && ['get', 'list', 'watch'].includes(a.verb)) {
      return { allowed: true, reason: binding('sandbox-node-viewer', `User "${user.name}"`) };
    }
    if (
      a.group === 'authorization.k8s.io' &&
      ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'].includes(a.resource) &&
      a.verb === 'create'
    ) {
      return { allowed: true, reason: binding('system:basic-user', 'Group "system:authenticated"') };
    }
  }
  return { allowed: false, reason: '' };
}

/** The RBAC verb kube-apiserver derives from an HTTP method (RequestInfoFactory). */
export function verbFor(method: string, opts: { collection?: boolean; watch?: boolean } = {}): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return opts.watch ? 'watch' : opts.collection ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return opts.collection ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

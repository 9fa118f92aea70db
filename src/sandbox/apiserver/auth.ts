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

/** API discovery documents, legacy (APIVersions / APIGroupList / APIResourceList) and aggregated (apidiscovery.k8s.io). */

const NODE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const PROXY_VERBS = ['create', 'delete', 'get', 'patch', 'update'];
const STATUS_VERBS = ['get', 'patch', 'update'];

export const AUTHZ_GROUP = 'authorization.k8s.io';
const AUTHZ_GV = { groupVersion: `${AUTHZ_GROUP}/v1`, version: 'v1' };

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function coreV1Resources() {
  return {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: NODE_VERBS, shortNames: ['no'], storageVersionHash: 'XwShjMxG9Fs=' },
      { name: 'nodes/proxy', singularName: '', namespaced: false, kind: 'NodeProxyOptions', verbs: PROXY_VERBS },
      { name: 'nodes/status', singularName: '', namespaced: false, kind: 'Node', verbs: STATUS_VERBS },
    ],
  };
}

const authzGroup = () => ({ name: AUTHZ_GROUP, versions: [AUTHZ_GV], preferredVersion: AUTHZ_GV });

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [authzGroup()] };
}

export function authzGroupDoc() {
  return { kind: 'APIGroup', apiVersion: 'v1', ...authzGroup() };
}

export function authzV1Resources() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: AUTHZ_GV.groupVersion,
    resources: [
      { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
    ],
  };
}

const kindRef = (kind: string) => ({ group: '', version: '', kind });

/** Aggregated discovery for /api (legacy: true) or /apis. */
export function aggregated(legacy: boolean, version: 'v2' | 'v2beta1') {
  const items = legacy
    ? [
        {
          metadata: { creationTimestamp: null },
          versions: [
            {
              version: 'v1',
              resources: [
                {
                  resource: 'nodes',
                  responseKind: kindRef('Node'),
                  scope: 'Cluster',
                  singularResource: 'node',
                  verbs: NODE_VERBS,
                  shortNames: ['no'],
                  subresources: [
                    { subresource: 'proxy', responseKind: kindRef('NodeProxyOptions'), verbs: PROXY_VERBS },
                    { subresource: 'status', responseKind: kindRef('Node'), verbs: STATUS_VERBS },
                  ],
                },
              ],
              freshness: 'Current',
            },
          ],
        },
      ]
    : [
        {
          metadata: { name: AUTHZ_GROUP, creationTimestamp: null },
          versions: [
            {
              version: 'v1',
              resources: [
                {
                  resource: 'selfsubjectaccessreviews',
                  responseKind: kindRef('SelfSubjectAccessReview'),
                  scope: 'Cluster',
                  singularResource: 'selfsubjectaccessreview',
                  verbs: ['create'],
                },
              ],
              freshness: 'Current',
            },
          ],
        },
      ];
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

/** Accept header → media ranges in the client's order (q-values are not used by Kubernetes clients). */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params };
  });
}

const isJson = (m: MediaRange) => m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*';

/** The aggregated-discovery version the client asked for first, if any. */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const m of parseAccept(accept)) {
    if (!isJson(m)) continue;
    if (m.params.g === 'apidiscovery.k8s.io' && m.params.as === 'APIGroupDiscoveryList' && (m.params.v === 'v2' || m.params.v === 'v2beta1')) {
      return m.params.v;
    }
    if (!m.params.as) return undefined; // plain JSON preferred before any aggregated form
  }
  return undefined;
}

/** The meta.k8s.io Table version the client asked for first, if any (kubectl get asks for as=Table). */
export function wantsTable(accept: string | undefined): 'v1' | 'v1beta1' | undefined {
  for (const m of parseAccept(accept)) {
    if (!isJson(m)) continue;
    if (m.params.as === 'Table' && m.params.g === 'meta.k8s.io' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return m.params.v;
    if (!m.params.as) return undefined;
  }
  return undefined;
}

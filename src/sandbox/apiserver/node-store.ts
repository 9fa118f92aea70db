import { humanAge } from '../nodes.js';
import { SelectorError, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';

/** What the apiserver knows about one node. */
export interface NodeRecord {
  name: string;
  /** The Node object without kind/apiVersion. */
  object: NodeObject;
  internalIP: string;
  /** http://127.0.0.1:PORT of its kubelet; undefined when nothing listens (connection refused). */
  kubeletUrl?: string;
  fleet: boolean;
}

export interface NodeObject {
  metadata: { name: string; labels: Record<string, string>; creationTimestamp: string; resourceVersion: string; [k: string]: unknown };
  spec: { unschedulable?: boolean; [k: string]: unknown };
  status: {
    conditions: Array<{ type: string; status: string }>;
    addresses: Array<{ type: string; address: string }>;
    nodeInfo: { kubeletVersion: string; osImage: string; kernelVersion: string; containerRuntimeVersion: string };
    [k: string]: unknown;
  };
}

export interface ListParams {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: string;
  continue?: string;
}

export interface ListResult {
  items: NodeObject[];
  continue?: string;
  remainingItemCount?: number;
}

export class ListError extends Error {}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

/** The node registry: sorted by name like etcd keys, with selectors and limit/continue paging. */
export class NodeStore {
  private readonly byName = new Map<string, NodeRecord>();
  private readonly sorted: NodeRecord[];

  constructor(
    nodes: NodeRecord[],
    readonly resourceVersion: number,
  ) {
    for (const n of nodes) this.byName.set(n.name, n);
    this.sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): NodeRecord | undefined {
    return this.byName.get(name);
  }

  all(): readonly NodeRecord[] {
    return this.sorted;
  }

  list(p: ListParams): ListResult {
    let labels, fields;
    try {
      labels = parseLabelSelector(p.labelSelector ?? '');
      fields = parseFieldSelector(p.fieldSelector ?? '');
    } catch (e) {
      if (e instanceof SelectorError) throw new ListError(e.message);
      throw e;
    }
    const limit = parseLimit(p.limit);
    const start = p.continue ? decodeContinue(p.continue, this.resourceVersion) : '';
    const matching = this.sorted.filter(
      (n) =>
        n.name >= start &&
        matchesLabels(labels, n.object.metadata.labels) &&
        matchesFields(fields, { 'metadata.name': n.name, 'spec.unschedulable': String(n.object.spec.unschedulable ?? false) }),
    );
    if (limit <= 0 || matching.length <= limit) return { items: matching.map((n) => n.object) };
    const page = matching.slice(0, limit);
    const last = page[page.length - 1]!.name;
    const token: ContinueToken = { v: 'meta.k8s.io/v1', rv: this.resourceVersion, start: last + '\u0000' };
    return {
      items: page.map((n) => n.object),
      continue: Buffer.from(JSON.stringify(token)).toString('base64url'),
      remainingItemCount: matching.length - limit,
    };
  }
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  if (!/^-?\d+$/.test(raw)) throw new ListError(`limit: Invalid value: ${JSON.stringify(raw)}: must be an integer`);
  return Number(raw);
}

function decodeContinue(raw: string, rv: number): string {
  let t: Partial<ContinueToken>;
  try {
    t = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<ContinueToken>;
  } catch {
    throw new ListError('continue key is not valid: illegal base64 data or JSON');
  }
  if (t?.v !== 'meta.k8s.io/v1') throw new ListError('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof t.start !== 'string' || t.start === '') throw new ListError('continue key is not valid: encoded start key empty');
  if (t.rv !== rv) throw new ListError('continue key is not valid: resource version mismatch');
  return t.start;
}

const COLUMNS = [
  ['Name', 'name', 0, 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names'],
  ['Status', '', 0, 'The status of the node'],
  ['Roles', '', 0, 'The roles of the node'],
  ['Age', '', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata'],
  ['Version', '', 0, 'Kubelet Version reported by the node.'],
  ['Internal-IP', '', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'],
  ['External-IP', '', 1, 'List of addresses reachable to the node. Queried from cloud provider, if available.'],
  ['OS-Image', '', 1, 'OS image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).'],
  ['Kernel-Version', '', 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."],
  ['Container-Runtime', '', 1, 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).'],
] as const;

/** The row kube-apiserver's node printer produces (pkg/printers/internalversion printNode). */
function nodeCells(n: NodeObject, now: number): Array<string> {
  const ready = n.status.conditions.find((c) => c.type === 'Ready');
  let status = ready?.status === 'True' ? 'Ready' : 'NotReady';
  if (n.spec.unschedulable) status += ',SchedulingDisabled';
  const roles = Object.keys(n.metadata.labels)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter((r) => r !== '')
    .sort();
  const addr = (t: string) => n.status.addresses.find((a) => a.type === t)?.address ?? '<none>';
  const info = n.status.nodeInfo;
  return [
    n.metadata.name,
    status,
    roles.length ? roles.join(',') : '<none>',
    humanAge(now - Date.parse(n.metadata.creationTimestamp)),
    info.kubeletVersion,
    addr('InternalIP'),
    addr('ExternalIP'),
    info.osImage,
    info.kernelVersion,
    info.containerRuntimeVersion,
  ];
}

export function nodeTable(
  items: NodeObject[],
  meta: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  version: 'v1' | 'v1beta1',
  includeObject: string | undefined,
) {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: meta,
    columnDefinitions: COLUMNS.map(([name, format, priority, description]) => ({ name, type: 'string', format, description, priority })),
    rows: items.map((n) => ({
      cells: nodeCells(n, now),
      ...(includeObject === 'None'
        ? {}
        : {
            object:
              includeObject === 'Object'
                ? { kind: 'Node', apiVersion: 'v1', ...n }
                : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: n.metadata },
          }),
    })),
  };
}

import type { V1Node } from '@kubernetes/client-node';
import { untrustedExcerpt } from './errors.js';

export type NodeOs = 'linux' | 'windows' | 'unknown';

export interface NodeSummary {
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  readyReason?: string;
  readyMessage?: string;
  roles: string[];
  os: NodeOs;
  osImage?: string;
  kubeletVersion?: string;
  /** Whether node log query can be expected from version and OS alone. */
  logQuery: 'no' | 'unknown';
  logQueryWhy: string;
}

const ROLE_PREFIX = 'node-role.kubernetes.io/';

export function parseKubeVersion(v: string | undefined): { major: number; minor: number } | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(v ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function versionAtLeast(v: string | undefined, major: number, minor: number): boolean | undefined {
  const p = parseKubeVersion(v);
  if (!p) return undefined;
  return p.major > major || (p.major === major && p.minor >= minor);
}

export function nodeOs(node: V1Node): NodeOs {
  const os = node.status?.nodeInfo?.operatingSystem ?? node.metadata?.labels?.['kubernetes.io/os'];
  return os === 'linux' || os === 'windows' ? os : 'unknown';
}

/**
 * Status fields are written by the node itself (a compromised kubelet writes anything): they are shown
 * outside the untrusted block, so they are redacted, clipped, stripped of hidden characters and of
 * look-alikes of the block's tags, like every other excerpt of node text.
 */
function nodeText(s: string | undefined, max: number): string | undefined {
  return s === undefined ? undefined : untrustedExcerpt(s, max);
}

export function summarizeNode(node: V1Node): NodeSummary {
  const labels = node.metadata?.labels ?? {};
  const roles = Object.keys(labels)
    .filter((k) => k.startsWith(ROLE_PREFIX))
    .map((k) => k.slice(ROLE_PREFIX.length))
    .filter(Boolean)
    .sort();
  if (roles.length === 0 && labels['kubernetes.io/role']) roles.push(labels['kubernetes.io/role']);
  for (let i = 0; i < roles.length; i++) roles[i] = nodeText(roles[i], 63)!;
  const readyCond = node.status?.conditions?.find((c) => c.type === 'Ready');
  const ready = readyCond?.status === 'True' || readyCond?.status === 'False' ? readyCond.status : 'Unknown';
  const os = nodeOs(node);
  const kubeletVersion = nodeText(node.status?.nodeInfo?.kubeletVersion, 64);
  const { logQuery, why } = expectLogQuery(kubeletVersion, os);
  return {
    name: node.metadata?.name ?? '',
    ready,
    readyReason: nodeText(readyCond?.reason, 64),
    readyMessage: nodeText(readyCond?.message, 300),
    roles,
    os,
    osImage: nodeText(node.status?.nodeInfo?.osImage, 100),
    kubeletVersion,
    logQuery,
    logQueryWhy: why,
  };
}

/** What version and OS alone say; the kubelet config decides the rest (check_node_log_support). */
export function expectLogQuery(kubeletVersion: string | undefined, os: NodeOs): { logQuery: 'no' | 'unknown'; why: string } {
  if (os === 'unknown') return { logQuery: 'unknown', why: 'OS not reported' };
  const atLeast127 = versionAtLeast(kubeletVersion, 1, 27);
  if (atLeast127 === false) return { logQuery: 'no', why: `kubelet ${kubeletVersion} is older than v1.27, which introduced node log query` };
  if (atLeast127 === undefined) return { logQuery: 'unknown', why: 'kubelet version not reported' };
  if (versionAtLeast(kubeletVersion, 1, 36))
    return { logQuery: 'unknown', why: 'v1.36+: NodeLogQuery is GA; needs enableSystemLogQuery: true in the kubelet config' };
  return { logQuery: 'unknown', why: 'v1.27–v1.35: needs the NodeLogQuery feature gate and enableSystemLogQuery: true' };
}

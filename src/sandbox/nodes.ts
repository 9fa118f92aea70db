import type { JournalBackend, WinEvent } from './journal/types.js';
import type { KubeletLogConfig, KubeletOptions, KubeletProfile, KubeletRequestRecord } from './kubelet/types.js';
import type { SandboxNodeSpec } from './types.js';

/** Names of the default cluster's nodes, one per behavior worth testing. */
export const NODE_NAMES = {
  controlPlane: 'cp-1',
  worker1: 'worker-1',
  worker2: 'worker-2',
  featureOff: 'nolog-query-1',
  handlerDisabled: 'handler-off-1',
  old: 'old-1',
  windows: 'win-1',
  slow: 'slow-1',
  unreachable: 'gone-1',
  huge: 'huge-1',
} as const;

/** A node where node log query works end to end (journal with seeded incidents). */
export const HEALTHY_NODE = NODE_NAMES.worker1;
export const FLEET_PREFIX = 'fleet-';

export const CURRENT_KUBELET_VERSION = 'v1.36.1';
export const OLD_KUBELET_VERSION = 'v1.26.15';
export const FEATURE_OFF_KUBELET_VERSION = 'v1.35.2';
export const KUBELET_PORT = 10250;
export const SLOW_DRIP_INTERVAL_MS = 250;
export const DEFAULT_HUGE_BYTES = 2 * 1024 * 1024 * 1024;

export function defaultNodes(): SandboxNodeSpec[] {
  const n = NODE_NAMES;
  return [
    { name: n.controlPlane, profile: 'healthy', roles: ['control-plane'] },
    { name: n.worker1, profile: 'healthy' },
    { name: n.worker2, profile: 'healthy' },
    { name: n.featureOff, profile: 'feature-off', kubeletVersion: FEATURE_OFF_KUBELET_VERSION },
    { name: n.handlerDisabled, profile: 'handler-disabled' },
    { name: n.old, profile: 'old' },
    { name: n.windows, profile: 'windows' },
    { name: n.slow, profile: 'slow' },
    { name: n.unreachable, profile: 'unreachable' },
    { name: n.huge, profile: 'huge' },
  ];
}

/** Nodes that reproduce what real clusters do differently (kubelet-node-log-query.md §3–§5). */
export const QUIRK_NODE_NAMES = {
  /** Linux node whose local zone is not UTC (journalctl reads --since/--until in it). */
  zoned: 'ist-1',
  /** v1.29 with the gate on: --until is built from sinceTime. */
  v129: 'v129-1',
  /** The kubelet crash-loops: systemd's UNIT=kubelet.service lines. */
  crashLoop: 'crashloop-1',
  /** Windows in a non-UTC zone, kubelet and containerd logging to files. */
  windowsFiles: 'win-files-1',
  /** enableDebuggingHandlers false: 405 on /logs/, 404 on /configz. */
  debuggingOff: 'debug-off-1',
  /** Accepts connections, never answers. */
  blackHoled: 'blackhole-1',
} as const;

export const QUIRK_TIME_ZONE = 'Asia/Kolkata';
export const QUIRK_WINDOWS_TIME_ZONE = 'America/New_York';

export function quirkNodes(): SandboxNodeSpec[] {
  const n = QUIRK_NODE_NAMES;
  return [
    { name: n.zoned, profile: 'healthy', timeZone: QUIRK_TIME_ZONE },
    { name: n.v129, profile: 'healthy', kubeletVersion: 'v1.29.15', config: { featureGates: { NodeLogQuery: true } } },
    { name: n.crashLoop, profile: 'healthy', kubeletCrashLoop: true },
    { name: n.windowsFiles, profile: 'windows', timeZone: QUIRK_WINDOWS_TIME_ZONE, windowsFileLoggers: true },
    { name: n.debuggingOff, profile: 'debugging-disabled' },
    { name: n.blackHoled, profile: 'black-holed' },
  ];
}

export function fleetNodeName(i: number): string {
  return FLEET_PREFIX + String(i).padStart(4, '0');
}

export function fleetNodes(count: number): SandboxNodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({ name: fleetNodeName(i), profile: 'healthy' as const }));
}

/** The kubelet log configuration each profile stands for (before per-node overrides). */
export function profileConfig(profile: KubeletProfile): KubeletLogConfig {
  const on: KubeletLogConfig = { enableDebuggingHandlers: true, enableSystemLogHandler: true, enableSystemLogQuery: true, featureGates: {} };
  switch (profile) {
    case 'feature-off':
    case 'old':
      return { ...on, enableSystemLogQuery: false };
    case 'handler-disabled':
      return { ...on, enableSystemLogHandler: false, enableSystemLogQuery: false };
    case 'debugging-disabled':
      return { ...on, enableDebuggingHandlers: false };
    default:
      return on;
  }
}

/** A node spec with every default applied. */
export interface ResolvedNode {
  spec: SandboxNodeSpec;
  name: string;
  profile: KubeletProfile;
  os: 'linux' | 'windows';
  kubeletVersion: string;
  config: KubeletLogConfig;
  ready: boolean;
  /** No kubelet listens: the apiserver answers 503 for proxy requests. */
  unreachable: boolean;
  roles: string[];
  internalIP: string;
  seed: number;
  fleet: boolean;
}

export function seedFromName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function resolveNode(spec: SandboxNodeSpec, index: number, fleet = false): ResolvedNode {
  const unreachable = spec.profile === 'unreachable';
  const ipBase = index + 10;
  return {
    spec,
    name: spec.name,
    profile: spec.profile,
    os: spec.os ?? (spec.profile === 'windows' ? 'windows' : 'linux'),
    kubeletVersion: spec.kubeletVersion ?? (spec.profile === 'old' ? OLD_KUBELET_VERSION : CURRENT_KUBELET_VERSION),
    config: { ...profileConfig(spec.profile), ...spec.config },
    ready: spec.ready ?? !unreachable,
    unreachable,
    roles: spec.roles ?? [],
    internalIP: `10.${fleet ? 1 : 0}.${ipBase >> 8}.${ipBase & 255}`,
    seed: spec.seed ?? seedFromName(spec.name),
    fleet,
  };
}

export interface KubeletWiring {
  journal?: JournalBackend;
  winEvents?: WinEvent[];
  varLogDir: string;
  deadlineMs: number;
  hugeBytes?: number;
  hugePlantedErrors?: number;
  onRequest?: (record: KubeletRequestRecord) => void;
}

export function kubeletOptionsFor(node: ResolvedNode, w: KubeletWiring): KubeletOptions {
  const behavior =
    node.profile === 'slow'
      ? { dripIntervalMs: SLOW_DRIP_INTERVAL_MS }
      : node.profile === 'huge'
        ? { hugeBytes: w.hugeBytes ?? DEFAULT_HUGE_BYTES, ...(w.hugePlantedErrors ? { hugePlantedErrors: w.hugePlantedErrors } : {}) }
        : node.profile === 'black-holed'
          ? { blackHole: true }
          : undefined;
  return {
    nodeName: node.name,
    os: node.os,
    kubeletVersion: node.kubeletVersion,
    config: node.config,
    journal: node.os === 'linux' ? w.journal : undefined,
    winEvents: node.os === 'windows' ? w.winEvents : undefined,
    varLogDir: w.varLogDir,
    deadlineMs: w.deadlineMs,
    behavior,
    ...(node.spec.timeZone ? { timeZone: node.spec.timeZone } : {}),
    ...(node.spec.exactUnitMatch ? { exactUnitMatch: true } : {}),
    onRequest: w.onRequest,
  };
}

function fakeUid(name: string, salt: string): string {
  const a = seedFromName(salt + name).toString(16).padStart(8, '0');
  const b = seedFromName(name + salt).toString(16).padStart(8, '0');
  const c = seedFromName(salt + name + salt).toString(16).padStart(8, '0');
  const d = seedFromName(name + salt + name).toString(16).padStart(8, '0');
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A Node object as `kubectl get node -o json` shows it (without kind/apiVersion, which callers add). */
export function buildNodeObject(node: ResolvedNode, now: Date, resourceVersion: string): Record<string, unknown> {
  const windows = node.os === 'windows';
  const created = new Date(now.getTime() - (node.fleet ? 2 : 41) * 24 * 3600 * 1000 - (node.seed % 86_400) * 1000);
  const heartbeat = node.unreachable ? new Date(now.getTime() - 47 * 60 * 1000) : new Date(now.getTime() - 20 * 1000);
  const booted = new Date(created.getTime() + 30 * 1000);
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/instance-type': windows ? 'm6i.2xlarge' : 'm6i.xlarge',
    'beta.kubernetes.io/os': node.os,
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': node.os,
    'node.kubernetes.io/instance-type': windows ? 'm6i.2xlarge' : 'm6i.xlarge',
    'topology.kubernetes.io/region': 'us-east-1',
    'topology.kubernetes.io/zone': `us-east-1${'abc'[node.seed % 3]}`,
  };
  if (node.fleet) labels['sandbox.example.com/pool'] = 'fleet';
  for (const role of node.roles) labels[`node-role.kubernetes.io/${role}`] = '';
  Object.assign(labels, node.spec.labels);
  const cond = (type: string, ok: { status: string; reason: string; message: string }) => ({
    type,
    status: node.unreachable ? 'Unknown' : ok.status,
    lastHeartbeatTime: iso(heartbeat),
    lastTransitionTime: iso(node.unreachable ? new Date(heartbeat.getTime() + 40 * 1000) : booted),
    reason: node.unreachable ? 'NodeStatusUnknown' : ok.reason,
    message: node.unreachable ? 'Kubelet stopped posting node status.' : ok.message,
  });
  const ready = node.ready
    ? { status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
    : {
        status: 'False',
        reason: 'KubeletNotReady',
        message:
          'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      };
  const capacity = windows
    ? { cpu: '8', 'ephemeral-storage': '104256508Ki', memory: '33133732Ki', pods: '110' }
    : { cpu: '4', 'ephemeral-storage': '101430960Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '16044428Ki', pods: '110' };
  const allocatable = windows
    ? { cpu: '8', 'ephemeral-storage': '96083592284', memory: '32621732Ki', pods: '110' }
    : { cpu: '3920m', 'ephemeral-storage': '92381077462', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '15027596Ki', pods: '110' };
  const instanceId = `i-0${seedFromName('i' + node.name).toString(16).padStart(8, '0')}${seedFromName(node.name).toString(16).slice(0, 8)}`;
  const podIndex = Number(node.internalIP.split('.')[3]) + (node.fleet ? 256 : 0);
  return {
    metadata: {
      name: node.name,
      uid: fakeUid(node.name, 'node'),
      resourceVersion,
      creationTimestamp: iso(created),
      labels,
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: `10.244.${podIndex % 256}.0/24`,
      podCIDRs: [`10.244.${podIndex % 256}.0/24`],
      providerID: `aws:///${labels['topology.kubernetes.io/zone']}/${instanceId}`,
      ...(node.roles.includes('control-plane')
        ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }
        : {}),
      ...(node.unreachable
        ? {
            taints: [
              { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: iso(heartbeat) },
              { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(heartbeat) },
            ],
          }
        : {}),
    },
    status: {
      capacity,
      allocatable,
      conditions: [
        cond('MemoryPressure', { status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' }),
        cond('DiskPressure', { status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' }),
        cond('PIDPressure', { status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' }),
        cond('Ready', ready),
      ],
      addresses: [
        { type: 'InternalIP', address: node.internalIP },
        { type: 'Hostname', address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: {
        machineID: seedFromName('m' + node.name).toString(16).padStart(8, '0').repeat(4),
        systemUUID: fakeUid(node.name, 'system').toUpperCase(),
        bootID: fakeUid(node.name, 'boot'),
        kernelVersion: windows ? '10.0.20348.3207' : '6.8.0-1031-aws',
        osImage: windows ? 'Windows Server 2022 Datacenter' : 'Ubuntu 24.04.3 LTS',
        containerRuntimeVersion: 'containerd://2.1.4',
        kubeletVersion: node.kubeletVersion,
        kubeProxyVersion: node.kubeletVersion,
        operatingSystem: node.os,
        architecture: 'amd64',
      },
    },
  };
}

/** Age the way kubectl prints it (duration.HumanDuration). */
export function humanAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

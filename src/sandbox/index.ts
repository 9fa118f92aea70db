import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateServingCerts } from './certs.js';
import { writeKubeconfig } from './kubeconfig.js';
import { SandboxRequestLog } from './request-log.js';
export { peakInFlight } from './request-log.js';
import {
  buildNodeObject,
  defaultNodes,
  fleetNodes,
  kubeletOptionsFor,
  resolveNode,
  type ResolvedNode,
} from './nodes.js';
import { newTokens } from './apiserver/auth.js';
import { NodeStore, type NodeObject, type NodeRecord } from './apiserver/node-store.js';
import { startApiserver } from './apiserver/server.js';
import { startKubelet } from './kubelet/server.js';
import { generateNodeLogs } from './generate/node-logs.js';
import { generateWinEvents, generateWindowsVarLog } from './generate/windows.js';
import { createJournalBackend, realJournalAvailable } from './journal/index.js';
import { JournalWarmup } from './journal-warmup.js';
import type { JournalBackend, WinEvent } from './journal/types.js';
import type { RunningKubelet } from './kubelet/types.js';
import type { Sandbox, SandboxNodeSpec, SandboxOptions } from './types.js';

export type { Sandbox, SandboxNodeSpec, SandboxOptions, RequestRecord, RequestLog } from './types.js';
export { defaultNodes, quirkNodes, QUIRK_NODE_NAMES, QUIRK_TIME_ZONE, QUIRK_WINDOWS_TIME_ZONE, NODE_NAMES, HEALTHY_NODE, fleetNodeName, FLEET_PREFIX } from './nodes.js';

const DEFAULT_DEADLINE_MS = 30_000;

/** What one node's kubelet serves: a /var/log tree on disk plus a journal (Linux) or event log (Windows). */
interface NodeData {
  varLogDir: string;
  journal?: JournalBackend;
  winEvents?: WinEvent[];
}

async function writeTree(root: string, files: Map<string, string>, links: Map<string, string> = new Map()): Promise<void> {
  await mkdir(root, { recursive: true });
  const dirs = new Set<string>();
  for (const rel of [...files.keys(), ...links.keys()]) {
    const full = resolve(root, rel);
    if (!full.startsWith(root + '/')) throw new Error(`generated /var/log path escapes the tree: ${rel}`);
    dirs.add(dirname(full));
  }
  await Promise.all([...dirs].map((d) => mkdir(d, { recursive: true })));
  // Rotated logs: logrotate's compressed generations are gzip on disk.
  await Promise.all([...files].map(([rel, text]) => writeFile(resolve(root, rel), rel.endsWith('.gz') ? gzipSync(text) : text)));
  for (const [rel, target] of links) {
    if (!resolve(dirname(resolve(root, rel)), target).startsWith(root + '/')) throw new Error(`generated /var/log link escapes the tree: ${rel}`);
    await symlink(target, resolve(root, rel));
  }
}

interface JournalPlan {
  prefer: NonNullable<SandboxOptions['journalBackend']>;
  /** The kind 'auto' resolves to on this machine. */
  kind: JournalBackend['kind'];
  warmup: JournalWarmup;
}

async function prepareNodeData(node: ResolvedNode, nodeDir: string, now: Date, plan: JournalPlan): Promise<NodeData> {
  const varLogDir = join(nodeDir, 'var', 'log');
  if (node.os === 'windows') {
    const all = generateWinEvents({ nodeName: node.name, seed: node.seed, now });
    // On most real Windows nodes the kubelet and containerd write files, not Application-log events.
    const winEvents = node.spec.windowsFileLoggers ? all.filter((e) => e.provider !== 'kubelet' && e.provider !== 'containerd') : all;
    await writeTree(varLogDir, generateWindowsVarLog({ nodeName: node.name, seed: node.seed, now }));
    return { varLogDir, winEvents };
  }
  // /logs/ answers 405 whatever is on disk: generating this node's logs would only slow start-up.
  if (!node.config.enableDebuggingHandlers || !node.config.enableSystemLogHandler) {
    await mkdir(varLogDir, { recursive: true });
    return { varLogDir };
  }
  const logs = generateNodeLogs({
    nodeName: node.name,
    seed: node.seed,
    now,
    role: node.roles.includes('control-plane') ? 'control-plane' : 'worker',
    kubeletCrashLoop: node.spec.kubeletCrashLoop === true,
  });
  await writeTree(varLogDir, logs.varLog, logs.varLogLinks);
  const workDir = join(nodeDir, 'journal');
  const timeZone = node.spec.timeZone;
  const journal =
    plan.kind === 'inprocess'
      ? await createJournalBackend(logs.journal, { prefer: 'inprocess', workDir, timeZone })
      : plan.warmup.lazy(plan.kind, () => createJournalBackend(logs.journal, { prefer: plan.prefer, workDir, timeZone }));
  return { varLogDir, journal };
}

/** Like Promise.all, but waits for every job so that clean-up never races a node still being set up. */
async function allSettledOrThrow(jobs: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function roundedNow(): Date {
  const d = new Date();
  d.setUTCSeconds(0, 0);
  return d;
}

/** Starts the emulated cluster: node data, one kubelet per reachable node, the apiserver, a kubeconfig. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const specs: SandboxNodeSpec[] = [...(options.nodes ?? defaultNodes())];
  const fleet = fleetNodes(options.fleet ?? 0);
  const names = new Set([...specs, ...fleet].map((s) => s.name));
  if (names.size !== specs.length + fleet.length) throw new Error('sandbox node names must be unique (fleet nodes are named fleet-NNNN)');
  const ownDir = options.dir === undefined;
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), 'kube-node-logs-sandbox-'))));
  await mkdir(dir, { recursive: true });
  const now = options.now ?? roundedNow();
  const prefer = options.journalBackend ?? 'auto';
  const warmup = new JournalWarmup();
  const plan: JournalPlan = {
    prefer,
    kind: prefer === 'inprocess' || (prefer === 'auto' && !(await realJournalAvailable())) ? 'inprocess' : 'journalctl',
    warmup,
  };
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const log = new SandboxRequestLog();

  const resolved = [...specs.map((s, i) => resolveNode(s, i)), ...fleet.map((s, i) => resolveNode(s, i, true))];

  const kubelets: RunningKubelet[] = [];
  const journals: JournalBackend[] = [];
  let stopApiserver: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await stopApiserver?.();
    await Promise.allSettled(kubelets.map((k) => k.close()));
    await warmup.stop();
    await Promise.allSettled(journals.map((j) => j.close()));
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    // Real time, not `now`: a fixed past `now` for reproducible logs must not yield an expired certificate.
    const certsP = generateServingCerts();
    certsP.catch(() => undefined); // awaited below; a failure must not surface as unhandled meanwhile
    const kubeletUrls = new Map<string, string>();
    const onRequest = log.kubeletReported.bind(log);
    const startOne = async (node: ResolvedNode, data: NodeData) => {
      const k = await startKubelet(kubeletOptionsFor(node, { ...data, deadlineMs, hugeBytes: options.hugeBytes, hugePlantedErrors: options.hugePlantedErrors, onRequest }));
      kubelets.push(k);
      kubeletUrls.set(node.name, k.url);
    };

    const own = resolved.filter((n) => !n.fleet && !n.unreachable);
    await allSettledOrThrow(
      own.map(async (node) => {
        const data = await prepareNodeData(node, join(dir, 'nodes', node.name), now, plan);
        if (data.journal) journals.push(data.journal);
        await startOne(node, data);
      }),
    );

    // Fleet nodes share one generated journal and /var/log tree so that hundreds of them start in seconds.
    const fleetNodesResolved = resolved.filter((n) => n.fleet);
    if (fleetNodesResolved.length) {
      const shared = await prepareNodeData(fleetNodesResolved[0]!, join(dir, 'nodes', '_fleet'), now, plan);
      if (shared.journal) journals.push(shared.journal);
      await allSettledOrThrow(fleetNodesResolved.map((node) => startOne(node, shared)));
    }

    const resourceVersion = 1000 + resolved.length;
    const records: NodeRecord[] = resolved.map((node, i) => ({
      name: node.name,
      object: buildNodeObject(node, now, String(100 + i)) as unknown as NodeObject,
      internalIP: node.internalIP,
      kubeletUrl: kubeletUrls.get(node.name),
      fleet: node.fleet,
    }));

    const certs = await certsP;
    const caPath = join(dir, 'ca.crt');
    await writeFile(caPath, certs.caPem);
    const tokens = newTokens();
    const apiserver = await startApiserver({
      certs,
      tokens,
      store: new NodeStore(records, resourceVersion),
      log,
      fleetLatencyMs: options.fleetLatencyMs,
    });
    stopApiserver = apiserver.close;
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server: apiserver.url, caPath, tokens });

    if (options.warmJournals) warmup.start();
    let closed: Promise<void> | undefined;
    return {
      apiserverUrl: apiserver.url,
      kubeconfigPath,
      caPath,
      tokens,
      dir,
      nodes: resolved.map((n) => ({ ...n.spec, seed: n.seed, kubeletVersion: n.kubeletVersion, os: n.os, roles: n.roles, ready: n.ready })),
      now,
      requestLog: log,
      writes: () => log.writes(),
      kubeletUrls: Object.fromEntries(kubeletUrls),
      close: () => (closed ??= cleanup()),
    };
  } catch (e) {
    await cleanup().catch(() => undefined);
    throw e;
  }
}

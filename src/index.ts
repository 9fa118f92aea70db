#!/usr/bin/env node
import './compile-cache.js';
import './v8-flags.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ConfigError, helpText, parseArgs, redisUrlProblem, type ServerConfig } from './config.js';
import type { KubeClient } from './kube/client.js';
import type { LazyKube } from './kube/lazy.js';
import type { LimitStore } from './limits/limit-store.js';
import type { ClusterScheduler } from './limits/cluster-scheduler.js';
import type { ClusterSessions } from './http/cluster-sessions.js';
import type { NodeScheduler } from './limits/scheduler.js';
import fs from 'node:fs';
import { VERSION } from './version.js';

// Start-up: assistants start every configured server when they open, so only what answers initialize and
// tools/list is imported up front. The cluster client, the sandbox (--demo), metrics (prom-client), Redis
// and the HTTP stack are imported by the path that uses them, when it does; @kubernetes/client-node only
// for an auth-provider user (src/kube/kubeconfig.ts clientNodeConfig).

function readAuthToken(config: ServerConfig): string | undefined {
  const direct = process.env.KUBE_NODE_LOGS_AUTH_TOKEN?.trim();
  if (config.authTokenFile) {
    const token = fs.readFileSync(config.authTokenFile, 'utf8').trim();
    if (!token) throw new Error(`--auth-token-file ${config.authTokenFile} is empty.`);
    return token;
  }
  return direct || undefined;
}

function readRedisUrl(config: ServerConfig): string | undefined {
  if (!config.redisUrlFile) return config.redisUrl;
  const url = fs.readFileSync(config.redisUrlFile, 'utf8').trim();
  if (!url) throw new Error(`--redis-url-file ${config.redisUrlFile} is empty.`);
  const problem = redisUrlProblem(url);
  if (problem) throw new Error(`--redis-url-file ${config.redisUrlFile}: ${problem}`);
  return url;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kube-node-logs-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(helpText(VERSION));
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (parsed.summarize) {
    const { runSummarize } = await import('./logs/summarize-cli.js');
    return runSummarize(
      { file: parsed.summarize.file, format: parsed.summarize.format, budgetChars: parsed.config.defaultOutputChars },
      { stdin: process.stdin, stdout: process.stdout },
    );
  }

  const config: ServerConfig = { ...parsed.config };
  const cleanups: (() => Promise<void> | void)[] = [];
  /** Builds the cluster client: for --demo, starts the sandbox first and points the client at it. */
  const buildKube = async (): Promise<KubeClient> => {
    if (parsed.demo) {
      const { startSandbox } = await import('./sandbox/index.js');
      const sandbox = await startSandbox({});
      cleanups.push(() => sandbox.close());
      config.kubeconfig = sandbox.kubeconfigPath;
      config.context = undefined;
      process.stderr.write(`kube-node-logs-mcp: --demo: serving the built-in sandbox cluster at ${sandbox.apiserverUrl} (kubeconfig ${sandbox.kubeconfigPath})\n`);
    }
    const { connectKube } = await import('./kube/connect.js');
    const kube = connectKube(config);
    cleanups.push(() => kube.close());
    return kube;
  };

  if (config.transport === 'http') return serveHttp(config, buildKube, cleanups);

  // stdio: answer first, load the cluster client on the first call that needs it. A kubeconfig problem
  // then comes back as that call's error (and on stderr), which an assistant shows to its user; an
  // exit before initialize would only say "server disconnected".
  const [{ lazyKube }, { createServer }, { RequestScheduler }, { SupportCache }, { StdioServerTransport }] = await Promise.all([
    import('./kube/lazy.js'),
    import('./server.js'),
    import('./limits/scheduler.js'),
    import('./nodelogs/support-cache.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
  ]);
  const lazy = lazyKube(async () => {
    try {
      const kube = await buildKube();
      process.stderr.write(`kube-node-logs-mcp: cluster ${kube.server}, ${kube.route.describe}\n`);
      return kube;
    } catch (err) {
      process.stderr.write(`kube-node-logs-mcp: ${(err as Error).message}\n`);
      throw err;
    }
  });
  const scheduler = new RequestScheduler(config);
  cleanups.push(() => scheduler.stop());
  // No metrics over stdio: nothing could scrape them.
  const server = createServer({ kube: lazy.kube, config, scheduler, support: new SupportCache() });
  const shutdown = shutdownOnSignals(server, cleanups);
  const transport = new StdioServerTransport();
  // The SDK does not watch stdin: without this, a client that goes away leaves the process orphaned.
  process.stdin.on('close', () => void shutdown(0));
  await server.connect(transport);
  holdUntilKubeLoaded(transport, lazy);
  process.stderr.write(`kube-node-logs-mcp ${VERSION}: serving MCP over stdio (the cluster client loads on the first tool call)\n`);
  return -1;
}

/** Exits after closing the server (which aborts in-flight requests: their extra.signal fires) and running the cleanups; also on SIGTERM/SIGINT. */
function shutdownOnSignals(server: { close(): Promise<void> }, cleanups: (() => Promise<void> | void)[]): (code: number) => Promise<void> {
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => undefined);
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  return shutdown;
}

/**
 * The first tools/call (and whatever arrives after it, in order) waits for the cluster client before the SDK
 * sees it, so that loading the client is not charged to that call's --call-timeout, and a cancellation
 * that arrives meanwhile still finds its request. Messages before it (initialize, tools/list) pass at once.
 */
function holdUntilKubeLoaded(transport: Transport, lazy: LazyKube): void {
  const deliver = transport.onmessage;
  if (!deliver) throw new Error('holdUntilKubeLoaded: the transport is not connected');
  let held: Parameters<typeof deliver>[] | undefined;
  transport.onmessage = (...args) => {
    if (held) return void held.push(args);
    const msg = args[0] as { method?: string };
    if (msg.method !== 'tools/call' || lazy.loaded()) return deliver(...args);
    held = [args];
    void lazy
      .ready()
      .catch(() => undefined) // the call itself meets the error, and says it
      .then(() => {
        const queue = held!;
        held = undefined;
        transport.onmessage = deliver;
        for (const a of queue) deliver(...a);
      });
  };
}

/**
 * HTTP (chat-ops, in-cluster): the cluster client is built before listening, so that a deployment with a
 * bad kubeconfig or service account fails at once with exit code 2 instead of answering every call with it.
 */
async function serveHttp(config: ServerConfig, buildKube: () => Promise<KubeClient>, cleanups: (() => Promise<void> | void)[]): Promise<number> {
  const [{ KubeConfigError }, { createServer }, { startHttpServer }, { RequestScheduler }, { DEFAULT_SESSION_POLICY }, { Metrics }, { SupportCache }] =
    await Promise.all([
      import('./kube/kubeconfig-error.js'),
      import('./server.js'),
      import('./http/http-server.js'),
      import('./limits/scheduler.js'),
      import('./http/sessions.js'),
      import('./metrics.js'),
      import('./nodelogs/support-cache.js'),
    ]);
  let kube: KubeClient;
  try {
    kube = await buildKube();
  } catch (err) {
    if (err instanceof KubeConfigError) {
      process.stderr.write(`kube-node-logs-mcp: ${err.message}\n`);
      for (const c of cleanups) await c();
      return 2;
    }
    throw err;
  }

  const metrics = new Metrics({ processMetrics: true });
  const log = (l: string) => process.stderr.write(`kube-node-logs-mcp: ${l}\n`);
  let redisUrl: string | undefined;
  try {
    redisUrl = readRedisUrl(config);
  } catch (err) {
    log((err as Error).message);
    for (const c of cleanups) await c();
    return 2;
  }
  // Cluster mode: limits, sessions and cancellations shared with the other replicas through Redis.
  let cluster: { store: LimitStore; scheduler: ClusterScheduler; sessions: ClusterSessions } | undefined;
  let scheduler: NodeScheduler;
  if (redisUrl) {
    // Redis (ioredis, bottleneck's cluster mode) only where it is configured.
    const [{ LimitStore, isLimitStoreError }, { ClusterScheduler, clusterKeyPrefix }, { ClusterSessions }] = await Promise.all([
      import('./limits/limit-store.js'),
      import('./limits/cluster-scheduler.js'),
      import('./http/cluster-sessions.js'),
    ]);
    const store = new LimitStore({
      url: redisUrl,
      onStateChange: (up, why) => {
        metrics.limitStoreUp.set(up ? 1 : 0);
        metrics.limitStoreTransitions.inc({ to: up ? 'up' : 'down' });
        log(up ? 'shared limit store (Redis) reachable' : `shared limit store (Redis) unreachable: ${why}; node log queries ${config.redisFallback === 'local' ? 'run under this replica\'s own limits' : 'are refused'} until it is back`);
      },
      onError: (op) => metrics.limitStoreErrors.inc({ op }),
    });
    const prefix = config.redisKeyPrefix ?? clusterKeyPrefix(kube.server);
    const clusterScheduler = new ClusterScheduler({
      limits: config,
      store,
      prefix,
      fallback: config.redisFallback,
      globalExpirationMs: config.requestTimeoutMs + config.redisSlotMarginMs,
      // A node slot covers the wait for a global one (within the call's deadline) and, after a cancel,
      // the journalctl still running on the node until the kubelet's deadline.
      nodeExpirationMs: config.callTimeoutMs + config.kubeletDeadlineMs + config.redisSlotMarginMs,
      nodeHoldMs: config.kubeletDeadlineMs,
      leaseMs: config.redisLeaseMs,
      onReaped: (n) => metrics.limitSlotsReaped.inc(n),
      log,
    });
    metrics.clusterRunning = () => clusterScheduler.clusterRunning();
    const sessions = new ClusterSessions(
      store.client,
      prefix,
      { ...DEFAULT_SESSION_POLICY, maxSessions: config.maxSessions, maxPerClient: config.maxSessionsPerClient, evictIdleMs: config.sessionEvictIdleMs },
      (op) => metrics.limitStoreErrors.inc({ op }),
      () => store.up,
      // Events are this replica's; the open count is cluster-wide.
      (event, open) => {
        metrics.httpSessionEvents.inc({ event });
        if (open !== undefined) metrics.httpSessionsOpen.set(open);
      },
    );
    cluster = { store, scheduler: clusterScheduler, sessions };
    process.on('unhandledRejection', (reason) => {
      if (isLimitStoreError(reason)) {
        metrics.limitStoreErrors.inc({ op: 'limiter' });
        log(`shared limit store: ${(reason as Error)?.message ?? String(reason)}`);
        return;
      }
      // What Node does by default: a rejection nobody handles is a bug.
      process.stderr.write(`kube-node-logs-mcp: fatal: unhandled rejection: ${(reason as Error)?.stack ?? String(reason)}\n`);
      process.exit(1);
    });
    scheduler = clusterScheduler;
    // Last: after the HTTP server stopped and the running jobs gave their slots back.
    cleanups.push(async () => {
      // Running jobs free their slots in Redis as they end; never wait on a dead Redis for long.
      await Promise.race([clusterScheduler.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
      await sessions.close();
      await store.close();
    });
  } else {
    const local = new RequestScheduler(config);
    scheduler = local;
    cleanups.push(() => local.stop());
  }
  const shared = { kube, config, metrics, scheduler, support: new SupportCache() };
  const server = createServer(shared);
  const shutdown = shutdownOnSignals(server, cleanups);

  {
    let authToken: string | undefined;
    try {
      authToken = readAuthToken(config);
      const http = await startHttpServer({
        host: config.host,
        port: config.port,
        authToken,
        allowedHosts: config.allowedHosts?.split(',').map((h) => h.trim()).filter(Boolean),
        makeServer: () => createServer(shared),
        maxSessions: config.maxSessions,
        maxSessionsPerClient: config.maxSessionsPerClient,
        sessionEvictIdleMs: config.sessionEvictIdleMs,
        headersTimeoutMs: config.httpHeaderTimeoutMs,
        bodyTimeoutMs: config.httpBodyTimeoutMs,
        metrics,
        log,
        cluster: cluster && { sessions: cluster.sessions },
        notReady: () => {
          if (!cluster) return undefined;
          if (!cluster.scheduler.ready) return `shared limits not set up in Redis yet${cluster.store.reason ? ` (${cluster.store.reason})` : ''}`;
          if (!cluster.sessions.ready) return 'not subscribed to the cancel channel in Redis yet';
          return undefined;
        },
      });
      // Runs first at shutdown: stop taking requests and abort the in-flight ones, before the limits go.
      cleanups.push(() => http.close());
      process.stderr.write(
        `kube-node-logs-mcp ${VERSION}: serving MCP over Streamable HTTP at ${http.url}${authToken ? ' (bearer token required)' : ''} (cluster ${kube.server}, ${kube.route.describe})${cluster ? `; replicas share limits and sessions through Redis (keys ${cluster.scheduler.keyPrefix})` : ''}\n`,
      );
    } catch (err) {
      process.stderr.write(`kube-node-logs-mcp: ${(err as Error).message}\n`);
      await shutdown(2);
      return 2;
    }
    return -1;
  }
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`kube-node-logs-mcp: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);

#!/usr/bin/env node
import './v8-flags.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ConfigError, helpText, parseArgs, redisUrlProblem, type ServerConfig } from './config.js';
import { connectKube } from './kube/connect.js';
import { KubeConfigError } from './kube/kubeconfig.js';
import { createServer } from './server.js';
import { startHttpServer } from './http/http-server.js';
import { RequestScheduler, type NodeScheduler } from './limits/scheduler.js';
import { LimitStore, isLimitStoreError } from './limits/limit-store.js';
import { ClusterScheduler, clusterKeyPrefix } from './limits/cluster-scheduler.js';
import { ClusterSessions } from './http/cluster-sessions.js';
import { DEFAULT_SESSION_POLICY } from './http/sessions.js';
import { Metrics } from './metrics.js';
import { SupportCache } from './nodelogs/support-cache.js';
import fs from 'node:fs';
import { VERSION } from './version.js';

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
  if (parsed.demo) {
    const { startSandbox } = await import('./sandbox/index.js');
    const sandbox = await startSandbox({});
    cleanups.push(() => sandbox.close());
    config.kubeconfig = sandbox.kubeconfigPath;
    config.context = undefined;
    process.stderr.write(`kube-node-logs-mcp: --demo: serving the built-in sandbox cluster at ${sandbox.apiserverUrl} (kubeconfig ${sandbox.kubeconfigPath})\n`);
  }

  let kube;
  try {
    kube = connectKube(config);
  } catch (err) {
    if (err instanceof KubeConfigError) {
      process.stderr.write(`kube-node-logs-mcp: ${err.message}\n`);
      for (const c of cleanups) await c();
      return 2;
    }
    throw err;
  }
  cleanups.push(() => kube.close());

  const metrics = new Metrics({ processMetrics: config.transport === 'http' });
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
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    // Closing the server aborts in-flight requests (their extra.signal fires).
    await server.close().catch(() => undefined);
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));

  if (config.transport === 'http') {
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
  const transport = new StdioServerTransport();
  // The SDK does not watch stdin: without this, a client that goes away leaves the process orphaned.
  process.stdin.on('close', () => void shutdown(0));
  await server.connect(transport);
  process.stderr.write(`kube-node-logs-mcp ${VERSION}: serving MCP over stdio (cluster ${kube.server}, ${kube.route.describe})\n`);
  return -1;
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

#!/usr/bin/env node
import './v8-flags.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ConfigError, helpText, parseArgs, type ServerConfig } from './config.js';
import { connectKube } from './kube/connect.js';
import { KubeConfigError } from './kube/kubeconfig.js';
import { createServer } from './server.js';
import { startHttpServer } from './http/http-server.js';
import { RequestScheduler } from './limits/scheduler.js';
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
  const shared = { kube, config, metrics, scheduler: new RequestScheduler(config), support: new SupportCache() };
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
        metrics,
        log: (l) => process.stderr.write(`kube-node-logs-mcp: ${l}\n`),
      });
      cleanups.unshift(() => http.close());
      process.stderr.write(`kube-node-logs-mcp ${VERSION}: serving MCP over Streamable HTTP at ${http.url}${authToken ? ' (bearer token required)' : ''} (cluster ${kube.server}, ${kube.route.describe})\n`);
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

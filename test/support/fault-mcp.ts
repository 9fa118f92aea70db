/**
 * The MCP server in this process, wired to a cluster through the real kube layer, with an SDK client over
 * an in-memory pair. Faster than spawning dist/index.js, and an unhandled rejection fails the test run.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult, LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseArgs } from '../../src/config.js';
import { connectKube } from '../../src/kube/connect.js';
import { createServer } from '../../src/server.js';

export interface InProcessMcp {
  client: Client;
  /** Every notifications/message the server sent. */
  logMessages: LoggingMessageNotification['params'][];
  call(name: string, args: unknown, opts?: { signal?: AbortSignal; timeout?: number }): Promise<CallToolResult & { text: string }>;
  close(): Promise<void>;
}

export async function startInProcessMcp(args: string[], env: NodeJS.ProcessEnv = {}): Promise<InProcessMcp> {
  const { config } = parseArgs(args, env);
  const kube = connectKube(config, env);
  const server = createServer({ kube, config });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'fault-test', version: '0.0.0' });
  const logMessages: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logMessages.push(n.params);
  });
  await server.connect(serverSide);
  await client.connect(clientSide);
  // Ask for everything the server might log, so a leak through notifications would be seen.
  await client.setLoggingLevel('debug').catch(() => undefined);
  return {
    client,
    logMessages,
    async call(name, callArgs, opts = {}) {
      const res = (await client.callTool({ name, arguments: callArgs as Record<string, unknown> }, undefined, {
        signal: opts.signal,
        timeout: opts.timeout ?? 60_000,
      })) as CallToolResult;
      const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
      return { ...res, text };
    },
    async close() {
      await client.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      kube.close();
    },
  };
}

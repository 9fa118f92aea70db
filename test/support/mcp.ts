import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** The built server; TEST_DIST_ENTRY points the tests at another build (e.g. an older commit, to see a test fail without a fix). */
export const DIST_ENTRY = process.env.TEST_DIST_ENTRY ?? path.resolve(import.meta.dirname, '../../dist/index.js');

export interface McpSession {
  client: Client;
  stderr(): string;
  call(name: string, args: Record<string, unknown>, opts?: { signal?: AbortSignal; onprogress?: (p: { progress: number; total?: number; message?: string }) => void; timeout?: number }): Promise<CallToolResult & { text: string }>;
  close(): Promise<void>;
}

/** Spawns the built server over stdio, as an MCP client would. */
export async function startMcp(opts: { args: string[]; env?: Record<string, string> }): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [DIST_ENTRY, ...opts.args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'e2e-test', version: '0.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    async call(name, args, callOpts = {}) {
      const res = (await client.callTool({ name, arguments: args }, undefined, {
        signal: callOpts.signal,
        onprogress: callOpts.onprogress,
        timeout: callOpts.timeout ?? 60_000,
      })) as CallToolResult;
      const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
      return { ...res, text };
    },
    async close() {
      await client.close();
    },
  };
}

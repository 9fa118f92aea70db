import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startSandbox } from '../sandbox/index.js';

/**
 * `npm run demo`: the sandbox cluster, this server over stdio under a real MCP client, and a short
 * troubleshooting session printed as it happens.
 */
const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../index.js');
const color = process.stdout.isTTY ? (c: number, s: string) => `\u001b[${c}m${s}\u001b[0m` : (_: number, s: string) => s;
const MAX_SHOWN = Number(process.env.DEMO_MAX_CHARS ?? 3500);

function show(text: string): string {
  if (text.length <= MAX_SHOWN) return text;
  return `${text.slice(0, MAX_SHOWN)}\n… [${text.length - MAX_SHOWN} more characters in the real answer; set DEMO_MAX_CHARS to see more]`;
}

async function main(): Promise<void> {
  process.stdout.write(color(1, 'Starting the sandbox cluster (emulated apiserver + kubelets on 127.0.0.1)…\n'));
  const sandbox = await startSandbox({ deadlineMs: 5000 });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, '--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', '5s'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'kube-node-logs-demo', version: '1.0.0' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    process.stdout.write(`Server tools: ${tools.map((t) => t.name).join(', ')}\n`);
    process.stdout.write(`Sandbox kubeconfig: ${sandbox.kubeconfigPath}\n\n`);

    const step = async (title: string, name: string, args: Record<string, unknown>) => {
      process.stdout.write(color(36, `━━ ${title}\n`));
      process.stdout.write(color(2, `→ ${name} ${JSON.stringify(args)}\n`));
      const started = Date.now();
      const res = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
      const text = res.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
      process.stdout.write(color(res.isError ? 31 : 32, `← ${res.isError ? 'error' : 'ok'} in ${Date.now() - started} ms\n`));
      process.stdout.write(`${show(text)}\n\n`);
    };

    await step('1. Which nodes are there?', 'list_nodes', {});
    await step('2. Can we read logs on worker-1?', 'check_node_log_support', { node: 'worker-1' });
    await step('3. Recent kubelet errors on worker-1 (errors only: klog E lines, logfmt level=error)', 'query_node_logs', { node: 'worker-1', query: 'kubelet', pattern: 'E[0-9]{4} |level=error|error:', sinceTime: new Date(Date.now() - 3 * 3600_000).toISOString() });
    await step('4. Kubelet and containerd together, summarized', 'query_node_logs', { node: 'worker-1', query: ['kubelet', 'containerd'], tailLines: 3000, maxOutputChars: 6000 });
    await step('5. Tail a /var/log file on the control plane', 'query_node_logs', { node: 'cp-1', query: '/kube-apiserver.log', tailLines: 50, format: 'lines', maxOutputChars: 4000 });
    await step('6. A Windows node', 'query_node_logs', { node: 'win-1', query: 'Microsoft-Windows-Security-SPP', tailLines: 20 });
    await step('7. A node where node log query is off', 'query_node_logs', { node: 'nolog-query-1', query: 'kubelet' });
    await step('8. …and what to do about it', 'check_node_log_support', { node: 'nolog-query-1' });
    await step('9. A kubelet too old for node log query', 'check_node_log_support', { node: 'old-1' });
    await step('10. Kernel messages (no unit): the answer names the file this node has', 'query_node_logs', { node: 'worker-1', query: 'kernel' });
  } finally {
    await client.close().catch(() => undefined);
    await sandbox.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});

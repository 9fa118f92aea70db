import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, NODE_NAMES, type RequestRecord, type Sandbox } from '../src/sandbox/index.js';
import { VERSION } from '../src/version.js';
import { DIST_ENTRY } from './support/mcp.js';
import { until } from './support/replica.js';

/**
 * The conformance suite drives HTTP only, so over stdio the same ground is covered here with a raw JSON-RPC
 * client (no SDK on our side of the pipe): what the suite's applicable scenarios check (initialize and
 * version negotiation, ping, logging/setLevel, tools/list, prompts/list), plus a tools/call of each tool
 * against the sandbox, progress, and cancellation as the spec words them. Every byte on stdout must be a
 * JSON-RPC message: a stray console.log would break every stdio client.
 */
const FLEET = 4;
const DEADLINE_MS = 20_000;
let sandbox: Sandbox;

type Msg = { jsonrpc: string; id?: number | string; method?: string; params?: Record<string, any>; result?: any; error?: { code: number; message: string } };

class RawStdioClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly received: Msg[] = [];
  readonly badLines: string[] = [];
  stderr = '';
  private buf = '';
  private nextId = 1;
  private waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [DIST_ENTRY, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as Msg;
          if (msg.jsonrpc !== '2.0') throw new Error('not JSON-RPC 2.0');
          this.received.push(msg);
        } catch {
          this.badLines.push(line);
        }
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(msg: Omit<Msg, 'jsonrpc'>): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
  }

  async waitFor(pred: (m: Msg) => boolean, what: string, timeoutMs = 20_000): Promise<Msg> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; stderr:\n${this.stderr}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Sends a request and returns its id and a promise of its response. */
  start(method: string, params?: Record<string, unknown>): { id: number; response: Promise<Msg> } {
    const id = this.nextId++;
    this.send({ id, method, params });
    return { id, response: this.waitFor((m) => m.id === id && m.method === undefined, `the answer to ${method} #${id}`) };
  }

  request(method: string, params?: Record<string, unknown>): Promise<Msg> {
    return this.start(method, params).response;
  }

  async initialize(protocolVersion = '2025-11-25'): Promise<Msg> {
    const res = await this.request('initialize', { protocolVersion, capabilities: {}, clientInfo: { name: 'raw-stdio-conformance', version: '0.0.0' } });
    this.send({ method: 'notifications/initialized' });
    return res;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await exited;
  }
}

const serverArgs = () => ['--kubeconfig', sandbox.kubeconfigPath, '--kubelet-deadline', `${DEADLINE_MS}ms`, '--request-timeout', '30s'];
let client: RawStdioClient;

beforeAll(async () => {
  sandbox = await startSandbox({ fleet: FLEET, journalBackend: 'inprocess', deadlineMs: DEADLINE_MS });
  client = new RawStdioClient(serverArgs());
});

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
});

describe('stdio: the lifecycle and the suite-equivalent scenarios', () => {
  it('initialize: answers the requested protocol version with server info, capabilities and instructions', async () => {
    const res = await client.initialize('2025-11-25');
    expect(res.error).toBeUndefined();
    expect(res.result.protocolVersion).toBe('2025-11-25');
    expect(res.result.serverInfo).toMatchObject({ name: 'kube-node-logs-mcp', version: VERSION });
    expect(Object.keys(res.result.capabilities).sort()).toEqual(expect.arrayContaining(['logging', 'prompts', 'tools']));
    expect(res.result.capabilities.resources).toBeUndefined();
    expect(res.result.instructions).toMatch(/untrusted/);
  });

  it('initialize: an unknown protocol version gets one the server supports (version negotiation)', async () => {
    const other = new RawStdioClient(serverArgs());
    try {
      const older = await other.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } });
      expect(older.result.protocolVersion).toBe('2025-06-18');
      const third = new RawStdioClient(serverArgs());
      try {
        const unknown = await third.request('initialize', { protocolVersion: '1999-01-01', capabilities: {}, clientInfo: { name: 'x', version: '0' } });
        expect(unknown.result.protocolVersion).toMatch(/^20\d\d-\d\d-\d\d$/);
        expect(unknown.result.protocolVersion).not.toBe('1999-01-01');
      } finally {
        await third.close();
      }
    } finally {
      await other.close();
    }
  });

  it('ping answers an empty result', async () => {
    expect((await client.request('ping')).result).toEqual({});
  });

  it('logging/setLevel is accepted (the logging capability is declared)', async () => {
    expect((await client.request('logging/setLevel', { level: 'warning' })).result).toEqual({});
  });

  it('an unknown method is a JSON-RPC "method not found" error', async () => {
    expect((await client.request('resources/list')).error?.code).toBe(-32601);
  });

  it('tools/list: three read-only tools, each with a description, an object input schema and an output schema', async () => {
    const { result } = await client.request('tools/list');
    const tools = result.tools as { name: string; description: string; inputSchema: { type: string }; outputSchema?: { type: string }; annotations?: { readOnlyHint?: boolean } }[];
    expect(tools.map((t) => t.name).sort()).toEqual(['check_node_log_support', 'list_nodes', 'query_node_logs']);
    for (const t of tools) {
      expect(t.description.length, t.name).toBeGreaterThan(40);
      expect(t.inputSchema.type, t.name).toBe('object');
      expect(t.outputSchema?.type, t.name).toBe('object');
      expect(t.annotations?.readOnlyHint, t.name).toBe(true);
    }
  });

  it('prompts/list and prompts/get: troubleshoot_node with its arguments', async () => {
    const { result } = await client.request('prompts/list');
    const p = (result.prompts as { name: string; arguments: { name: string; required?: boolean }[] }[]).find((x) => x.name === 'troubleshoot_node');
    expect(p?.arguments.find((a) => a.name === 'node')?.required).toBe(true);
    const got = await client.request('prompts/get', { name: 'troubleshoot_node', arguments: { node: NODE_NAMES.worker1 } });
    expect(got.result.messages[0].content.text).toContain(NODE_NAMES.worker1);
  });
});

describe('stdio: a tools/call of each tool against the sandbox', () => {
  it('list_nodes lists the sandbox nodes', async () => {
    const { result } = await client.request('tools/call', { name: 'list_nodes', arguments: {} });
    expect(result.isError).toBeFalsy();
    const names = (result.structuredContent.nodes as { name: string }[]).map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining([NODE_NAMES.worker1, NODE_NAMES.controlPlane, NODE_NAMES.slow]));
  });

  it('check_node_log_support says a healthy node is supported', async () => {
    const { result } = await client.request('tools/call', { name: 'check_node_log_support', arguments: { node: NODE_NAMES.worker1 } });
    expect(result.isError).toBeFalsy();
    expect(result.content[0].text).toMatch(/supported/i);
  });

  it('query_node_logs reads kubelet lines from the node, fenced as untrusted', async () => {
    const before = sandbox.requestLog.entries.length;
    const { result } = await client.request('tools/call', { name: 'query_node_logs', arguments: { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: 5, format: 'lines' } });
    expect(result.isError, result.content?.[0]?.text).toBeFalsy();
    expect(result.content[0].text).toContain('<untrusted-node-log');
    const sent = sandbox.requestLog.entries.slice(before).find((r) => r.node === NODE_NAMES.worker1 && r.proxyPath?.startsWith('logs'));
    expect(sent?.query.query).toEqual(['kubelet']);
  });

  it('a call with bad arguments is an isError result naming the problem, and nothing is sent', async () => {
    const before = sandbox.requestLog.entries.length;
    const { result } = await client.request('tools/call', { name: 'query_node_logs', arguments: { node: NODE_NAMES.worker1, query: 'kubelet', tailLines: -1 } });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/tailLines/);
    expect(sandbox.requestLog.entries.slice(before).filter((r) => r.proxyPath)).toEqual([]);
  });
});

describe('stdio: progress and cancellation', () => {
  it('sends notifications/progress for the caller\'s progressToken before the answer, increasing to the total', async () => {
    const { id, response } = client.start('tools/call', {
      name: 'query_node_logs',
      arguments: { labelSelector: 'sandbox.example.com/pool=fleet', query: 'kubelet', tailLines: 5 },
      _meta: { progressToken: 'fan-out-7' },
    });
    const res = await response;
    expect(res.result.isError, res.result.content?.[0]?.text).toBeFalsy();
    const answerAt = client.received.findIndex((m) => m.id === id && m.method === undefined);
    const progress = client.received
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => m.method === 'notifications/progress' && m.params?.progressToken === 'fan-out-7');
    expect(progress.length).toBe(FLEET);
    expect(progress.every(({ i }) => i < answerAt)).toBe(true);
    const values = progress.map(({ m }) => m.params!.progress as number);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values.at(-1)).toBe(FLEET);
    expect(progress.every(({ m }) => m.params!.total === FLEET)).toBe(true);
  });

  it('notifications/cancelled aborts the request to the node, and the cancelled request gets no answer', async () => {
    const logRecords = (): RequestRecord[] => sandbox.requestLog.entries.filter((e) => e.node === NODE_NAMES.slow && e.proxyPath?.startsWith('logs'));
    const already = logRecords().length;
    const { id } = client.start('tools/call', { name: 'query_node_logs', arguments: { node: NODE_NAMES.slow, query: 'kubelet', tailLines: 100000 } });
    const rec = await until('the slow node to be asked', () => logRecords()[already]);
    await new Promise((r) => setTimeout(r, 300)); // let it stream a little
    const cancelledAt = Date.now();
    client.send({ method: 'notifications/cancelled', params: { requestId: id, reason: 'the user changed their mind' } });
    await until('the sandbox to see the request end', () => rec.aborted || rec.durationMs > 0, 5000);
    expect(rec.aborted).toBe(true);
    expect(rec.start + rec.durationMs).toBeLessThan(cancelledAt + 3000);
    // The spec: the receiver should not answer a cancelled request. A ping answered afterwards shows the
    // pipe is alive and that nothing for the cancelled id was still queued before it.
    expect((await client.request('ping')).result).toEqual({});
    await new Promise((r) => setTimeout(r, 300));
    expect(client.received.filter((m) => m.id === id && m.method === undefined)).toEqual([]);
  });

  it('wrote nothing but JSON-RPC 2.0 messages on stdout in this whole file', () => {
    expect(client.badLines).toEqual([]);
    expect(client.received.length).toBeGreaterThan(10);
  });
});

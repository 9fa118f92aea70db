import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';
import { APPLICABLE, runConformance, suiteVersion } from '../scripts/conformance.mjs';
import { haveRedis, RedisServer } from './support/redis-server.js';
import { RoundRobinProxy } from './support/round-robin-proxy.js';
import { httpGet, startReplica, until, type ReplicaProcess } from './support/replica.js';

/**
 * The official MCP conformance suite against the multi-replica set-up: three `--redis-url` replicas behind a
 * proxy that sends every HTTP request to the next replica (no affinity), one real redis-server. The same
 * judging as the single-server run (scripts/conformance.mjs): every applicable scenario must pass.
 */
let sandbox: Sandbox;
let redis: RedisServer;
let proxy: RoundRobinProxy;
let replicas: ReplicaProcess[] = [];

describe.skipIf(!haveRedis && !process.env.REQUIRE_REDIS)('MCP conformance suite through three replicas and a round-robin proxy', () => {
  beforeAll(async () => {
    [sandbox, redis] = await Promise.all([startSandbox({ journalBackend: 'inprocess' }), RedisServer.start()]);
    proxy = new RoundRobinProxy();
    await proxy.start();
    replicas = await Promise.all(
      [0, 1, 2].map(async () => {
        const r = await startReplica(['--kubeconfig', sandbox.kubeconfigPath, '--allowed-hosts', `127.0.0.1:${proxy.port},localhost:${proxy.port}`], { KUBE_NODE_LOGS_REDIS_URL: redis.url });
        await until('the replica to be ready', async () => (await httpGet(r.port, '/readyz')).status === 200, 15_000, 50);
        return r;
      }),
    );
    proxy.targets = replicas.map((r) => r.port);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(
      replicas.map(async (r) => {
        if (r.child.exitCode === null && r.child.signalCode === null) {
          r.child.kill('SIGTERM');
          await r.exited;
        }
      }),
    );
    await proxy?.close();
    await redis?.dispose();
    await sandbox?.close();
  });

  it('passes every applicable scenario with requests spread over the replicas', async () => {
    const result = await runConformance({ url: proxy.url.href });
    process.stdout.write(`\n[conformance ${suiteVersion()} — three replicas behind a round-robin proxy]\n${result.summaryLines.map((l) => `  ${l.replace(/(\d+) passed, (\d+) failed/, 'passed $1, failed $2')}`).join('\n')}\n`);
    expect(result.problems, result.output).toEqual([]);
    for (const s of Object.keys(APPLICABLE)) expect(result.scenarios.get(s), s).toMatchObject({ ok: true, failed: 0 });
    // Requests did land on every replica (no affinity): the run proves the shared session layer, not one replica.
    const targets = new Set(proxy.log.map((r) => r.target));
    expect(targets.size).toBe(3);
  }, 300_000);
});

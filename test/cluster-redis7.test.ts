import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixRedis7ScriptErrors } from '../src/limits/redis7-errors.js';
import { haveRedis, RedisServer } from './support/redis-server.js';

/**
 * The Redis 7 shim (src/limits/redis7-errors.ts) and the bottleneck internals it and the scheduler rely
 * on. If a bottleneck upgrade changes any of them, these tests fail before production does.
 */
const require = createRequire(import.meta.url);
const bottleneckDir = path.dirname(require.resolve('bottleneck/package.json'));

describe('bottleneck internals the product relies on', () => {
  it('is the pinned version', () => {
    const pkg = JSON.parse(readFileSync(path.join(bottleneckDir, 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe('2.19.5');
    const ours = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(ours.dependencies.bottleneck).toBe('2.19.5');
  });

  it('recovers only on the bare messages, and defines its scripts through ioredis defineCommand', () => {
    const datastore = readFileSync(path.join(bottleneckDir, 'lib/RedisDatastore.js'), 'utf8');
    expect(datastore).toContain('e.message === "SETTINGS_KEY_NOT_FOUND"');
    expect(datastore).toContain('e.message === "UNKNOWN_CLIENT"');
    const conn = readFileSync(path.join(bottleneckDir, 'lib/IORedisConnection.js'), 'utf8');
    expect(conn).toMatch(/this\.client\.defineCommand\(name,/);
    // The scheduler forgets a broken node limiter through Group.instances.
    const group = new Bottleneck.Group({});
    group.key('x');
    expect(Object.keys((group as unknown as { instances: Record<string, unknown> }).instances)).toEqual(['x']);
  });
});

describe.skipIf(!haveRedis)('the Redis 7 error shim against a real redis-server', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.dispose();
  });

  function limiter(id: string, shim: boolean) {
    const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    clients.push(raw);
    const client = shim ? fixRedis7ScriptErrors(raw) : raw;
    const connection = new Bottleneck.IORedisConnection({ client });
    connection.on('error', () => undefined);
    const l = new Bottleneck({ id, datastore: 'ioredis', connection, maxConcurrent: 2 });
    l.on('error', () => undefined);
    clients.push((connection as unknown as { subscriber: Redis }).subscriber);
    return { l, raw };
  }

  for (const shim of [false, true]) {
    it(`${shim ? 'with' : 'without'} the shim: the limiter's state deleted (a Redis restart, an expired Group key) → the next job ${shim ? 'runs' : 'fails'}`, async () => {
      const { l, raw } = limiter(`r7-keys-${shim}`, shim);
      expect(await l.schedule(async () => 'first')).toBe('first');
      await raw.del(...(await raw.keys(`b_r7-keys-${shim}_*`)));
      const out = await l.schedule(async () => 'second').catch((e: Error) => e.message);
      if (shim) expect(out).toBe('second');
      else expect(out).toBe('ERR SETTINGS_KEY_NOT_FOUND'); // what Redis 7 sends: the reason the shim exists
    });

    it(`${shim ? 'with' : 'without'} the shim: the client evicted (a replica paused past clientTimeout) → the next job ${shim ? 'runs' : 'fails'}`, async () => {
      const { l, raw } = limiter(`r7-client-${shim}`, shim);
      expect(await l.schedule(async () => 'first')).toBe('first');
      const clientId = (l as unknown as { _store: { clientId: string } })._store.clientId;
      expect(await raw.zrem(`b_r7-client-${shim}_client_last_seen`, clientId)).toBe(1);
      const out = await l.schedule(async () => 'second').catch((e: Error) => e.message);
      if (shim) expect(out).toBe('second');
      else expect(out).toBe('ERR UNKNOWN_CLIENT');
    });
  }

  it('books a running job as the lease reaper reads it: job_clients index → client id, job_expirations score = start + expiration', async () => {
    const { l, raw } = limiter('reaper-layout', true);
    const clientId = (l as unknown as { _store: { clientId: string } })._store.clientId;
    expect(clientId).toMatch(/\w+/);
    let release: (() => void) | undefined;
    const t0 = Date.now();
    const running = l.schedule({ expiration: 60_000 }, () => new Promise<void>((r) => (release = r)));
    const deadline = Date.now() + 3000;
    let clients: Record<string, string> = {};
    while ((Object.keys(clients).length === 0 || !release) && Date.now() < deadline) clients = await raw.hgetall('b_reaper-layout_job_clients');
    const [index, owner] = Object.entries(clients)[0]!;
    expect(owner).toBe(clientId);
    const score = Number(await raw.zscore('b_reaper-layout_job_expirations', index));
    expect(score - 60_000).toBeGreaterThanOrEqual(t0 - 50);
    expect(score - 60_000).toBeLessThanOrEqual(Date.now());
    release!();
    await running;
  });

  it('leaves every other error alone', async () => {
    const raw = fixRedis7ScriptErrors(new Redis(redis.url, { maxRetriesPerRequest: 1 }));
    clients.push(raw);
    raw.defineCommand('failWith', { numberOfKeys: 0, lua: "return redis.error_reply(ARGV[1])" });
    const call = (msg: string) => new Promise<string>((resolve) => (raw as unknown as Record<string, (...a: unknown[]) => void>).failWith!(msg, (err: Error) => resolve(err.message)));
    expect(await call('SETTINGS_KEY_NOT_FOUND')).toBe('SETTINGS_KEY_NOT_FOUND');
    expect(await call('UNKNOWN_CLIENT')).toBe('UNKNOWN_CLIENT');
    expect(await call('OTHER')).toBe('ERR OTHER');
    expect(await call('SETTINGS_KEY_NOT_FOUND_X')).toBe('ERR SETTINGS_KEY_NOT_FOUND_X');
  });
});

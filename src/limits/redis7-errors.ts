import type { Redis } from 'ioredis';

/**
 * bottleneck 2.19.5 recovers from a lost Redis state (a restart without data, a Group key that expired
 * while a replica still held its limiter) and from an evicted client (a replica paused past clientTimeout)
 * only when the script error message equals "SETTINGS_KEY_NOT_FOUND" / "UNKNOWN_CLIENT"
 * (RedisDatastore.runScript). Redis 7 prefixes script errors with "ERR ", so neither branch matches any
 * more and every later call fails for good (bottleneck #205/#212/#219; fix PR #215 never released).
 *
 * bottleneck defines its Lua scripts with ioredis' defineCommand and calls them with a node-style
 * callback; this wraps every command defined that way and strips the prefix from exactly those two
 * errors, so bottleneck's own recovery runs. test/cluster-redis7.test.ts fails if the bottleneck code
 * this relies on changes (that is why bottleneck is pinned exactly).
 */
export const RECOVERABLE_SCRIPT_ERRORS = /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$/;

type Callback = (err: unknown, result?: unknown) => void;

export function fixRedis7ScriptErrors<T extends Redis>(client: T): T {
  const define = client.defineCommand.bind(client);
  client.defineCommand = (name: string, def: { lua: string; numberOfKeys?: number; readOnly?: boolean }) => {
    define(name, def);
    const target = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = target[name]!;
    target[name] = (...args: unknown[]) => {
      const cb = typeof args[args.length - 1] === 'function' ? (args.pop() as Callback) : undefined;
      const p = original.apply(client, args).catch((e: unknown) => {
        const err = e as { message?: unknown };
        if (typeof err?.message === 'string' && RECOVERABLE_SCRIPT_ERRORS.test(err.message)) err.message = err.message.slice(4);
        throw e;
      });
      if (cb) p.then((r) => cb(null, r), (e: unknown) => cb(e));
      return p;
    };
  };
  return client;
}

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, OPTION_DEFS, formatBytes, helpText, parseArgs, parseBytes, parseDuration } from '../src/config.js';
import { VERSION } from '../src/version.js';
import pkg from '../package.json' with { type: 'json' };

describe('configuration', () => {
  it('has defaults for every limit', () => {
    const { config } = parseArgs([], {});
    expect(config).toMatchObject({ transport: 'stdio', host: '127.0.0.1', defaultTailLines: 2000, defaultWindowMs: 3_600_000, maxTailLines: 20000, maxWindowMs: 7 * 86_400_000, kubeletDeadlineMs: 30_000 });
    expect(config.kubeconfig).toBeUndefined();
  });

  it('flag beats environment beats default', () => {
    expect(parseArgs([], { KUBE_NODE_LOGS_MAX_TAIL_LINES: '500' }).config).toMatchObject({ maxTailLines: 500, defaultTailLines: 500 });
    expect(() => parseArgs(['--default-tail-lines', '900', '--max-tail-lines', '500'], {})).toThrow(/larger than --max-tail-lines/);
    expect(parseArgs(['--max-tail-lines', '700'], { KUBE_NODE_LOGS_MAX_TAIL_LINES: '500' }).config.maxTailLines).toBe(700);
    expect(parseArgs(['--max-tail-lines=900'], {}).config.maxTailLines).toBe(900);
    expect(parseArgs([], { KUBECONFIG: '/a:/b' }).config.kubeconfig).toBe('/a:/b');
  });

  it('keeps file reads within the per-node byte cap', () => {
    expect(parseArgs(['--max-bytes-per-node', '2MiB'], {}).config).toMatchObject({ maxBytesPerNode: 2 << 20, maxFileBytes: 2 << 20, fileTailBytes: 256 << 10 });
    expect(parseArgs(['--max-bytes-per-node', '128KiB'], {}).config).toMatchObject({ maxFileBytes: 128 << 10, fileTailBytes: 128 << 10 });
    expect(() => parseArgs(['--max-bytes-per-node', '2MiB', '--max-file-bytes', '4MiB'], {})).toThrow(/--max-file-bytes \(4MiB\) is larger than --max-bytes-per-node \(2MiB\)/);
  });

  it('treats an MCPB placeholder as unset', () => {
    const { config } = parseArgs(['--context', '${user_config.context}'], { KUBECONFIG: '${user_config.kubeconfig}' });
    expect(config.kubeconfig).toBeUndefined();
    expect(config.context).toBeUndefined();
  });

  it('parses durations and sizes', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseBytes('32MiB')).toBe(32 * 1024 * 1024);
    expect(parseBytes('256k')).toBe(256 * 1024);
    expect(parseBytes('lots')).toBeUndefined();
  });

  it('names the problem and the fix for bad values and unknown flags', () => {
    expect(() => parseArgs(['--max-tail-lines', 'many'], {})).toThrow(/--max-tail-lines.*"many" is not a whole number/);
    expect(() => parseArgs(['--max-tail-lines', '0'], {})).toThrow(/at least 1/);
    expect(() => parseArgs(['--tail'], {})).toThrow(ConfigError);
    expect(() => parseArgs(['--tail'], {})).toThrow(/Unknown option --tail.*--help/);
    expect(() => parseArgs(['--default-window', 'a while'], {})).toThrow(/duration such as 30s/);
    expect(() => parseArgs(['--transport', 'carrier-pigeon'], {})).toThrow(/one of stdio, http/);
    expect(() => parseArgs(['--output-chars', '90000', '--max-output-chars', '60000'], {})).toThrow(/larger than --max-output-chars/);
  });

  it('lists every option with its environment variable in --help', () => {
    const help = helpText(VERSION);
    for (const d of OPTION_DEFS) {
      expect(help).toContain(d.flag);
      expect(help).toContain(d.env);
    }
  });

  it('documents every option in the README, with the same default', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const d of OPTION_DEFS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${d.flag}\` |`));
      expect(row, d.flag).toBeDefined();
      expect(row).toContain(`\`${d.env}\``);
      const def = d.default === undefined ? '–' : d.kind === 'bytes' ? formatBytes(Number(d.default)) : String(d.default);
      expect(row).toContain(`| ${def} |`);
    }
  });

  it('takes a Redis URL only for the HTTP transport, and never with a password on the command line', () => {
    const http = ['--transport', 'http'];
    expect(parseArgs([...http, '--redis-url', 'redis://redis.ns.svc:6379'], {}).config).toMatchObject({ redisUrl: 'redis://redis.ns.svc:6379', redisFallback: 'reject', redisSlotMarginMs: 10_000 });
    expect(() => parseArgs(['--redis-url', 'redis://127.0.0.1:6379'], {})).toThrow(/need --transport http/);
    expect(() => parseArgs([], { KUBE_NODE_LOGS_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/need --transport http/);
    const secret = 'redis://:s3cret@redis:6379';
    let err: unknown;
    try {
      parseArgs([...http, '--redis-url', secret], {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/password.*process list.*KUBE_NODE_LOGS_REDIS_URL.*--redis-url-file/);
    expect((err as Error).message).not.toContain('s3cret');
    // The same URL through the environment is fine.
    expect(parseArgs(http, { KUBE_NODE_LOGS_REDIS_URL: secret }).config.redisUrl).toBe(secret);
    expect(() => parseArgs([...http, '--redis-url', 'http://redis:6379'], {})).toThrow(/scheme http: is not supported; use redis:\/\/ or rediss:\/\//);
    expect(() => parseArgs([...http, '--redis-url', 'redis://a:1', '--redis-url-file', '/x'], {})).toThrow(/keep one/);
    expect(() => parseArgs([...http, '--redis-fallback', 'open'], {})).toThrow(/one of reject, local/);
  });

  it('keeps the version in step with package.json', () => {
    expect(VERSION).toBe(pkg.version);
  });

  it('takes the summarize subcommand with a file', () => {
    expect(parseArgs(['summarize', '/tmp/x.log'], {}).summarize).toEqual({ file: '/tmp/x.log' });
    expect(parseArgs(['summarize'], {}).summarize).toEqual({});
    expect(parseArgs(['summarize', '--format', 'assignments', '/tmp/x.log'], {}).summarize).toEqual({ file: '/tmp/x.log', format: 'assignments' });
    expect(parseArgs(['summarize', '--format=lines'], {}).summarize).toEqual({ format: 'lines' });
    expect(() => parseArgs(['summarize', '--format', 'xml'], {})).toThrow(/--format must be one of summary, lines, assignments \(got "xml"\)/);
  });
});

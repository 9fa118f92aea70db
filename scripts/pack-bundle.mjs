#!/usr/bin/env node
/**
 * Builds the Claude Desktop bundle (.mcpb): a staging directory with manifest.json, package.json, dist/
 * and the production dependency tree, then `mcpb pack` (which validates the manifest first).
 *
 * The production tree is copied from node_modules, package by package, as package-lock.json lists it
 * (every entry not marked dev). That works offline and matches the lockfile exactly, which
 * `npm ci --omit=dev` would too but only with a reachable registry or a warm cache.
 *
 * Usage: node scripts/pack-bundle.mjs [--out FILE.mcpb] [--staging DIR] [--quiet]
 * (`npm run pack` builds dist first.)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`pack-bundle: ${message}\n`);
  process.exit(1);
}

function parseCli(argv) {
  const opts = { out: undefined, staging: undefined, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') opts.out = argv[++i];
    else if (a === '--staging') opts.staging = argv[++i];
    else if (a === '--quiet') opts.quiet = true;
    else fail(`unknown argument ${a}; usage: pack-bundle.mjs [--out FILE.mcpb] [--staging DIR] [--quiet]`);
  }
  return opts;
}

/** Lockfile entries needed at run time: "node_modules/a", "node_modules/a/node_modules/b", … */
export function productionPackages(lock) {
  if (!lock.packages) throw new Error('package-lock.json has no "packages" map (lockfileVersion 2 or later is needed)');
  return Object.entries(lock.packages)
    .filter(([key, entry]) => key.startsWith('node_modules/') && !entry.dev && !entry.link && !entry.extraneous)
    .map(([key, entry]) => ({ key, optional: Boolean(entry.optional || entry.devOptional) }));
}

/** Type declarations, sources, maps and docs are dead weight at run time; licence texts must travel. */
const DROP = /\.(map|d\.[cm]?ts|[cm]?ts|md|markdown)$/i;
const KEEP = /^(licen[cs]e|notice|copying)/i;
const wanted = (src) => KEEP.test(path.basename(src)) || !DROP.test(src);

function copyPackage(key, staging) {
  const from = path.join(root, key);
  const to = path.join(staging, key);
  const nested = path.join(from, 'node_modules');
  // Nested node_modules are lockfile entries of their own; copying them here would bring dev-only ones.
  cpSync(from, to, { recursive: true, dereference: true, filter: (src) => src !== nested && wanted(src) });
}

function runMcpb(args, quiet) {
  // The package's exports hide package.json, so read it from where npm installs dev dependencies.
  const pkgJson = path.join(root, 'node_modules', '@anthropic-ai', 'mcpb', 'package.json');
  if (!existsSync(pkgJson)) fail('@anthropic-ai/mcpb is not installed: run "npm ci" (it is a dev dependency)');
  const bin = JSON.parse(readFileSync(pkgJson, 'utf8')).bin;
  const cli = path.join(path.dirname(pkgJson), typeof bin === 'string' ? bin : bin.mcpb);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  if (!quiet || r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
  }
  if (r.status !== 0) fail(`mcpb ${args[0]} failed (exit ${r.status})`);
}

function main() {
  const opts = parseCli(process.argv.slice(2));
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(path.join(root, 'manifest.json'), 'utf8'));
  if (manifest.version !== pkg.version) fail(`manifest.json version ${manifest.version} differs from package.json ${pkg.version}`);
  if (!existsSync(path.join(root, manifest.server.entry_point))) fail(`${manifest.server.entry_point} is missing: run "npm run build" (or "npm run pack", which builds).`);
  const lockPath = path.join(root, 'package-lock.json');
  if (!existsSync(lockPath)) fail('package-lock.json is missing');

  const staging = opts.staging ? path.resolve(opts.staging) : mkdtempSync(path.join(tmpdir(), 'kube-node-logs-mcpb-'));
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    for (const f of ['manifest.json', '.mcpbignore', 'LICENSE', 'README.md']) {
      if (existsSync(path.join(root, f))) cpSync(path.join(root, f), path.join(staging, f));
    }
    const { devDependencies: _dev, scripts: _scripts, ...runtimePkg } = pkg;
    writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(runtimePkg, null, 2)}\n`);
    cpSync(path.join(root, 'dist'), path.join(staging, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });

    const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
    let copied = 0;
    for (const { key, optional } of productionPackages(lock)) {
      if (!existsSync(path.join(root, key))) {
        if (optional) continue; // an optional dependency for another platform
        fail(`${key} is in package-lock.json but not installed: run "npm ci" first`);
      }
      copyPackage(key, staging);
      copied++;
    }

    const out = path.resolve(opts.out ?? path.join(root, `${pkg.name}-${pkg.version}.mcpb`));
    mkdirSync(path.dirname(out), { recursive: true });
    runMcpb(['pack', staging, out], opts.quiet);
    const size = statSync(out).size;
    process.stdout.write(`pack-bundle: ${out} (${(size / 1048576).toFixed(1)} MiB; ${copied} production packages)\n`);
  } finally {
    if (!opts.staging) rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

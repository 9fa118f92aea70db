#!/usr/bin/env node
/**
 * Second half of `npm run build` (after tsc has type-checked and emitted dist/): bundles the entry point
 * into dist/index.js plus dist/chunks/, so that start-up reads a handful of files instead of the ~450
 * modules of zod and the MCP SDK (spawn → tools/list about 2–3× faster, see bench/startup.ts).
 * Code splitting keeps the lazy parts lazy: the server path, the HTTP stack, the sandbox (--demo) and the
 * cluster client each stay behind their dynamic import. Only what start-up reads is bundled (zod, the MCP
 * SDK, bottleneck); every other dependency stays an ordinary import from node_modules, so heavy or native
 * packages (the Kubernetes client, prom-client, …) load as their authors ship them, when first used.
 */
import { rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
export const BUNDLED = ['zod', '@modelcontextprotocol/sdk', 'bottleneck'];
const external = Object.keys(pkg.dependencies).filter((d) => !BUNDLED.includes(d));

const dist = path.join(root, 'dist');
rmSync(path.join(dist, 'chunks'), { recursive: true, force: true });
rmSync(path.join(dist, 'index.js.map'), { force: true }); // tsc's map of the file replaced below
await build({
  entryPoints: { index: path.join(root, 'src', 'index.ts') },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: [...external, ...external.map((d) => `${d}/*`)],
  // Bundled CommonJS packages (ajv, bottleneck) call require() for Node built-ins.
  banner: { js: "import { createRequire as __knlCreateRequire } from 'node:module';\nconst require = __knlCreateRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});

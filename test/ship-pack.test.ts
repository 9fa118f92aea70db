import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What `npm publish` would ship, from `npm pack --dry-run --json` on the built tree: exactly the modules the
 * runtime can reach from the bin entry (the bundle of scripts/bundle.mjs, the sandbox included: `--demo`
 * serves it), README, LICENSE and package.json; no tests, fixtures, TypeScript sources, source maps, tsc's
 * unbundled modules, the scripted demo or the sandbox CLI.
 */
const root = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
let packed: string[];
let dir: string;

/** Every dist module reachable from `entry` through relative static imports, side-effect imports and import(). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g))
      todo.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)));
  }
  return seen;
}

beforeAll(() => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  expect(r.status, r.stderr).toBe(0);
  packed = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships README, LICENSE (Apache-2.0 full text) and package.json', () => {
    expect(packed).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
    expect(pkg.license).toBe('Apache-2.0');
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license.length).toBeGreaterThan(10_000);
  });

  it('ships exactly what the runtime reaches from the bin entry (summarize and --demo included), nothing else', () => {
    const entry = pkg.bin['kube-node-logs-mcp'] as string;
    expect(entry).toBe('dist/index.js');
    const needed = reachable(entry);
    // scripts/bundle.mjs: the entry plus chunks, the lazy parts each behind a dynamic import.
    for (const lazy of ['server', 'sandbox', 'http-server', 'connect', 'summarize-cli'])
      expect([...needed].some((f) => f.startsWith(`dist/chunks/${lazy}-`)), lazy).toBe(true);
    const shipped = packed.filter((f) => !['LICENSE', 'README.md', 'package.json'].includes(f));
    expect(shipped.filter((f) => !needed.has(f))).toEqual([]);
    expect([...needed].filter((f) => !packed.includes(f))).toEqual([]);
    expect(packed.filter((f) => /(^|\/)(test|tests|bench|fixtures|src)\/|\.ts$|\.map$/.test(f))).toEqual([]);
  });

  it('the shipped files alone start the server (--version, and summarize over stdin)', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pack-'));
    for (const f of packed) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      cpSync(path.join(root, f), path.join(dir, f));
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    const version = spawnSync(process.execPath, [path.join(dir, 'dist/index.js'), '--version'], { encoding: 'utf8' });
    expect(version.stdout.trim()).toBe(pkg.version);
    const summary = spawnSync(process.execPath, [path.join(dir, 'dist/index.js'), 'summarize'], {
      encoding: 'utf8',
      input: 'Nov 30 10:00:00 worker-1 kubelet[1]: E1130 10:00:00.000000 1 pod_workers.go:1 "Error syncing pod" pod="a/b"\n'.repeat(3),
    });
    expect(summary.status, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/Error syncing pod/);
    expect(existsSync(path.join(dir, 'dist/demo'))).toBe(false);
    expect(existsSync(path.join(dir, 'dist/sandbox'))).toBe(false); // bundled into a chunk
  });

  it('carries the metadata a registry page needs', () => {
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/.+\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs?.url).toMatch(/^https:\/\/.+\/issues$/);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['mcp', 'kubernetes', 'kubelet']));
  });

  it('engines names the Node lines .ci/run tests, and the README says the same', () => {
    const ci = readFileSync(path.join(root, '.ci/run'), 'utf8');
    const pinned = readFileSync(path.join(root, 'scripts/node-bin.mjs'), 'utf8');
    const majors = [20, ...[...pinned.matchAll(/^\s+(\d\d): '\d+\.\d+\.\d+',$/gm)].map((m) => Number(m[1]))].sort();
    expect(majors).toEqual([20, 22, 24, 26]);
    expect(pkg.engines.node).toBe(majors.map((m) => (m === 20 ? '^20.19.0' : `^${m}.0.0`)).join(' || '));
    for (const m of [22, 24, 26]) expect(ci).toContain(`node scripts/node-bin.mjs ${m}`);
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain('Supported Node.js versions: 20.19+, 22, 24 and 26');
  });
});

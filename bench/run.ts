/**
 * `npm run bench`: every benchmark in turn, each printing its own figures (throughput next to a baseline
 * measured in the same run, peak RSS, limits observed). Nothing here asserts on time.
 * Run one with `npx tsx bench/<name>.ts`, or a subset with `npm run bench -- pipeline fanout`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ALL = ['startup', 'ga', 'pipeline', 'answers', 'fanout', 'load', 'soak', 'replicas'];
const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ALL;

let failed = 0;
for (const name of wanted) {
  const file = path.join(here, `${name}.ts`);
  if (!existsSync(file)) {
    process.stdout.write(`\n== ${name}: not present, skipped\n`);
    continue;
  }
  process.stdout.write(`\n== ${name}\n`);
  const started = Date.now();
  try {
    const mod = (await import(file)) as { main?: () => Promise<unknown> };
    if (typeof mod.main !== 'function') throw new Error(`bench/${name}.ts exports no main()`);
    await mod.main();
    process.stdout.write(`== ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`== ${name}: FAILED: ${(err as Error)?.stack ?? String(err)}\n`);
  }
}
process.exit(failed ? 1 : 0);
